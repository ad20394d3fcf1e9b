// adam.wgsl: fused Adam / AdamW update, in place, one element per invocation (PyTorch's formulation):
//   g' = g + wd·p            (Adam with L2, decoupled = 0)     p ← p·(1 − lr·wd)   (AdamW, decoupled = 1)
//   m ← β1·m + (1 − β1)·g'   v ← β2·v + (1 − β2)·g'²
//   p ← p − lr · (m / bc1) / (sqrt(v / bc2) + eps),  bc1 = 1 − β1^t, bc2 = 1 − β2^t (computed on the host)
// Bindings: @group(0) 0 grad: f32 (read); 1 param, 2 m, 3 v: f32 (read_write); @group(1) 0 Params.
// Grid: ceil(n / WG), split over x and y above 65535.

override WG: u32 = 256u;

struct Params { n: u32, decoupled: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, wd: f32, bc1: f32, bc2: f32 }

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

// #include "lib/adam_step.wgsl"

@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n || i >= arrayLength(&grad) || i >= arrayLength(&param) || i >= arrayLength(&m) || i >= arrayLength(&v)) { return; }
  let s = adam_step(param[i], grad[i], m[i], v[i]);
  param[i] = s.x;
  m[i] = s.y;
  v[i] = s.z;
}
