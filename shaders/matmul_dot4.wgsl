// matmul_dot4.wgsl: batched C[b] = A[b] · B[b]ᵀ where both operands run contiguously along k: A row-major,
// B given as [N, K] row-major (matmul's transB layout), K % 4 == 0 and every row offset a multiple of 4.
// Why: outputs too narrow for the register-blocked kernels (N % 4 != 0, e.g. a 14 × 14 linear-compress
// gradient per sample) fell back to matmul.wgsl's scalar walk, and on CPU adapters every lane-varying load
// is a per-lane gather. Here each invocation computes a 4 × 4 block of outputs from 4 rows of A and 4 rows
// of B, loaded as vec4 along k: 8 loads feed 64 multiply-adds (one output per invocation: 2 per 4).
// Edge rows and columns are clamped for loads and skipped for stores. Each output sums k in order within
// each of its four lanes, then (x + y) + (z + w).
// A(i, k4) = a[a_batch4 + i*sam4 + k4]; B(j, k4) = b[b_batch4 + j*sbn4 + k4]; batch offsets come from up
// to 4 batch dims (stride 0 where an operand is broadcast). Output C is contiguous [batch, M, N].
// Bindings: @group(0) 0 a: vec4f, 1 b: vec4f (read), 2 out: f32 (read_write); @group(1) 0 Params.
// Grid: ceil(batch * ceil(M/4) * ceil(N/4) / WG), split over x and y when above 65535.

override WG: u32 = 64u;

struct Params {
  m: u32, n: u32, k4: u32, batch: u32,
  brank: u32, sam4: u32, sbn4: u32, _pad0: u32,
  bshape: vec4u,
  abs4: vec4u,
  bbs4: vec4u,
}

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

fn dot4(v: vec4f) -> f32 { return (v.x + v.y) + (v.z + v.w); }

@compute @workgroup_size(WG)
fn matmul_dot4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  let mb = (p.m + 3u) / 4u;
  let nb = (p.n + 3u) / 4u;
  if (idx >= p.batch * mb * nb || p.batch * p.m * p.n > arrayLength(&out)) { return; }
  let i0 = ((idx / nb) % mb) * 4u;
  let j0 = (idx % nb) * 4u;
  let bi = idx / (mb * nb);
  var rem = bi;
  var oa = 0u;
  var ob = 0u;
  for (var d = i32(p.brank) - 1; d >= 0; d--) {
    let q = rem % p.bshape[d];
    rem = rem / p.bshape[d];
    oa += q * p.abs4[d];
    ob += q * p.bbs4[d];
  }
  // Row offsets, clamped to the last row; the last one must end inside its buffer (checked once).
  let lm = p.m - 1u;
  let ln = p.n - 1u;
  let a0 = oa + min(i0, lm) * p.sam4;       let a1 = oa + min(i0 + 1u, lm) * p.sam4;
  let a2 = oa + min(i0 + 2u, lm) * p.sam4;  let a3 = oa + min(i0 + 3u, lm) * p.sam4;
  let b0 = ob + min(j0, ln) * p.sbn4;       let b1 = ob + min(j0 + 1u, ln) * p.sbn4;
  let b2 = ob + min(j0 + 2u, ln) * p.sbn4;  let b3 = ob + min(j0 + 3u, ln) * p.sbn4;
  if (max(max(a0, a1), max(a2, a3)) + p.k4 > arrayLength(&a) || max(max(b0, b1), max(b2, b3)) + p.k4 > arrayLength(&b)) { return; }
  // c_ij: output (i0 + i, j0 + j), four partial sums each.
  var c00 = vec4f(); var c01 = vec4f(); var c02 = vec4f(); var c03 = vec4f();
  var c10 = vec4f(); var c11 = vec4f(); var c12 = vec4f(); var c13 = vec4f();
  var c20 = vec4f(); var c21 = vec4f(); var c22 = vec4f(); var c23 = vec4f();
  var c30 = vec4f(); var c31 = vec4f(); var c32 = vec4f(); var c33 = vec4f();
  for (var kk = 0u; kk < p.k4; kk++) {
    let x0 = a[a0 + kk]; let x1 = a[a1 + kk]; let x2 = a[a2 + kk]; let x3 = a[a3 + kk];
    let y0 = b[b0 + kk]; let y1 = b[b1 + kk]; let y2 = b[b2 + kk]; let y3 = b[b3 + kk];
    c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
    c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
    c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
    c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
  }
  let base = bi * p.m * p.n;
  store(base, i0, j0, vec4f(dot4(c00), dot4(c01), dot4(c02), dot4(c03)));
  store(base, i0 + 1u, j0, vec4f(dot4(c10), dot4(c11), dot4(c12), dot4(c13)));
  store(base, i0 + 2u, j0, vec4f(dot4(c20), dot4(c21), dot4(c22), dot4(c23)));
  store(base, i0 + 3u, j0, vec4f(dot4(c30), dot4(c31), dot4(c32), dot4(c33)));
}

// Row i, columns j0 .. j0 + 3 of one output matrix; what lies past M or N is not stored.
fn store(base: u32, i: u32, j0: u32, v: vec4f) {
  if (i >= p.m) { return; }
  for (var e = 0u; e < 4u; e++) {
    if (j0 + e < p.n) { out[base + i * p.n + j0 + e] = v[e]; }
  }
}
