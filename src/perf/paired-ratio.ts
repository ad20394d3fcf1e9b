/**
 * How much faster one variant is than another, from steps timed in pairs (one step of each, back to back):
 * the geometric mean of the per-pair ratios, with the paired t-interval taken on their logarithms and
 * mapped back. Time ratios are multiplicative (a 0.9× pair and a 1.1× pair do not cancel, a 0.9× and a
 * 1.11× do), so the log scale is where a symmetric interval belongs. The interval's half-width on that
 * scale says how small an effect the pairs can resolve: a true ratio closer to 1 than that looks like 1.
 */
import { pairedTInterval } from '../c2al/stats.js';

export interface PairedRatio {
  /** exp(mean of ln(baseline_i / candidate_i)): above 1 when the candidate is faster. */
  ratio: number;
  /** The interval of `ratio` at `level` (default 0.95); [NaN, NaN] for fewer than two pairs. */
  ci: [number, number];
  /** exp(half-width of the log-scale interval) − 1: the smallest relative effect the pairs resolve. */
  resolution: number;
  n: number;
}

/** `baseline[i]` and `candidate[i]` are the times of pair i's two steps (any unit, the same for both). */
export function pairedRatio(baseline: readonly number[], candidate: readonly number[], level = 0.95): PairedRatio {
  if (baseline.length !== candidate.length) throw new RangeError(`pairedRatio: ${baseline.length} baseline times for ${candidate.length} candidate times`);
  if (baseline.length === 0) throw new RangeError('pairedRatio: no pairs');
  const logs = baseline.map((b, i) => {
    const c = candidate[i]!;
    if (!(b > 0) || !(c > 0) || !Number.isFinite(b) || !Number.isFinite(c)) {
      throw new RangeError(`pairedRatio: pair ${i} has times ${b} and ${c}; times must be finite and > 0`);
    }
    return Math.log(b / c);
  });
  const t = pairedTInterval(logs, level);
  return { ratio: Math.exp(t.mean), ci: [Math.exp(t.ci[0]), Math.exp(t.ci[1])], resolution: Math.exp(t.halfWidth) - 1, n: t.n };
}
