// layer_norm_rows_vec4.wgsl: layer_norm.wgsl's layer_norm_rows (one invocation per row) for dim % 4 == 0, loading
// and storing four columns at a time. The sums still add one column after the other, in index order: the same
// bits as layer_norm_rows.
// Bindings: @group(0) 0 x [rows, dim/4], 1 gamma [dim/4], 2 beta [dim/4]: vec4f (read); 3 y: vec4f (read_write);
// @group(1) 0 Params. Grid: ceil(rows / WG) workgroups.

override WG: u32 = 64u;

struct Params { rows: u32, dim: u32, eps: f32 }

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> gamma: array<vec4f>;
@group(0) @binding(2) var<storage, read> beta: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;
@group(1) @binding(0) var<uniform> p: Params;

// #include "lib/layer_norm_row_stats_vec4.wgsl"

@compute @workgroup_size(WG)
fn layer_norm_rows_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
                        @builtin(num_workgroups) nwg: vec3u) {
  let row = (wid.x + wid.y * nwg.x) * WG + lid.x;
  let d4 = p.dim / 4u;
  if (row >= p.rows || (row + 1u) * d4 > arrayLength(&x)) { return; }
  let base = row * d4;
  let stats = row_stats(base, d4);
  let mean = stats.x;
  let rstd = stats.y;
  for (var j = 0u; j < d4; j++) {
    if (base + j < arrayLength(&y)) { y[base + j] = (x[base + j] - mean) * rstd * gamma[j] + beta[j]; }
  }
}
