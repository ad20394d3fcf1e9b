// lib/binary_ops.wgsl: the binary functions, apply(x, y) by the includer's OP override (codes in src/reference.ts,
// BINARY). Included by binary.wgsl (strided, any broadcast) and binary_vec4.wgsl (contiguous or row broadcast).
fn apply(x: f32, y: f32) -> f32 {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    case 4u: { return max(x, y); }
    case 5u: { return min(x, y); }
    case 6u: { return select(0.0, 1.0, x == y); }
    case 7u: { return select(0.0, 1.0, x > y); }
    // Gradient mask of maximum(x, y) w.r.t. x: ties split the gradient evenly.
    case 8u: { return select(select(0.0, 0.5, x == y), 1.0, x > y); }
    // relu's backward, the gradient x masked where the input y is not positive: x · step(y) in one pass.
    case 9u: { return x * select(0.0, 1.0, y > 0.0); }
    default: { return x; }
  }
}
