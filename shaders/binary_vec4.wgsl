// binary_vec4.wgsl: out[i] = f(a[ia], b[ib]) over vec4s, f chosen by the OP override (codes in src/reference.ts,
// BINARY), for the two layouts that cover most of a training step: operands as long as the output (period 0),
// or repeating every `period` vec4s (a bias row broadcast over the leading axes). Taken when the element
// count and the broadcast row are multiples of 4; the results are the strided kernel's, element for element.
// Bindings: @group(0) 0 a: vec4f, 1 b: vec4f (read), 2 out: vec4f (read_write); @group(1) 0 Params.
// Grid: ceil(n4 / WG) workgroups, split over x and y when above 65535.

override OP: u32;
override WG: u32 = 256u;

struct Params { n4: u32, a_period: u32, b_period: u32 }

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4f>;
@group(1) @binding(0) var<uniform> p: Params;

// #include "lib/binary_ops.wgsl"

@compute @workgroup_size(WG)
fn binary_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n4 || i >= arrayLength(&out)) { return; }
  let ia = select(i, i % p.a_period, p.a_period > 0u);
  let ib = select(i, i % p.b_period, p.b_period > 0u);
  if (ia >= arrayLength(&a) || ib >= arrayLength(&b)) { return; }
  let x = a[ia];
  let y = b[ib];
  out[i] = vec4f(apply(x.x, y.x), apply(x.y, y.y), apply(x.z, y.z), apply(x.w, y.w));
}
