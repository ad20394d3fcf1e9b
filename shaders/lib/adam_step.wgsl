// lib/adam_step.wgsl: one element's Adam / AdamW update (PyTorch's formulation) from the includer's Params
// `p` (decoupled, lr, beta1, beta2, eps, wd, bc1, bc2): returns (param, m, v) after the step. Included by
// adam.wgsl (dense) and adam_rows.wgsl (the rows of a row-sparse gradient).
fn adam_step(w0: f32, g0: f32, m0: f32, v0: f32) -> vec3f {
  var w = w0;
  var g = g0;
  if (p.decoupled == 1u) { w = w * (1.0 - p.lr * p.wd); } else { g = g + p.wd * w; }
  let m = p.beta1 * m0 + (1.0 - p.beta1) * g;
  let v = p.beta2 * v0 + (1.0 - p.beta2) * g * g;
  return vec3f(w - p.lr * (m / p.bc1) / (sqrt(v / p.bc2) + p.eps), m, v);
}
