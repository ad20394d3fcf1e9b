/**
 * The synthetic worlds: seeded, with true probabilities; planted's cohorts click by different mechanisms,
 * null's by one (its cohorts' click-probability distributions are indistinguishable by a two-sample test);
 * the legacy generator as before.
 */
import { expect, test } from 'vitest';
import { bayesNE } from '../../src/c2al/metrics.js';
import { syntheticClicks } from '../../src/data/synthetic.js';
import { PLANTED_FIELDS } from '../../src/data/planted-world.js';
import { cohortGroupField, splitRows, subset, validateClickData } from '../../src/data/schema.js';

/** The two-sample Kolmogorov–Smirnov statistic D and its critical value at level α (asymptotic). */
function ks(a: number[], b: number[], alpha: number): { d: number; critical: number } {
  const x = [...a].sort((p, q) => p - q), y = [...b].sort((p, q) => p - q);
  let i = 0, j = 0, d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const c = Math.sqrt(-0.5 * Math.log(alpha / 2));
  return { d, critical: c * Math.sqrt((x.length + y.length) / (x.length * y.length)) };
}

const byCohort = (p: ArrayLike<number>, cohort: ArrayLike<number>, c: number): number[] => Array.from(p).filter((_, i) => cohort[i] === c);

test('planted and null worlds: 14 fields, cohorts 60/20/10/7/3 % of 2,000 users (≥ 50 in the smallest), a user attribute', () => {
  for (const world of ['planted', 'null'] as const) {
    const d = syntheticClicks({ world, rows: 30_000, seed: 5 });
    validateClickData(d, world); // also checks the cohort is constant along cohortGroup 'user'
    expect(d.fields.map((f) => f.name)).toEqual(PLANTED_FIELDS.map((f) => f.name));
    expect(d.fields.length).toBeGreaterThanOrEqual(12);
    expect(d.cohortGroup).toBe('user');
    expect(cohortGroupField(d)).toBe('user');
    const users = new Map<number, number>();
    for (let r = 0; r < d.rows; r++) users.set(d.ids[r * d.fields.length]!, d.cohort[r]!);
    const perCohort = [0, 1, 2, 3, 4].map((c) => [...users.values()].filter((x) => x === c).length);
    expect(perCohort[4]).toBeGreaterThanOrEqual(50);
    const shares = [0, 1, 2, 3, 4].map((c) => d.cohort.filter((x) => x === c).length / d.rows);
    [0.6, 0.2, 0.1, 0.07, 0.03].forEach((s, c) => expect(Math.abs(shares[c]! - s)).toBeLessThan(0.02));
    expect(syntheticClicks({ world, rows: 30_000, seed: 5 }).labels).toEqual(d.labels); // seeded
  }
});

test('the null world\'s cohorts share one click distribution; the planted world\'s oldest cohort does not', () => {
  const nul = syntheticClicks({ world: 'null', rows: 60_000, seed: 3 }), planted = syntheticClicks({ world: 'planted', rows: 60_000, seed: 3 });
  for (const c of [1, 2, 3, 4]) {
    const t = ks(byCohort(nul.trueProb!, nul.cohort, 0), byCohort(nul.trueProb!, nul.cohort, c), 0.001);
    expect(t.d, `null world, cohort ${c} vs the majority`).toBeLessThan(t.critical);
  }
  const t = ks(byCohort(planted.trueProb!, planted.cohort, 0), byCohort(planted.trueProb!, planted.cohort, 4), 0.001);
  expect(t.d).toBeGreaterThan(t.critical);
  // Labels are drawn from the true probabilities: each cohort's click rate within 4 standard errors of its mean p.
  for (const d of [nul, planted]) {
    for (const c of [0, 1, 2, 3, 4]) {
      const p = byCohort(d.trueProb!, d.cohort, c), y = byCohort(d.labels, d.cohort, c);
      const mean = p.reduce((a, v) => a + v, 0) / p.length, rate = y.reduce((a, v) => a + v, 0) / y.length;
      expect(Math.abs(rate - mean)).toBeLessThan(4 * Math.sqrt(mean * (1 - mean) / p.length));
    }
  }
});

test('the legacy generator is seeded, keeps true probabilities, and gives cohorts different base rates', () => {
  const a = syntheticClicks({ world: 'legacy', rows: 20_000, seed: 3 }), b = syntheticClicks({ world: 'legacy', rows: 20_000, seed: 3 });
  expect(a.ids).toEqual(b.ids);
  expect(a.labels).toEqual(b.labels);
  expect(syntheticClicks({ world: 'legacy', rows: 100, seed: 4 }).ids).not.toEqual(a.ids.slice(0, 500));
  const share = (c: number) => a.cohort.filter((g) => g === c).length / a.rows;
  expect(share(0)).toBeGreaterThan(0.5);
  expect(share(4)).toBeGreaterThan(0.01);
  expect(share(4)).toBeLessThan(0.06);
  const rate = (c: number) => { let s = 0, n = 0; a.cohort.forEach((g, i) => { if (g === c) { s += a.labels[i]!; n++; } }); return s / n; };
  expect(Math.abs(rate(1) - rate(2))).toBeGreaterThan(0.1);
  const floor = bayesNE(a.trueProb!, a.labels);
  expect(floor).toBeLessThan(0.95);
  expect(floor).toBeGreaterThan(0.3);
  const { train, valid, test: held } = splitRows(a.rows, 1);
  expect(train.length + valid.length + held.length).toBe(a.rows);
  expect(new Set([...train, ...valid, ...held]).size).toBe(a.rows);
  const s = subset(a, valid);
  expect(s.rows).toBe(valid.length);
  expect(s.labels[0]).toBe(a.labels[valid[0]!]);
});

test('an unknown world is refused with the names allowed', () => {
  expect(() => syntheticClicks({ world: 'flat' as never })).toThrow(/--world must be one of planted, null, legacy, got 'flat'/);
});
