// scatter_rows.wgsl: writes a row-sparse gradient into a dense [R, dim] tensor that the caller zeroed:
//   dense[rows[u], d] = values[u, d]
// Rows are unique (see embedding_bag_backward.wgsl), so no two invocations write one element: no atomics.
// Bindings: @group(0) 0 values: f32 [unique, dim], 1 rows: u32 [unique] (read); 2 dense: f32 [R, dim]
// (read_write); @group(1) 0 Params.
// Grid: ceil(unique * dim / WG), split over x and y above 65535.

override WG: u32 = 256u;

struct Params { unique: u32, dim: u32 }

@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read> rows: array<u32>;
@group(0) @binding(2) var<storage, read_write> dense: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn scatter_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.unique * p.dim || i >= arrayLength(&values) || i / p.dim >= arrayLength(&rows)) { return; }
  let t = rows[i / p.dim] * p.dim + i % p.dim;
  if (t < arrayLength(&dense)) { dense[t] = values[i]; }
}
