/**
 * Evaluation metrics, accumulated in float64 on the host (predictions are read back once per split).
 *   NE (normalized entropy, TorchRec convention): mean log loss / entropy of the set's mean label, with
 *   predictions clamped to [1e-12, 1 − 1e-12]; per cohort, the cohort's own mean label.
 *   AUC (rank-based, ties averaged), calibration (mean prediction / mean label).
 */

const EPS = 1e-12;

function entropy(p: number): number {
  return p <= 0 || p >= 1 ? 0 : -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
}

export interface Metrics { ne: number; logLoss: number; auc: number; calibration: number; rows: number; positiveRate: number }

/** Metrics over the rows selected by `mask` (all rows when absent). NaN where undefined (no rows, one class). */
export function metrics(pred: ArrayLike<number>, labels: ArrayLike<number>, mask?: (i: number) => boolean): Metrics {
  let n = 0, pos = 0, loss = 0, sumPred = 0;
  const scored: [number, number][] = [];
  for (let i = 0; i < labels.length; i++) {
    if (mask && !mask(i)) continue;
    const p = Math.min(Math.max(pred[i]!, EPS), 1 - EPS), y = labels[i]!;
    n++;
    pos += y;
    sumPred += p;
    loss -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
    scored.push([p, y]);
  }
  const rate = pos / n, logLoss = loss / n;
  return { ne: logLoss / entropy(rate), logLoss, auc: auc(scored), calibration: sumPred / n / rate, rows: n, positiveRate: rate };
}

/** Probability that a random positive scores above a random negative (Mann-Whitney U, ties averaged). */
function auc(scored: [number, number][]): number {
  scored.sort((a, b) => a[0] - b[0]);
  let rankSumPos = 0, pos = 0;
  for (let i = 0; i < scored.length;) {
    let j = i;
    while (j < scored.length && scored[j]![0] === scored[i]![0]) j++;
    const avgRank = (i + 1 + j) / 2;
    for (let t = i; t < j; t++) if (scored[t]![1] === 1) { rankSumPos += avgRank; pos++; }
    i = j;
  }
  const neg = scored.length - pos;
  return pos === 0 || neg === 0 ? NaN : (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * The floor a model can reach on this data: the expected cross-entropy under the true probabilities,
 * mean H(p_i) over the rows, normalized like NE (by the entropy of the rows' mean label). Unlike the log
 * loss of the true probabilities on the drawn labels, it carries no label noise.
 */
export function bayesNE(trueProb: ArrayLike<number>, labels: ArrayLike<number>, mask?: (i: number) => boolean): number {
  let n = 0, pos = 0, h = 0;
  for (let i = 0; i < labels.length; i++) {
    if (mask && !mask(i)) continue;
    n++;
    pos += labels[i]!;
    h += entropy(trueProb[i]!);
  }
  return h / n / entropy(pos / n);
}
