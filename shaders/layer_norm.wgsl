// layer_norm.wgsl: fused LayerNorm forward over the last axis of a contiguous [rows, dim] matrix:
//   y = (x − mean)·rstd·gamma + beta,  rstd = 1/sqrt(var + eps)  (biased variance, as in PyTorch).
// One workgroup per row; two passes (mean, then centred variance) with fixed-shape trees: deterministic.
// The backward (layer_norm_backward.wgsl) recomputes mean and rstd rather than storing them.
// Bindings: @group(0) 0 x, 1 gamma [dim], 2 beta [dim]: f32 (read); 3 y: f32 (read_write); @group(1) 0 Params.
// Grid: rows workgroups (split over x and y above 65535). layer_norm_rows (short rows): one invocation per
// row, sequential sums in index order (also deterministic); grid ceil(rows / WG) workgroups.

override WG: u32 = 64u;

struct Params { rows: u32, dim: u32, eps: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

// #include "lib/workgroup_sum.wgsl"

@compute @workgroup_size(WG)
fn layer_norm(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
             @builtin(num_workgroups) nwg: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  let valid = row < p.rows && (row + 1u) * p.dim <= arrayLength(&x);
  let base = row * p.dim;
  var s = 0.0;
  if (valid) { for (var j = lid.x; j < p.dim; j += WG) { s += x[base + j]; } }
  let mean = workgroup_sum(s, lid.x) / f32(p.dim);
  var v = 0.0;
  if (valid) { for (var j = lid.x; j < p.dim; j += WG) { let c = x[base + j] - mean; v += c * c; } }
  let rstd = inverseSqrt(workgroup_sum(v, lid.x) / f32(p.dim) + p.eps);
  if (!valid) { return; }
  for (var j = lid.x; j < p.dim; j += WG) {
    if (base + j < arrayLength(&y)) { y[base + j] = (x[base + j] - mean) * rstd * gamma[j] + beta[j]; }
  }
}

@compute @workgroup_size(WG)
fn layer_norm_rows(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
                  @builtin(num_workgroups) nwg: vec3u) {
  let row = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (row >= p.rows || (row + 1u) * p.dim > arrayLength(&x)) { return; }
  let base = row * p.dim;
  let n = f32(p.dim);
  var s = 0.0;
  for (var j = 0u; j < p.dim; j++) { s += x[base + j]; }
  let mean = s / n;
  var v = 0.0;
  for (var j = 0u; j < p.dim; j++) { let c = x[base + j] - mean; v += c * c; }
  let rstd = inverseSqrt(v / n + p.eps);
  for (var j = 0u; j < p.dim; j++) {
    if (base + j < arrayLength(&y)) { y[base + j] = (x[base + j] - mean) * rstd * gamma[j] + beta[j]; }
  }
}
