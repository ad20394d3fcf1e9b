// sgd.wgsl: SGD with momentum (PyTorch's formulation), in place, one element per invocation:
//   g' = g + wd·p;   v ← μ·v + g';   p ← p − lr·v      (μ = 0: plain SGD, v = g')
// Bindings: @group(0) 0 grad: f32 (read); 1 param, 2 velocity: f32 (read_write); @group(1) 0 Params.
// Grid: ceil(n / WG), split over x and y above 65535.

override WG: u32 = 256u;

struct Params { n: u32, lr: f32, momentum: f32, wd: f32 }

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> velocity: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n || i >= arrayLength(&grad) || i >= arrayLength(&param) || i >= arrayLength(&velocity)) { return; }
  let v = p.momentum * velocity[i] + grad[i] + p.wd * param[i];
  velocity[i] = v;
  param[i] = param[i] - p.lr * v;
}
