// fm_interaction.wgsl: the factorization-machine product out[b] = P[b]·(Q[b]ᵀ·R[b]) for small per-sample matrices,
// P, Q: [n, m], R: [n, k], out: [n, k]. It is the FM interaction G = X·(Xᵀ·Y) (P = Q = X, R = Y) and every
// product of its backward (dY = X·(Xᵀ·dG); dX = dG·(Yᵀ·X) + Y·(dGᵀ·X)), so one kernel serves all four.
// SPW samples per workgroup (p.spw, WG / SPW lanes each; one for the FM shapes of the benchmarks, up to 16 for
// small ones whose blocks would leave most of 64 lanes idle): T = Qᵀ·R (m×k, rounded up to 4-blocks) goes to
// workgroup memory (SPW of them ≤ TMAX), then P·T; each invocation computes 4 × 4 output blocks in both
// products. Two general batched matmuls would spend most of a tile on such small matrices and write T to
// global memory between them. Every output sums in index order: deterministic.
// A shared operand has batch stride 0 (Y shared across the batch).
// Bindings: @group(0) 0 p, 1 q, 2 r: f32 (read); 3 out: f32 (read_write); @group(1) 0 Params.
// Grid: ceil(batch / spw) workgroups (split over x and y above 65535). ACC = 1 adds into out instead of overwriting.

// #include "lib/fm_interaction_params.wgsl"

@group(0) @binding(0) var<storage, read> pm: array<f32>;
@group(0) @binding(1) var<storage, read> qm: array<f32>;
@group(0) @binding(2) var<storage, read> rm: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

// Reads past a row's end only feed lanes whose results are discarded; clamped so they stay in the buffer.
fn p_at(i: u32) -> f32 { return pm[min(i, arrayLength(&pm) - 1u)]; }
fn q_at(i: u32) -> f32 { return qm[min(i, arrayLength(&qm) - 1u)]; }
fn r4(i: u32) -> vec4f {
  let last = arrayLength(&rm) - 1u;
  return vec4f(rm[min(i, last)], rm[min(i + 1u, last)], rm[min(i + 2u, last)], rm[min(i + 3u, last)]);
}

// Each invocation computes 4 × 4 blocks (16 accumulators) in both products: on CPU adapters, where
// invocations are SIMD lanes and every lane-varying load is a gather, reuse per load is what counts.
@compute @workgroup_size(WG)
fn fm_interaction(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
          @builtin(num_workgroups) nwg: vec3u) {
  let lanes = WG / p.spw;
  let lane = lid.x % lanes;
  let kb = (p.k + 3u) / 4u;
  let mb = (p.m + 3u) / 4u;
  let b = (wid.x + wid.y * nwg.x) * p.spw + lid.x / lanes;
  // This sample's T: 4·mb·kb vec4 at t0.
  let t0 = (lid.x / lanes) * 4u * mb * kb;
  let fits = b < p.batch && p.spw * 4u * mb * kb <= TMAX / 4u && (b + 1u) * p.n * p.k <= arrayLength(&out);
  let p0 = b * p.p_stride;
  let q0 = b * p.q_stride;
  let r0 = b * p.r_stride;
  if (fits) {
    // T[c0 + e, j0 .. j0 + 3] = Σ_i Q[i, c0 + e]·R[i, j0 .. j0 + 3]; columns past m or k read clamped junk
    // into rows and lanes of T that phase 2 never uses (zero rows past m: P has no such columns).
    for (var blk = lane; blk < mb * kb; blk += lanes) {
      let c0 = (blk / kb) * 4u;
      let jb = blk % kb;
      var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
      for (var i = 0u; i < p.n; i++) {
        let rv = r4(r0 + i * p.k + jb * 4u);
        let qb = q0 + i * p.m + c0;
        a0 += q_at(qb) * rv;
        a1 += q_at(qb + 1u) * rv;
        a2 += q_at(qb + 2u) * rv;
        a3 += q_at(qb + 3u) * rv;
      }
      t[t0 + c0 * kb + jb] = a0;
      t[t0 + (c0 + 1u) * kb + jb] = a1;
      t[t0 + (c0 + 2u) * kb + jb] = a2;
      t[t0 + (c0 + 3u) * kb + jb] = a3;
    }
  }
  workgroupBarrier();
  if (fits) {
    // out[i0 + e, j0 .. j0 + 3] = Σ_c P[i0 + e, c]·T[c, j0 .. j0 + 3].
    let o0 = b * p.n * p.k;
    let nb = (p.n + 3u) / 4u;
    for (var blk = lane; blk < nb * kb; blk += lanes) {
      let i0 = (blk / kb) * 4u;
      let jb = blk % kb;
      var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
      for (var c = 0u; c < p.m; c++) {
        let tv = t[t0 + c * kb + jb];
        let pb = p0 + i0 * p.m + c;
        a0 += p_at(pb) * tv;
        a1 += p_at(pb + p.m) * tv;
        a2 += p_at(pb + 2u * p.m) * tv;
        a3 += p_at(pb + 3u * p.m) * tv;
      }
      store(o0, i0, jb * 4u, a0);
      store(o0, i0 + 1u, jb * 4u, a1);
      store(o0, i0 + 2u, jb * 4u, a2);
      store(o0, i0 + 3u, jb * 4u, a3);
    }
  }
}

fn store(o0: u32, i: u32, j0: u32, v: vec4f) {
  if (i >= p.n) { return; }
  for (var e = 0u; e < 4u; e++) {
    let o = o0 + i * p.k + j0 + e;
    if (j0 + e < p.k) { out[o] = select(0.0, out[o], ACC == 1u) + v[e]; }
  }
}
