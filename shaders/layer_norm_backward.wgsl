// layer_norm_backward.wgsl: fused LayerNorm backward for one row per workgroup. With x̂ = (x − mean)·rstd
// (recomputed, as in layer_norm.wgsl) and g = dy·gamma:
//   dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),   dyxhat = dy·x̂   (summed over rows by the op: dgamma)
// dbeta is the row sum of dy, also taken by the op. Fixed-shape trees: deterministic.
// Bindings: @group(0) 0 x, 1 gamma [dim], 2 dy: f32 (read); 3 dx, 4 dyxhat: f32 (read_write); @group(1) 0 Params.
// Grid: rows workgroups (split over x and y above 65535). layer_norm_backward_rows (short rows): one
// invocation per row, sequential sums in index order; grid ceil(rows / WG) workgroups.

override WG: u32 = 64u;

struct Params { rows: u32, dim: u32, eps: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<storage, read_write> dyxhat: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

// #include "lib/workgroup_sum.wgsl"

@compute @workgroup_size(WG)
fn layer_norm_backward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
                      @builtin(num_workgroups) nwg: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  let valid = row < p.rows && (row + 1u) * p.dim <= min(arrayLength(&x), arrayLength(&dy));
  let base = row * p.dim;
  let n = f32(p.dim);
  var s = 0.0;
  if (valid) { for (var j = lid.x; j < p.dim; j += WG) { s += x[base + j]; } }
  let mean = workgroup_sum(s, lid.x) / n;
  var v = 0.0;
  if (valid) { for (var j = lid.x; j < p.dim; j += WG) { let c = x[base + j] - mean; v += c * c; } }
  let rstd = inverseSqrt(workgroup_sum(v, lid.x) / n + p.eps);
  var sg = 0.0;
  var sgx = 0.0;
  if (valid) {
    for (var j = lid.x; j < p.dim; j += WG) {
      let g = dy[base + j] * gamma[j];
      sg += g;
      sgx += g * (x[base + j] - mean) * rstd;
    }
  }
  let mean_g = workgroup_sum(sg, lid.x) / n;
  let mean_gx = workgroup_sum(sgx, lid.x) / n;
  if (!valid) { return; }
  for (var j = lid.x; j < p.dim; j += WG) {
    let xhat = (x[base + j] - mean) * rstd;
    if (base + j < arrayLength(&dx)) { dx[base + j] = rstd * (dy[base + j] * gamma[j] - mean_g - xhat * mean_gx); }
    if (base + j < arrayLength(&dyxhat)) { dyxhat[base + j] = dy[base + j] * xhat; }
  }
}

@compute @workgroup_size(WG)
fn layer_norm_backward_rows(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
                           @builtin(num_workgroups) nwg: vec3u) {
  let row = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (row >= p.rows || (row + 1u) * p.dim > min(arrayLength(&x), arrayLength(&dy))) { return; }
  let base = row * p.dim;
  let n = f32(p.dim);
  var s = 0.0;
  for (var j = 0u; j < p.dim; j++) { s += x[base + j]; }
  let mean = s / n;
  var v = 0.0;
  for (var j = 0u; j < p.dim; j++) { let c = x[base + j] - mean; v += c * c; }
  let rstd = inverseSqrt(v / n + p.eps);
  var sg = 0.0;
  var sgx = 0.0;
  for (var j = 0u; j < p.dim; j++) {
    let g = dy[base + j] * gamma[j];
    sg += g;
    sgx += g * (x[base + j] - mean) * rstd;
  }
  let mean_g = sg / n;
  let mean_gx = sgx / n;
  for (var j = 0u; j < p.dim; j++) {
    let xhat = (x[base + j] - mean) * rstd;
    if (base + j < arrayLength(&dx)) { dx[base + j] = rstd * (dy[base + j] * gamma[j] - mean_g - xhat * mean_gx); }
    if (base + j < arrayLength(&dyxhat)) { dyxhat[base + j] = dy[base + j] * xhat; }
  }
}
