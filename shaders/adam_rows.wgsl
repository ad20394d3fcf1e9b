// adam_rows.wgsl: Adam / AdamW on the rows of a row-sparse gradient only (rows unique), in place: the
// same update as adam.wgsl for element (rows[u], d) with g = values[u, d]. Untouched rows keep their
// parameters and moments (lazy Adam, as PyTorch's SparseAdam).
// Bindings: @group(0) 0 values: f32 [U, dim], 1 rows: u32 [U] (read); 2 param, 3 m, 4 v: f32 [R, dim]
// (read_write); @group(1) 0 Params.
// Grid: ceil(U·dim / WG), split over x and y above 65535.

override WG: u32 = 256u;

struct Params { n: u32, dim: u32, decoupled: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, wd: f32, bc1: f32, bc2: f32 }

@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read> rows: array<u32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

// #include "lib/adam_step.wgsl"

@compute @workgroup_size(WG)
fn adam_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = gid.x + gid.y * nwg.x * WG;
  if (j >= p.n || j >= arrayLength(&values) || j / p.dim >= arrayLength(&rows)) { return; }
  let i = rows[j / p.dim] * p.dim + j % p.dim;
  if (i >= arrayLength(&param) || i >= arrayLength(&m) || i >= arrayLength(&v)) { return; }
  let s = adam_step(param[i], values[j], m[i], v[i]);
  param[i] = s.x;
  m[i] = s.y;
  v[i] = s.z;
}
