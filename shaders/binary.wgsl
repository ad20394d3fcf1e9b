// binary.wgsl: out[i] = f(a[ia], b[ib]) with NumPy broadcasting through per-input strides (0 on
// broadcast dimensions); f chosen by the OP override (codes in src/reference.ts, BINARY).
// Bindings: @group(0) 0 a: f32, 1 b: f32 (read), 2 out: f32 (read_write); @group(1) 0 Params.
// Grid: ceil(n / WG), split over x and y when above 65535.
// v1: one element per thread, index decomposed over the output shape (rank <= 8).

override OP: u32;
override WG: u32 = 256u;

struct Params {
  n: u32, rank: u32, _pad0: u32, _pad1: u32,
  shape: array<vec4u, 2>,
  sa: array<vec4u, 2>,
  sb: array<vec4u, 2>,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

// #include "lib/strided_offsets.wgsl"

// #include "lib/binary_ops.wgsl"

@compute @workgroup_size(WG)
fn binary(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n || i >= arrayLength(&out)) { return; }
  let o = strided_offsets(i, p.rank, p.shape, p.sa, p.sb, p.sb);
  if (o.x >= arrayLength(&a) || o.y >= arrayLength(&b)) { return; }
  out[i] = apply(a[o.x], b[o.y]);
}
