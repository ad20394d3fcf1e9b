// matmul.wgsl: batched C[b] = op(A[b]) · op(B[b]) with batch broadcasting. Transposes and layouts are
// strides: A(i, k) = a[a_batch + i*sam + k*sak], B(k, j) = b[b_batch + k*sbk + j*sbn]; batch offsets
// come from up to 4 batch dims (stride 0 where an operand is broadcast). Output C is contiguous [batch, M, N].
// Bindings: @group(0) 0 a: f32, 1 b: f32 (read), 2 out: f32 (read_write); @group(1) 0 Params.
// Grid: ceil(batch*M*N / WG), split over x and y when above 65535.
// v1: one output element per thread ("correct, not yet fast"); the tiled family replaces it.

override WG: u32 = 256u;

struct Params {
  m: u32, n: u32, k: u32, batch: u32,
  brank: u32, sam: u32, sak: u32, sbk: u32,
  sbn: u32, _pad0: u32, _pad1: u32, _pad2: u32,
  bshape: vec4u,
  abs: vec4u,
  bbs: vec4u,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn matmul(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  let mn = p.m * p.n;
  if (idx >= p.batch * mn || idx >= arrayLength(&out)) { return; }
  let r = idx % mn;
  let i = r / p.n;
  let j = r % p.n;
  var rem = idx / mn;
  var oa = 0u;
  var ob = 0u;
  for (var d = i32(p.brank) - 1; d >= 0; d--) {
    let q = rem % p.bshape[d];
    rem = rem / p.bshape[d];
    oa += q * p.abs[d];
    ob += q * p.bbs[d];
  }
  var acc = 0.0;
  let la = arrayLength(&a);
  let lb = arrayLength(&b);
  for (var kk = 0u; kk < p.k; kk++) {
    let ia = oa + i * p.sam + kk * p.sak;
    let ib = ob + kk * p.sbk + j * p.sbn;
    if (ia < la && ib < lb) { acc += a[ia] * b[ib]; }
  }
  out[idx] = acc;
}
