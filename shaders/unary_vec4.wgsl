// unary_vec4.wgsl: out[i] = f(a[i]) over vec4s, f chosen by the OP override (codes in src/reference.ts, UNARY): the
// kernel unary ops take when the element count is a multiple of 4. On CPU adapters every storage access
// with a lane-varying address is a per-lane loop, so four elements per access run about twice as fast
// (docs/kernels.md); the results are the scalar kernel's, element for element.
// Bindings: @group(0) 0 a: vec4f (read), 1 out: vec4f (read_write); @group(1) 0 Params.
// Grid: ceil(n4 / WG) workgroups, split over x and y when above 65535.

override OP: u32;
override WG: u32 = 256u;

struct Params { n4: u32, alpha: f32 }

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;
@group(1) @binding(0) var<uniform> p: Params;

// #include "lib/unary_ops.wgsl"

@compute @workgroup_size(WG)
fn unary_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n4 || i >= arrayLength(&out) || i >= arrayLength(&a)) { return; }
  let x = a[i];
  out[i] = vec4f(apply(x.x), apply(x.y), apply(x.z), apply(x.w));
}
