// divergences.wgsl: from blocks of per-cohort histograms counts [B, C, K] (bins of equal width on [0, 1];
// one block per cohort labelling: the observed one, then permutations for discovery's null), each block's
// C×C matrices of four divergences between cohorts' distributions P_i = counts_i / total_i, out [B, 4, C, C]:
//   out[0, i, j] symmetric KL  KL(P'‖Q') + KL(Q'‖P'), with ε smoothing P' = (P + ε) / (1 + K·ε)
//   out[1, i, j] Jensen-Shannon distance  sqrt(JS(P, Q)), natural log (so at most sqrt(ln 2))
//   out[2, i, j] Wasserstein-1  Σ_k |F_P(k) − F_Q(k)| / K   (F the CDF over bins)
//   out[3, i, j] cosine distance  1 − P·Q / (|P| |Q|)
// A pair with an empty cohort gives NaN in all four. One invocation per pair, bins in order: deterministic.
// Bindings: @group(0) 0 counts: u32 [B, C, K] (read); 1 out: f32 [B, 4, C, C] (read_write); @group(1) 0 Params.
// Grid: ceil(B·C² / WG), split over x and y above 65535.

override WG: u32 = 64u;

struct Params { cohorts: u32, bins: u32, eps: f32, blocks: u32 }

@group(0) @binding(0) var<storage, read> counts: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

fn total(c: u32) -> f32 { // c: a cohort row of counts, block included
  var t = 0.0;
  for (var k = 0u; k < p.bins; k++) { t += f32(counts[c * p.bins + k]); }
  return t;
}

@compute @workgroup_size(WG)
fn divergences(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let g = gid.x + gid.y * nwg.x * WG;
  let cc = p.cohorts * p.cohorts;
  if (g >= p.blocks * cc || 4u * cc * p.blocks > arrayLength(&out) || p.blocks * p.cohorts * p.bins > arrayLength(&counts)) { return; }
  let blk = g / cc;
  let t = g % cc;
  let i = blk * p.cohorts + t / p.cohorts;
  let j = blk * p.cohorts + t % p.cohorts;
  let o = blk * 4u * cc + t;
  let ti = total(i);
  let tj = total(j);
  if (ti == 0.0 || tj == 0.0) {
    var nan_bits = 0x7fc00000u; // a var: WGSL rejects NaN in constant expressions
    let nan = bitcast<f32>(nan_bits);
    out[o] = nan; out[o + cc] = nan; out[o + 2u * cc] = nan; out[o + 3u * cc] = nan;
    return;
  }
  let smoothing = 1.0 + f32(p.bins) * p.eps;
  var kl = 0.0;
  var js = 0.0;
  var w1 = 0.0;
  var fp = 0.0;
  var fq = 0.0;
  var dot = 0.0;
  var np = 0.0;
  var nq = 0.0;
  for (var k = 0u; k < p.bins; k++) {
    let pk = f32(counts[i * p.bins + k]) / ti;
    let qk = f32(counts[j * p.bins + k]) / tj;
    let ps = (pk + p.eps) / smoothing;
    let qs = (qk + p.eps) / smoothing;
    kl += (ps - qs) * log(ps / qs);
    let m = 0.5 * (pk + qk);
    if (pk > 0.0) { js += 0.5 * pk * log(pk / m); }
    if (qk > 0.0) { js += 0.5 * qk * log(qk / m); }
    fp += pk;
    fq += qk;
    w1 += abs(fp - fq);
    dot += pk * qk;
    np += pk * pk;
    nq += qk * qk;
  }
  out[o] = kl;
  out[o + cc] = sqrt(max(js, 0.0));
  out[o + 2u * cc] = w1 / f32(p.bins);
  out[o + 3u * cc] = 1.0 - dot / sqrt(np * nq);
}
