/** The statistics of the report against reference computations on fixed numbers. */
import { expect, test } from 'vitest';
import { bonferroniLevel, meanStd, pairedBootstrap, pairedTInterval, percentileInterval, rowLogLoss, studentTCdf, studentTQuantile } from '../../src/c2al/stats.js';
import { mulberry32 } from '../../src/random.js';

test("Student's t quantiles and cdf match published tables", () => {
  // t_{0.975, df} from standard tables.
  for (const [df, t] of [[1, 12.706205], [2, 4.302653], [4, 2.776445], [9, 2.262157], [14, 2.144787], [29, 2.045230], [1000, 1.962339]] as const) {
    expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 5);
  }
  expect(studentTQuantile(0.995, 4)).toBeCloseTo(4.604095, 5);
  expect(studentTCdf(0, 3)).toBeCloseTo(0.5, 12);
  expect(studentTCdf(2.776445, 4)).toBeCloseTo(0.975, 6);
  expect(studentTCdf(-2.776445, 4)).toBeCloseTo(0.025, 6);
});

test('the paired t-interval on fixed differences equals the hand computation', () => {
  const d = [-0.012, -0.004, -0.009, 0.002, -0.007];
  const mean = d.reduce((a, b) => a + b, 0) / 5;
  const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / 4);
  const h = 2.776445 * sd / Math.sqrt(5);
  const t = pairedTInterval(d);
  expect(t.mean).toBeCloseTo(mean, 15);
  expect(t.ci[0]).toBeCloseTo(mean - h, 6);
  expect(t.ci[1]).toBeCloseTo(mean + h, 6);
  expect(t.halfWidth).toBeCloseTo(h, 6);
  expect(pairedTInterval([0.1]).ci.every(Number.isNaN)).toBe(true);
  expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1 });
  expect(bonferroniLevel(0.95, 6)).toBeCloseTo(1 - 0.05 / 6, 15);
});

test('the paired bootstrap equals a direct re-implementation on fixed rows (same draws), and covers the plug-in change', () => {
  const labels = [1, 0, 0, 1, 0, 0, 0, 1, 0, 0], cohort = [0, 0, 1, 1, 0, 1, 0, 0, 1, 0];
  const base = [[0.7, 0.2, 0.3, 0.6, 0.1, 0.4, 0.2, 0.5, 0.3, 0.2], [0.6, 0.3, 0.2, 0.7, 0.2, 0.3, 0.1, 0.6, 0.2, 0.3]];
  const arm = [[0.8, 0.1, 0.3, 0.7, 0.1, 0.3, 0.2, 0.6, 0.2, 0.1], [0.7, 0.2, 0.2, 0.6, 0.1, 0.3, 0.2, 0.7, 0.3, 0.2]];
  const world = { labels, cohort, lossBase: base.map((p) => rowLogLoss(p, labels)), lossArm: arm.map((p) => rowLogLoss(p, labels)) };
  const [overall, c0] = pairedBootstrap([world], [-1, 0], { replicates: 200, seed: 7 });
  // Reference: the same stream of draws, NE recomputed from scratch per replicate and seed.
  const next = mulberry32(7), H = (q: number) => (q <= 0 || q >= 1 ? 0 : -(q * Math.log(q) + (1 - q) * Math.log(1 - q)));
  const ne = (p: number[], rows: number[]) => {
    const y = rows.map((i) => labels[i]!), rate = y.reduce((a, b) => a + b, 0) / rows.length;
    const ll = rows.reduce((a, i) => a - (labels[i] ? Math.log(p[i]!) : Math.log(1 - p[i]!)), 0) / rows.length;
    return ll / H(rate);
  };
  const rel: number[] = [], relC0: number[] = [];
  for (let r = 0; r < 200; r++) {
    const rows = Array.from({ length: 10 }, () => Math.floor(next() * 10));
    const mine = rows.filter((i) => cohort[i] === 0);
    rel.push((ne(arm[0]!, rows) / ne(base[0]!, rows) - 1 + ne(arm[1]!, rows) / ne(base[1]!, rows) - 1) / 2);
    relC0.push((ne(arm[0]!, mine) / ne(base[0]!, mine) - 1 + ne(arm[1]!, mine) / ne(base[1]!, mine) - 1) / 2);
  }
  const sorted = (xs: number[]) => Float64Array.from(xs).sort();
  const same = (got: Float64Array, want: Float64Array) => want.forEach((v, i) => (Number.isNaN(v) ? expect(got[i]).toBeNaN() : expect(got[i]).toBeCloseTo(v, 12)));
  same(overall!.rel, sorted(rel));
  same(c0!.rel, sorted(relC0));
  const all = Array.from({ length: 10 }, (_, i) => i);
  const plugIn = (ne(arm[0]!, all) / ne(base[0]!, all) - 1 + ne(arm[1]!, all) / ne(base[1]!, all) - 1) / 2;
  const [lo, hi] = percentileInterval(overall!.rel);
  expect(lo).toBeLessThanOrEqual(plugIn);
  expect(hi).toBeGreaterThanOrEqual(plugIn);
  // Undefined replicates (one label class) are left out; with most undefined the interval is NaN.
  expect(percentileInterval(Float64Array.from([1, NaN, 2, 3]).sort())).toEqual([1, 3]);
  expect(percentileInterval(Float64Array.from([NaN, NaN, NaN, 1])).every(Number.isNaN)).toBe(true);
});
