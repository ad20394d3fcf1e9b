/**
 * The statistics C2AL's results are reported with: mean ± std, Student's t quantiles, the paired
 * t-interval over seeds, the paired bootstrap over test rows (one resample of each world's test rows
 * shared by both arms and every seed), and the Bonferroni level for a family of intervals. All float64,
 * no dependencies; each is tested against a reference computation on fixed numbers.
 */
import { mulberry32 } from '../random.js';

/** The median of `xs` (the upper one for an even count); `xs` is not modified. */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Mean and (sample) standard deviation. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

/** ln Γ(x) (Lanczos, g = 7, 9 terms; |error| < 1e-13 for x > 0). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61503916999185,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularized incomplete beta function I_x(a, b) (continued fraction, Lentz's method). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x)) / a;
  const tiny = 1e-300;
  let f = 1, c = 1, d = 0;
  for (let i = 0; i <= 300; i++) {
    const m = Math.floor(i / 2);
    const num = i === 0 ? 1
      : i % 2 === 0 ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
        : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    d = Math.abs(d) < tiny ? tiny : d;
    d = 1 / d;
    c = 1 + num / c;
    c = Math.abs(c) < tiny ? tiny : c;
    const cd = c * d;
    f *= cd;
    if (Math.abs(1 - cd) < 1e-15) break;
  }
  return front * (f - 1);
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T ≤ t) = p for Student's t with `df` degrees of freedom (bisection on the cdf). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return NaN;
  let lo = -1e3, hi = 1e3;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface Interval { mean: number; ci: [number, number]; halfWidth: number; n: number }

/**
 * The t-interval of the mean of paired differences at `level` (default 0.95): mean ± t_{(1+level)/2, n−1}·s/√n.
 * One difference gives [NaN, NaN] (no spread to estimate).
 */
export function pairedTInterval(diffs: readonly number[], level = 0.95): Interval {
  const n = diffs.length, { mean, std } = meanStd(diffs);
  if (n < 2) return { mean, ci: [NaN, NaN], halfWidth: NaN, n };
  const h = studentTQuantile((1 + level) / 2, n - 1) * std / Math.sqrt(n);
  return { mean, ci: [mean - h, mean + h], halfWidth: h, n };
}

/** The level of each of `m` intervals whose family must hold at `level` (Bonferroni). */
export const bonferroniLevel = (level: number, m: number): number => 1 - (1 - level) / Math.max(1, m);

/** One world's test rows: labels and a cohort per row, and per seed each arm's log loss per row. */
export interface BootstrapWorld {
  labels: ArrayLike<number>;
  cohort: ArrayLike<number>;
  /** lossBase[s][i], lossArm[s][i]: log loss of row i under seed s's baseline and the arm. */
  lossBase: readonly Float64Array[];
  lossArm: readonly Float64Array[];
}

const binaryEntropy = (p: number): number => (p <= 0 || p >= 1 ? 0 : -(p * Math.log(p) + (1 - p) * Math.log(1 - p)));

/**
 * The central `level` interval of sorted draws (percentile method). Undefined draws (NaN: a resample of a
 * small cohort with one label class has no NE) are left out; with fewer than half defined, [NaN, NaN].
 */
export function percentileInterval(sorted: Float64Array, level = 0.95): [number, number] {
  const finite = sorted.filter(Number.isFinite), B = finite.length;
  if (B < sorted.length / 2 || B === 0) return [NaN, NaN];
  const at = (q: number) => finite[Math.min(B - 1, Math.max(0, Math.floor(q * B)))]!;
  return [at((1 - level) / 2), at((1 + level) / 2)];
}

/**
 * Paired bootstrap of ΔNE over test rows: each replicate draws every world's test rows with replacement
 * (the same draw for both arms and all seeds of that world), recomputes NE of the arm and the baseline
 * for each seed, and averages the change over worlds × seeds, for `groups` (-1: every row; c: cohort c).
 * Returns per group the sorted replicates of the absolute and relative change (percentileInterval reads them).
 */
export function pairedBootstrap(worlds: readonly BootstrapWorld[], groups: readonly number[], o: { replicates?: number; seed?: number } = {}):
  { abs: Float64Array; rel: Float64Array }[] {
  const B = o.replicates ?? 1000, next = mulberry32(o.seed ?? 12345);
  const G = groups.length;
  const absDraws = groups.map(() => new Float64Array(B)), relDraws = groups.map(() => new Float64Array(B));
  const units = worlds.reduce((acc, w) => acc + w.lossBase.length, 0);
  const all = groups.indexOf(-1) >= 0 ? groups.indexOf(-1) : undefined;
  const cohortSlot: (number | undefined)[] = [];
  groups.forEach((g, j) => { if (g >= 0) cohortSlot[g] = j; });
  for (let r = 0; r < B; r++) {
    const absSum = new Float64Array(G), relSum = new Float64Array(G);
    for (const w of worlds) {
      const n = w.labels.length, S = w.lossBase.length;
      const count = new Float64Array(G), pos = new Float64Array(G), base = new Float64Array(G * S), arm = new Float64Array(G * S);
      const add = (j: number, i: number, y: number): void => {
        count[j]!++;
        pos[j]! += y;
        for (let s = 0; s < S; s++) {
          base[j * S + s]! += w.lossBase[s]![i]!;
          arm[j * S + s]! += w.lossArm[s]![i]!;
        }
      };
      for (let k = 0; k < n; k++) {
        const i = Math.floor(next() * n), y = w.labels[i]!;
        if (all !== undefined) add(all, i, y);
        const own = cohortSlot[w.cohort[i]!];
        if (own !== undefined) add(own, i, y);
      }
      for (let j = 0; j < G; j++) {
        const h = binaryEntropy(pos[j]! / count[j]!) * count[j]!;
        for (let s = 0; s < S; s++) {
          const b = base[j * S + s]! / h, a = arm[j * S + s]! / h;
          absSum[j]! += a - b;
          relSum[j]! += a / b - 1;
        }
      }
    }
    for (let j = 0; j < G; j++) {
      absDraws[j]![r] = absSum[j]! / units;
      relDraws[j]![r] = relSum[j]! / units;
    }
  }
  return groups.map((_, j) => ({ abs: absDraws[j]!.sort(), rel: relDraws[j]!.sort() }));
}

/** Log loss of each row (predictions clamped to [1e-12, 1 − 1e-12], as NE clamps them). */
export function rowLogLoss(pred: ArrayLike<number>, labels: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: labels.length }, (_, i) => {
    const p = Math.min(Math.max(pred[i]!, 1e-12), 1 - 1e-12);
    return labels[i] ? -Math.log(p) : -Math.log(1 - p);
  });
}
