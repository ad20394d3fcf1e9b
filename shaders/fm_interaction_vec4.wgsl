// fm_interaction_vec4.wgsl: fm_interaction.wgsl where m, k and every batch stride are multiples of 4, so P, Q and
// R load as vec4 rows: T = Qᵀ·R takes one vec4 of Q and one of R per row i (fm_interaction built them from 8
// scalar loads), and P·T four vec4 of P per 4 columns c (16 scalar loads). Every output sums in the same index
// order, with the same operations: the same bits as fm_interaction (the FM forward and backward of the
// experiment, 14 × 16 × 4, and of the benchmarks all qualify). Where k / 4 is even, T's invocations take 4 × 8
// blocks (one Q load for two R vec4s: 1.1-1.25x at the benchmark shapes, with two blocks per lane:
// fmVec4SamplesPerWorkgroup).
// Bindings: @group(0) 0 p, 1 q, 2 r: vec4f (read); 3 out: vec4f (read_write); @group(1) 0 Params (as fm_interaction).
// Grid: ceil(batch / spw) workgroups (split over x and y above 65535). ACC = 1 adds into out instead of overwriting.

// #include "lib/fm_interaction_params.wgsl"

@group(0) @binding(0) var<storage, read> pm: array<vec4f>;
@group(0) @binding(1) var<storage, read> qm: array<vec4f>;
@group(0) @binding(2) var<storage, read> rm: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;
@group(1) @binding(0) var<uniform> p: Params;

// Rows of P past n only feed outputs that are not stored; clamped so they stay in the buffer.
fn p4(i: u32) -> vec4f { return pm[min(i, arrayLength(&pm) - 1u)]; }

@compute @workgroup_size(WG)
fn fm_interaction_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
                       @builtin(num_workgroups) nwg: vec3u) {
  let lanes = WG / p.spw;
  let lane = lid.x % lanes;
  let kb = p.k / 4u;
  let mb = p.m / 4u;
  let b = (wid.x + wid.y * nwg.x) * p.spw + lid.x / lanes;
  let t0 = (lid.x / lanes) * 4u * mb * kb;
  let fits = b < p.batch && p.spw * 4u * mb * kb <= TMAX / 4u && (b + 1u) * p.n * kb <= arrayLength(&out)
    && b * (p.q_stride / 4u) + p.n * mb <= arrayLength(&qm) && b * (p.r_stride / 4u) + p.n * kb <= arrayLength(&rm);
  let p0 = b * (p.p_stride / 4u);
  let q0 = b * (p.q_stride / 4u);
  let r0 = b * (p.r_stride / 4u);
  if (fits) {
    // T[c0 + e, 4·jb ..] = Σ_i Q[i, c0 + e]·R[i, 4·jb ..]: 4 × 8 blocks (one Q load for two R columns) where
    // k / 4 is even, else 4 × 4; each output sums the same products in the same order either way.
    if (kb % 2u == 0u) {
      let kh = kb / 2u;
      for (var blk = lane; blk < mb * kh; blk += lanes) {
        let cb = blk / kh;
        let jb = (blk % kh) * 2u;
        var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
        var b0 = vec4f(0.0); var b1 = vec4f(0.0); var b2 = vec4f(0.0); var b3 = vec4f(0.0);
        for (var i = 0u; i < p.n; i++) {
          let rv = rm[r0 + i * kb + jb];
          let rw = rm[r0 + i * kb + jb + 1u];
          let qv = qm[q0 + i * mb + cb];
          a0 += qv.x * rv; a1 += qv.y * rv; a2 += qv.z * rv; a3 += qv.w * rv;
          b0 += qv.x * rw; b1 += qv.y * rw; b2 += qv.z * rw; b3 += qv.w * rw;
        }
        store_t(t0 + cb * 4u * kb + jb, kb, a0, a1, a2, a3);
        store_t(t0 + cb * 4u * kb + jb + 1u, kb, b0, b1, b2, b3);
      }
    } else {
      for (var blk = lane; blk < mb * kb; blk += lanes) {
        let cb = blk / kb;
        let jb = blk % kb;
        var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
        for (var i = 0u; i < p.n; i++) {
          let rv = rm[r0 + i * kb + jb];
          let qv = qm[q0 + i * mb + cb];
          a0 += qv.x * rv;
          a1 += qv.y * rv;
          a2 += qv.z * rv;
          a3 += qv.w * rv;
        }
        store_t(t0 + cb * 4u * kb + jb, kb, a0, a1, a2, a3);
      }
    }
  }
  workgroupBarrier();
  if (fits) {
    // out[i0 + e, 4·jb ..] = Σ_c P[i0 + e, c]·T[c, 4·jb ..], c in order, four at a time.
    let o0 = b * p.n * kb;
    let nb = (p.n + 3u) / 4u;
    for (var blk = lane; blk < nb * kb; blk += lanes) {
      let i0 = (blk / kb) * 4u;
      let jb = blk % kb;
      var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
      let pr = p0 + i0 * mb;
      for (var c4 = 0u; c4 < mb; c4++) {
        let v0 = p4(pr + c4);
        let v1 = p4(pr + mb + c4);
        let v2 = p4(pr + 2u * mb + c4);
        let v3 = p4(pr + 3u * mb + c4);
        for (var cc = 0u; cc < 4u; cc++) {
          let tv = t[t0 + (c4 * 4u + cc) * kb + jb];
          a0 += v0[cc] * tv;
          a1 += v1[cc] * tv;
          a2 += v2[cc] * tv;
          a3 += v3[cc] * tv;
        }
      }
      store(o0, i0, jb, kb, a0);
      store(o0, i0 + 1u, jb, kb, a1);
      store(o0, i0 + 2u, jb, kb, a2);
      store(o0, i0 + 3u, jb, kb, a3);
    }
  }
}

// Rows c0 .. c0 + 3 of T at column block jb, from index c0·kb + jb.
fn store_t(at: u32, kb: u32, v0: vec4f, v1: vec4f, v2: vec4f, v3: vec4f) {
  t[at] = v0;
  t[at + kb] = v1;
  t[at + 2u * kb] = v2;
  t[at + 3u * kb] = v3;
}

fn store(o0: u32, i: u32, jb: u32, kb: u32, v: vec4f) {
  if (i >= p.n) { return; }
  let o = o0 + i * kb + jb;
  out[o] = select(vec4f(0.0), out[o], ACC == 1u) + v;
}
