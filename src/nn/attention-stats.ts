/**
 * Attention-density diagnostics of the FM blocks' Y (the learned [n, k] parameter, or a batch of
 * generated Y): how concentrated the interaction weights are. For w = |Y| / Σ|Y|:
 *   entropy (natural log; log(m) is uniform), normalized entropy (entropy / log m), Gini coefficient
 *   (0 uniform, → 1 concentrated), share of entries with |Y| below 1% of max|Y|, excess kurtosis of Y,
 *   and a 20-bin histogram of |Y| / max|Y|.
 */
export interface AttentionStats {
  entries: number;
  entropy: number;
  normalizedEntropy: number;
  gini: number;
  nearZero: number;
  kurtosis: number;
  histogram: number[];
}

export function attentionStats(values: ArrayLike<number>): AttentionStats {
  const y = Array.from(values), m = y.length;
  const abs = y.map(Math.abs), total = abs.reduce((a, b) => a + b, 0), maxAbs = Math.max(...abs, 0);
  const w = abs.map((a) => (total > 0 ? a / total : 1 / m));
  const entropy = -w.reduce((acc, p) => acc + (p > 0 ? p * Math.log(p) : 0), 0);
  const sorted = [...w].sort((a, b) => a - b);
  // Gini = Σ (2i − m − 1)·w_(i) / m over the sorted weights (they sum to 1).
  const gini = sorted.reduce((acc, p, i) => acc + (2 * (i + 1) - m - 1) * p, 0) / m;
  const mean = y.reduce((a, b) => a + b, 0) / m;
  const v = y.reduce((a, b) => a + (b - mean) ** 2, 0) / m;
  const kurtosis = v > 0 ? y.reduce((a, b) => a + (b - mean) ** 4, 0) / m / (v * v) - 3 : 0;
  const histogram = new Array<number>(20).fill(0);
  for (const a of abs) histogram[Math.min(19, Math.floor((maxAbs > 0 ? a / maxAbs : 0) * 20))]!++;
  return {
    entries: m, entropy, normalizedEntropy: m > 1 ? entropy / Math.log(m) : 1, gini,
    nearZero: abs.filter((a) => a < 0.01 * maxAbs).length / m, kurtosis, histogram,
  };
}
