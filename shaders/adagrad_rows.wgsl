// adagrad_rows.wgsl: row-wise Adagrad for embedding tables (one accumulator per row, as in DLRM), on the
// rows of a row-sparse gradient, in place:
//   s[r] ← s[r] + mean_d(g[r, d]²);   p[r, d] ← p[r, d] − lr · g[r, d] / (sqrt(s[r]) + eps)
// One invocation per touched row; the row mean is summed in index order (deterministic).
// Bindings: @group(0) 0 values: f32 [U, dim], 1 rows: u32 [U] (read); 2 param: f32 [R, dim],
// 3 state: f32 [R] (read_write); @group(1) 0 Params.
// Grid: ceil(U / WG), split over x and y above 65535.

override WG: u32 = 64u;

struct Params { unique: u32, dim: u32, lr: f32, eps: f32 }

@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read> rows: array<u32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> state: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn adagrad_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let u = gid.x + gid.y * nwg.x * WG;
  if (u >= p.unique || u >= arrayLength(&rows) || (u + 1u) * p.dim > arrayLength(&values)) { return; }
  let r = rows[u];
  if (r >= arrayLength(&state) || (r + 1u) * p.dim > arrayLength(&param)) { return; }
  var sq = 0.0;
  for (var d = 0u; d < p.dim; d++) { let g = values[u * p.dim + d]; sq += g * g; }
  let s = state[r] + sq / f32(p.dim);
  state[r] = s;
  let step = p.lr / (sqrt(s) + p.eps);
  for (var d = 0u; d < p.dim; d++) { param[r * p.dim + d] -= step * values[u * p.dim + d]; }
}
