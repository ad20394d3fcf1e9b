// layer_norm_backward_rows_vec4.wgsl: layer_norm_backward.wgsl's layer_norm_backward_rows (one invocation per
// row) for dim % 4 == 0, loading and storing four columns at a time. The sums still add one column after the
// other, in index order, and each element sees the scalar kernel's operations in its order: the same bits.
//   dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),   dyxhat = dy·x̂,   g = dy·gamma
// Bindings: @group(0) 0 x [rows, dim/4], 1 gamma [dim/4], 2 dy [rows, dim/4]: vec4f (read); 3 dx, 4 dyxhat: vec4f
// (read_write); @group(1) 0 Params. Grid: ceil(rows / WG) workgroups.

override WG: u32 = 64u;

struct Params { rows: u32, dim: u32, eps: f32 }

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> gamma: array<vec4f>;
@group(0) @binding(2) var<storage, read> dy: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dx: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dyxhat: array<vec4f>;
@group(1) @binding(0) var<uniform> p: Params;

// #include "lib/layer_norm_row_stats_vec4.wgsl"

@compute @workgroup_size(WG)
fn layer_norm_backward_rows_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
                                 @builtin(num_workgroups) nwg: vec3u) {
  let row = (wid.x + wid.y * nwg.x) * WG + lid.x;
  let d4 = p.dim / 4u;
  if (row >= p.rows || (row + 1u) * d4 > min(arrayLength(&x), arrayLength(&dy))) { return; }
  let base = row * d4;
  let stats = row_stats(base, d4);
  let mean = stats.x;
  let rstd = stats.y;
  var sg = 0.0;
  var sgx = 0.0;
  for (var j = 0u; j < d4; j++) {
    let g = dy[base + j] * gamma[j];
    let t = g * (x[base + j] - mean) * rstd;
    sg += g.x; sg += g.y; sg += g.z; sg += g.w;
    sgx += t.x; sgx += t.y; sgx += t.z; sgx += t.w;
  }
  let mean_g = sg / f32(p.dim);
  let mean_gx = sgx / f32(p.dim);
  for (var j = 0u; j < d4; j++) {
    let xhat = (x[base + j] - mean) * rstd;
    let d = dy[base + j];
    if (base + j < arrayLength(&dx)) { dx[base + j] = rstd * (d * gamma[j] - mean_g - xhat * mean_gx); }
    if (base + j < arrayLength(&dyxhat)) { dyxhat[base + j] = d * xhat; }
  }
}
