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

@compute @workgroup_size(WG)
fn where_select(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n || i >= arrayLength(&out)) { return; }
  var rem = i;
  var ic = 0u;
  var ia = 0u;
  var ib = 0u;
  if (p.rank == 1u) {
    // The common case after host-side dimension collapsing: no index decomposition.
    ic += i * p.sc[0].x;
    ia += i * p.sa[0].x;
    ib += i * p.sb[0].x;
  } else {
    for (var d = i32(p.rank) - 1; d >= 0; d--) {
      let k = u32(d);
      let dim = p.shape[k / 4u][k % 4u];
      let q = rem % dim;
      rem = rem / dim;
      ic += q * p.sc[k / 4u][k % 4u];
      ia += q * p.sa[k / 4u][k % 4u];
      ib += q * p.sb[k / 4u][k % 4u];
    }
  }
  if (ic >= arrayLength(&c) || ia >= arrayLength(&a) || ib >= arrayLength(&b)) { return; }
  out[i] = select(b[ib], a[ia], c[ic] != 0.0);
}
