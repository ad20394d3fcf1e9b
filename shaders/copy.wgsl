// copy.wgsl: strided copy of 32-bit words, any dtype. For every index (i_0..i_r) of `shape`:
//   out[o_off + sum(i_k * so_k)] = a[a_off + sum(i_k * sa_k)]
// One kernel serves permute, slice, concat (one dispatch per piece), slice's backward (into zeros)
// and broadcast expansion (sa_k = 0).
// Bindings: @group(0) 0 a: u32 (read), 1 out: u32 (read_write); @group(1) 0 Params.
// Grid: ceil(n / WG), split over x and y when above 65535.

override WG: u32 = 256u;

struct Params {
  n: u32, rank: u32, a_off: u32, o_off: u32,
  shape: array<vec4u, 2>,
  sa: array<vec4u, 2>,
  so: array<vec4u, 2>,
}

@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(1) @binding(0) var<uniform> p: Params;

// #include "lib/strided_offsets.wgsl"

@compute @workgroup_size(WG)
fn copy_strided(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let o = strided_offsets(i, p.rank, p.shape, p.sa, p.so, p.so);
  let ia = p.a_off + o.x;
  let io = p.o_off + o.y;
  if (ia >= arrayLength(&a) || io >= arrayLength(&out)) { return; }
  out[io] = a[ia];
}
