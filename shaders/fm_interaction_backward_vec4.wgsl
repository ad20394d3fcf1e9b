// fm_interaction_backward_vec4.wgsl: the whole FM backward in one dispatch, for X [B, n, d], Y [n, k] (shared,
// stride 0) or [B, n, k], dG [B, n, k] with d, k and every batch stride multiples of 4:
//   dX = dG·T1 + Y·T2 with T1 = Yᵀ·X, T2 = dGᵀ·X (both k × d), and dY[b] = X·(Xᵀ·dG) = X·T2ᵀ.
// The three fm_interaction_vec4 dispatches it replaces (fm_interaction_vec4(dG, Y, X), fm_interaction_acc_vec4(Y, dG, X),
// fm_interaction_vec4(X, X, dG)) load X three times and form Xᵀ·dG twice (once as T2, once transposed). Here
// T1 and T2 come from one pass over X (two X column blocks per invocation where d / 4 is even), dX and dY take
// 8 rows per invocation (each T load serves 8 rows, not 4),
// and dY reads T2 transposed; every output sums over the same index in
// the same order with the same operations (Xᵀ·dG and dGᵀ·X hold the same products), so the bits are theirs.
// Bindings: @group(0) 0 x, 1 y, 2 g: vec4f (read); 3 dx, 4 dy: vec4f (read_write); @group(1) 0 Params:
// batch, n, m = d, k, p_stride = X's batch stride, q_stride = Y's, r_stride = dG's, spw.
// Grid: ceil(batch / spw) workgroups (split over x and y above 65535).

// #include "lib/fm_interaction_params.wgsl"

@group(0) @binding(0) var<storage, read> xm: array<vec4f>;
@group(0) @binding(1) var<storage, read> ym: array<vec4f>;
@group(0) @binding(2) var<storage, read> gm: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dx: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dy: array<vec4f>;
@group(1) @binding(0) var<uniform> p: Params;

// Rows past n only feed outputs that are not stored; clamped so they stay in the buffers.
fn x4(i: u32) -> vec4f { return xm[min(i, arrayLength(&xm) - 1u)]; }
fn y4(i: u32) -> vec4f { return ym[min(i, arrayLength(&ym) - 1u)]; }
fn g4(i: u32) -> vec4f { return gm[min(i, arrayLength(&gm) - 1u)]; }

// Σ_c P[i0 + e, c]·T[c, 4·jb ..] over c < 4·kb in order for 8 rows e from P's row offset pr (fm_interaction_vec4's
// second product, twice the rows): dg_times_t reads P = dG, y_times_t P = Y.
struct Rows8 { a: array<vec4f, 8> }

fn dg_times_t(pr: u32, kb: u32, db: u32, tb: u32, jb: u32) -> Rows8 {
  var r: Rows8;
  for (var e = 0u; e < 8u; e++) { r.a[e] = vec4f(0.0); }
  for (var c4 = 0u; c4 < kb; c4++) {
    var v: array<vec4f, 8>;
    for (var e = 0u; e < 8u; e++) { v[e] = g4(pr + e * kb + c4); }
    for (var cc = 0u; cc < 4u; cc++) {
      let tv = t[tb + (c4 * 4u + cc) * db + jb];
      for (var e = 0u; e < 8u; e++) { r.a[e] += v[e][cc] * tv; }
    }
  }
  return r;
}

fn y_times_t(pr: u32, kb: u32, db: u32, tb: u32, jb: u32) -> Rows8 {
  var r: Rows8;
  for (var e = 0u; e < 8u; e++) { r.a[e] = vec4f(0.0); }
  for (var c4 = 0u; c4 < kb; c4++) {
    var v: array<vec4f, 8>;
    for (var e = 0u; e < 8u; e++) { v[e] = y4(pr + e * kb + c4); }
    for (var cc = 0u; cc < 4u; cc++) {
      let tv = t[tb + (c4 * 4u + cc) * db + jb];
      for (var e = 0u; e < 8u; e++) { r.a[e] += v[e][cc] * tv; }
    }
  }
  return r;
}

@compute @workgroup_size(WG)
fn fm_interaction_backward_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
                                @builtin(num_workgroups) nwg: vec3u) {
  let lanes = WG / p.spw;
  let lane = lid.x % lanes;
  let db = p.m / 4u;
  let kb = p.k / 4u;
  let b = (wid.x + wid.y * nwg.x) * p.spw + lid.x / lanes;
  let tsize = 4u * kb * db; // vec4s of one T (k rows of d / 4)
  let t1 = (lid.x / lanes) * 2u * tsize;
  let t2 = t1 + tsize;
  let x0 = b * (p.p_stride / 4u);
  let y0 = b * (p.q_stride / 4u);
  let g0 = b * (p.r_stride / 4u);
  let fits = b < p.batch && p.spw * 2u * tsize <= TMAX / 4u
    && (b + 1u) * p.n * db <= arrayLength(&dx) && (b + 1u) * p.n * kb <= arrayLength(&dy)
    && x0 + p.n * db <= arrayLength(&xm) && y0 + p.n * kb <= arrayLength(&ym) && g0 + p.n * kb <= arrayLength(&gm);
  if (fits) {
    // T1[c0 + e, 4·jb ..] = Σ_i Y[i, c0 + e]·X[i, 4·jb ..] and T2 the same with dG, X's vec4 loaded once for both;
    // where d / 4 is even, two X column blocks per invocation (Y's and dG's vec4 loaded once for both).
    if (db % 2u == 0u) {
      let dh = db / 2u;
      for (var blk = lane; blk < kb * dh; blk += lanes) {
        let cb = blk / dh;
        let jb = (blk % dh) * 2u;
        var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
        var e0 = vec4f(0.0); var e1 = vec4f(0.0); var e2 = vec4f(0.0); var e3 = vec4f(0.0);
        var f0 = vec4f(0.0); var f1 = vec4f(0.0); var f2 = vec4f(0.0); var f3 = vec4f(0.0);
        var h0 = vec4f(0.0); var h1 = vec4f(0.0); var h2 = vec4f(0.0); var h3 = vec4f(0.0);
        for (var i = 0u; i < p.n; i++) {
          let rv = xm[x0 + i * db + jb];
          let rw = xm[x0 + i * db + jb + 1u];
          let qy = ym[y0 + i * kb + cb];
          let qg = gm[g0 + i * kb + cb];
          a0 += qy.x * rv; a1 += qy.y * rv; a2 += qy.z * rv; a3 += qy.w * rv;
          e0 += qg.x * rv; e1 += qg.y * rv; e2 += qg.z * rv; e3 += qg.w * rv;
          f0 += qy.x * rw; f1 += qy.y * rw; f2 += qy.z * rw; f3 += qy.w * rw;
          h0 += qg.x * rw; h1 += qg.y * rw; h2 += qg.z * rw; h3 += qg.w * rw;
        }
        let at = cb * 4u * db + jb;
        store_t(t1 + at, db, a0, a1, a2, a3);
        store_t(t2 + at, db, e0, e1, e2, e3);
        store_t(t1 + at + 1u, db, f0, f1, f2, f3);
        store_t(t2 + at + 1u, db, h0, h1, h2, h3);
      }
    } else {
      for (var blk = lane; blk < kb * db; blk += lanes) {
        let cb = blk / db;
        let jb = blk % db;
        var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
        var e0 = vec4f(0.0); var e1 = vec4f(0.0); var e2 = vec4f(0.0); var e3 = vec4f(0.0);
        for (var i = 0u; i < p.n; i++) {
          let rv = xm[x0 + i * db + jb];
          let qy = ym[y0 + i * kb + cb];
          let qg = gm[g0 + i * kb + cb];
          a0 += qy.x * rv; a1 += qy.y * rv; a2 += qy.z * rv; a3 += qy.w * rv;
          e0 += qg.x * rv; e1 += qg.y * rv; e2 += qg.z * rv; e3 += qg.w * rv;
        }
        let at = cb * 4u * db + jb;
        store_t(t1 + at, db, a0, a1, a2, a3);
        store_t(t2 + at, db, e0, e1, e2, e3);
      }
    }
  }
  workgroupBarrier();
  if (fits) {
    let nb8 = (p.n + 7u) / 8u;
    for (var blk = lane; blk < nb8 * (db + kb); blk += lanes) {
      if (blk < nb8 * db) {
        // dX[i0 + e, 4·jb ..] = (0 + Σ_c dG[i0 + e, c]·T1[c, ..]) + Σ_c Y[i0 + e, c]·T2[c, ..]: the first product
        // stored, then the accumulating one added, as the two dispatches did.
        let i0 = (blk / db) * 8u;
        let jb = blk % db;
        let u = dg_times_t(g0 + i0 * kb, kb, db, t1, jb);
        let w = y_times_t(y0 + i0 * kb, kb, db, t2, jb);
        let o0 = b * p.n * db;
        for (var e = 0u; e < 8u; e++) { store_dx(o0, i0 + e, jb, db, (vec4f(0.0) + u.a[e]) + w.a[e]); }
      } else {
        // dY[i0 + e, 4·jb ..] = Σ_c X[i0 + e, c]·T2[4·jb .., c], c < d in order, 8 rows e: T2's rows 4·jb .. 4·jb + 3
        // give Xᵀ·dG's row c as the c-th lanes of four vec4s.
        let r = blk - nb8 * db;
        let i0 = (r / kb) * 8u;
        let jb = r % kb;
        var a: array<vec4f, 8>;
        for (var e = 0u; e < 8u; e++) { a[e] = vec4f(0.0); }
        let pr = x0 + i0 * db;
        for (var c4 = 0u; c4 < db; c4++) {
          var v: array<vec4f, 8>;
          for (var e = 0u; e < 8u; e++) { v[e] = x4(pr + e * db + c4); }
          let s0 = t[t2 + (jb * 4u) * db + c4];
          let s1 = t[t2 + (jb * 4u + 1u) * db + c4];
          let s2 = t[t2 + (jb * 4u + 2u) * db + c4];
          let s3 = t[t2 + (jb * 4u + 3u) * db + c4];
          for (var cc = 0u; cc < 4u; cc++) {
            let tv = vec4f(s0[cc], s1[cc], s2[cc], s3[cc]);
            for (var e = 0u; e < 8u; e++) { a[e] += v[e][cc] * tv; }
          }
        }
        let o0 = b * p.n * kb;
        for (var e = 0u; e < 8u; e++) { store_dy(o0, i0 + e, jb, kb, vec4f(0.0) + a[e]); }
      }
    }
  }
}

// Rows c0 .. c0 + 3 of a T at column block jb, from index c0·db + jb.
fn store_t(at: u32, db: u32, v0: vec4f, v1: vec4f, v2: vec4f, v3: vec4f) {
  t[at] = v0;
  t[at + db] = v1;
  t[at + 2u * db] = v2;
  t[at + 3u * db] = v3;
}

fn store_dx(o0: u32, i: u32, jb: u32, db: u32, v: vec4f) {
  if (i < p.n) { dx[o0 + i * db + jb] = v; }
}

fn store_dy(o0: u32, i: u32, jb: u32, kb: u32, v: vec4f) {
  if (i < p.n) { dy[o0 + i * kb + jb] = v; }
}
