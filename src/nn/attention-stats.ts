/**
 * Attention-density diagnostics of the FM blocks' Y (the learned [n, k] parameter, or a batch of
 * generated Y): how concentrated the interaction weights are. For w = |Y| / Σ|Y|:
 *   entropy (natural log; log(m) is uniform), normalized entropy (entropy / log m), Gini coefficient
 *   (0 uniform, → 1 concentrated), share of entries with |Y| below 1% of max|Y|, excess kurtosis of Y,
 *   and a 20-bin histogram of |Y| / max|Y|.
 */
import type { DhenModel } from './dhen.js';

export interface AttentionStats {
  entries: number;
  entropy: number;
  normalizedEntropy: number;
  gini: number;
  nearZero: number;
  kurtosis: number;
  histogram: number[];
}

/** An entry counts as near zero below this share of the largest |Y| (declared, so "denser" has one meaning). */
export const NEAR_ZERO = 0.01;

export function attentionStats(values: ArrayLike<number>): AttentionStats {
  const m = values.length, abs = new Float64Array(m);
  let total = 0, maxAbs = 0, sum = 0;
  for (let i = 0; i < m; i++) {
    const a = Math.abs(values[i]!);
    abs[i] = a;
    total += a;
    sum += values[i]!;
    if (a > maxAbs) maxAbs = a;
  }
  const w = abs.map((a) => (total > 0 ? a / total : 1 / m));
  let entropy = 0;
  for (const p of w) if (p > 0) entropy -= p * Math.log(p);
  w.sort();
  // Gini = Σ (2i − m − 1)·w_(i) / m over the sorted weights (they sum to 1).
  let gini = 0;
  for (let i = 0; i < m; i++) gini += (2 * (i + 1) - m - 1) * w[i]!;
  gini /= m;
  const mean = sum / m;
  let v = 0, q = 0, near = 0;
  for (let i = 0; i < m; i++) {
    const d = values[i]! - mean;
    v += d * d;
    q += d ** 4;
    if (abs[i]! < NEAR_ZERO * maxAbs) near++;
  }
  v /= m;
  const kurtosis = v > 0 ? q / m / (v * v) - 3 : 0;
  const histogram = new Array<number>(20).fill(0);
  for (const a of abs) histogram[Math.min(19, Math.floor((maxAbs > 0 ? a / maxAbs : 0) * 20))]!++;
  return { entries: m, entropy, normalizedEntropy: m > 1 ? entropy / Math.log(m) : 1, gini, nearZero: near / m, kurtosis, histogram };
}

/** The learned FM attention weights Y of every block, flattened. */
export async function fmWeights(model: DhenModel): Promise<number[]> {
  const parts = await Promise.all(model.fmBlocks().filter((b) => b.y).map(async (b) => Array.from(await b.y!.read())));
  return parts.flat();
}
