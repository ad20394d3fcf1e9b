// lib/layer_norm_row_stats_vec4.wgsl: a row's mean and 1/std for layer_norm_rows_vec4.wgsl and
// layer_norm_backward_rows_vec4.wgsl (after their Params p and their vec4 binding x): the sums column by column
// in index order, as the scalar per-row kernels take them.
fn row_stats(base: u32, d4: u32) -> vec2f {
  let n = f32(p.dim);
  var s = 0.0;
  for (var j = 0u; j < d4; j++) { let v = x[base + j]; s += v.x; s += v.y; s += v.z; s += v.w; }
  let mean = s / n;
  var q = 0.0;
  for (var j = 0u; j < d4; j++) {
    let c = x[base + j] - mean;
    q += c.x * c.x; q += c.y * c.y; q += c.z * c.z; q += c.w * c.w;
  }
  return vec2f(mean, inverseSqrt(q / n + p.eps));
}
