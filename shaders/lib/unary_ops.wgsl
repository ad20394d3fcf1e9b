// lib/unary_ops.wgsl: the unary functions, apply(x) by the includer's OP override (codes in src/reference.ts,
// UNARY) and its Params `p` (alpha: pow_scalar's exponent, mul_scalar's and add_scalar's scalar). Included by
// unary.wgsl (one element per invocation) and unary_vec4.wgsl (four).
const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_C: f32 = 0.044715;

// Stable for large |x|: never forms inf / inf.
fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

fn tanh_stable(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}

// log(1 + x) without cancellation for small x (Goldberg's trick).
fn log1p(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log(u) * x / (u - 1.0);
}

// x^alpha; integer alpha keeps the sign of negative x, like torch.pow.
fn pow_scalar(x: f32, alpha: f32) -> f32 {
  if (alpha == 0.0) { return 1.0; }
  let m = pow(abs(x), alpha);
  if (x >= 0.0) { return m; }
  // A var, not a constant: WGSL rejects NaN in constant expressions.
  var nan_bits = 0x7fc00000u;
  if (fract(alpha) != 0.0) { return bitcast<f32>(nan_bits); }
  if (fract(alpha * 0.5) != 0.0) { return -m; }
  return m;
}

fn apply(x: f32) -> f32 {
  switch OP {
    case 0u: { return -x; }
    case 1u: { return abs(x); }
    case 2u: { return exp(x); }
    case 3u: { return log(x); }
    case 4u: { return log1p(x); }
    case 5u: { return sqrt(x); }
    case 6u: { return sigmoid(x); }
    case 7u: { return tanh_stable(x); }
    case 8u: { return max(x, 0.0); }
    case 9u: { return 0.5 * x * (1.0 + tanh_stable(SQRT_2_OVER_PI * (x + GELU_C * x * x * x))); }
    case 10u: { return x * sigmoid(x); }
    case 11u: { return pow_scalar(x, p.alpha); }
    case 12u: { return p.alpha * x; }
    case 13u: { return sign(x); }
    case 14u: { return select(0.0, 1.0, x > 0.0); }
    case 15u: {
      let t = tanh_stable(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
      return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_C * x * x);
    }
    case 16u: {
      let s = sigmoid(x);
      return s * (1.0 + x * (1.0 - s));
    }
    case 17u: { return x + p.alpha; }
    default: { return x; }
  }
}
