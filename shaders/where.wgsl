// where.wgsl: out[i] = c[ic] != 0 ? a[ia] : b[ib], all three broadcast through strides.
// Bindings: @group(0) 0 c: f32, 1 a: f32, 2 b: f32 (read), 3 out: f32 (read_write); @group(1) 0 Params.
// Grid: ceil(n / WG), split over x and y when above 65535.

override WG: u32 = 256u;

struct Params {
  n: u32, rank: u32, _pad0: u32, _pad1: u32,
  shape: array<vec4u, 2>,
  sc: array<vec4u, 2>,
  sa: array<vec4u, 2>,
  sb: array<vec4u, 2>,
}

@group(0) @binding(0) var<storage, read> c: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

// #include "lib/strided_offsets.wgsl"

@compute @workgroup_size(WG)
fn where_select(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n || i >= arrayLength(&out)) { return; }
  let o = strided_offsets(i, p.rank, p.shape, p.sc, p.sa, p.sb);
  if (o.x >= arrayLength(&c) || o.y >= arrayLength(&a) || o.z >= arrayLength(&b)) { return; }
  out[i] = select(b[o.z], a[o.y], c[o.x] != 0.0);
}
