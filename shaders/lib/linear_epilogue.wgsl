// lib/linear_epilogue.wgsl: the bias and output bindings and the epilogue of linear.wgsl and
// linear_sg.wgsl (after their Params and their a, b bindings): out = act(product + bias[column]), the
// product already rounded to f32 as a separate add kernel would see it. ACT 0 none, 1 relu.
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;
@group(1) @binding(0) var<uniform> p: Params;

override ACT: u32 = 0u;

fn epilogue(v: vec4f, col4: u32) -> vec4f {
  let y = v + bias[min(col4, arrayLength(&bias) - 1u)];
  if (ACT == 1u) { return max(y, vec4f(0.0)); }
  return y;
}
