/**
 * The report's tables from fixed predictions: each arm against the baseline and C2AL against each control,
 * checked against NE computed here by hand (mean log loss over the entropy of the mean label).
 */
import { expect, test } from 'vitest';
import { summarize, type UnitTest } from '../../src/c2al/summary.js';
import { PROTOCOLS } from '../../src/c2al/protocol.js';
import { mulberry32 } from '../../src/random.js';

const T975_DF2 = 4.302653; // t_{0.975, 2}: three units

function ne(pred: ArrayLike<number>, labels: ArrayLike<number>, rows: number[]): number {
  const ybar = rows.reduce((a, i) => a + labels[i]!, 0) / rows.length;
  const h = -(ybar * Math.log(ybar) + (1 - ybar) * Math.log(1 - ybar));
  const ll = rows.reduce((a, i) => a - (labels[i] ? Math.log(pred[i]!) : Math.log(1 - pred[i]!)), 0) / rows.length;
  return ll / h;
}

/** Three units of 400 rows in two cohorts; every arm a seeded perturbation of the true probabilities. */
function units(): UnitTest[] {
  const n = 400, rand = mulberry32(11);
  const prob = Float64Array.from({ length: n }, () => 0.1 + 0.8 * rand());
  const labels = Uint8Array.from(prob, (p) => (rand() < p ? 1 : 0));
  const cohort = Uint8Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 1 : 0));
  const noisy = (scale: number) => Float64Array.from(prob, (p) => Math.min(0.99, Math.max(0.01, p + scale * (rand() - 0.5))));
  return [1, 2, 3].map((seed) => ({
    world: 1, seed, rows: { labels, cohort },
    testOf: new Map([['baseline', noisy(0.5)], ['c2al', noisy(0.2)], ['random 1', noisy(0.4)], ['random 2', noisy(0.6)], ['duplicate', noisy(0.3)]]),
  }));
}

test('C2AL against each control: (C2AL − control) / control per unit, the pooled random control averaged over draws', () => {
  const u = units();
  const s = summarize(u, ['big', 'small'], { ...PROTOCOLS.quick, bootstrap: 300 }, { init: [], baseline: [], c2al: [] });
  const all = Array.from({ length: 400 }, (_, i) => i), small = all.filter((i) => i % 4 === 0);
  const labels = u[0]!.rows.labels;
  for (const [rows, got] of [[all, s.overall], [small, s.cohorts[1]!]] as const) {
    const at = (unit: UnitTest, arm: string) => ne(unit.testOf.get(arm)!, labels, rows);
    const pooled = (unit: UnitTest) => (at(unit, 'random 1') + at(unit, 'random 2')) / 2;
    // The arms against the baseline, as before.
    const vsBase = u.map((x) => (at(x, 'c2al') - at(x, 'baseline')) / at(x, 'baseline'));
    expect(got.delta.c2al!.rel.mean).toBeCloseTo(vsBase.reduce((a, b) => a + b) / 3, 12);
    // C2AL against duplicate heads and against the pooled random pairs.
    for (const [arm, control] of [['duplicate', (x: UnitTest) => at(x, 'duplicate')], ['random', pooled]] as const) {
      const d = u.map((x) => (at(x, 'c2al') - control(x)) / control(x));
      const mean = d.reduce((a, b) => a + b) / 3, sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / 2);
      const c = got.vsC2al[arm]!;
      expect(c.rel.mean).toBeCloseTo(mean, 12);
      expect(c.rel.ci95[0]).toBeCloseTo(mean - T975_DF2 * sd / Math.sqrt(3), 6);
      expect(c.rel.ci95[1]).toBeCloseTo(mean + T975_DF2 * sd / Math.sqrt(3), 6);
      expect(c.resolution).toBeCloseTo(T975_DF2 * sd / Math.sqrt(3), 6);
      // The bootstrap resamples rows around the same pooled contrast.
      expect(c.bootstrap95[0]).toBeLessThan(c.bootstrap95[1]);
      expect(c.bootstrap95[0] - 0.05).toBeLessThan(mean);
      expect(c.bootstrap95[1] + 0.05).toBeGreaterThan(mean);
    }
    // Each draw is a control of its own too; C2AL is never a control of itself.
    expect(Object.keys(got.vsC2al).sort()).toEqual(['duplicate', 'random', 'random 1', 'random 2']);
  }
  // Overall, C2AL (the least noisy predictions) beats the noisiest control on every unit and every resample.
  expect(s.overall.vsC2al['random 2']!.rel.mean).toBeLessThan(0);
  expect(s.overall.vsC2al['random 2']!.bootstrap95[1]).toBeLessThan(0);
});

test('a control identical to C2AL gives a zero contrast, not significant; without a c2al arm there is none', () => {
  const u = units().map((x) => ({ ...x, testOf: new Map([...x.testOf].map(([k, v]) => [k, k === 'duplicate' ? x.testOf.get('c2al')! : v])) }));
  const s = summarize(u, ['big', 'small'], { ...PROTOCOLS.quick, bootstrap: 200 }, { init: [], baseline: [], c2al: [] });
  expect(s.overall.vsC2al.duplicate!.rel.mean).toBe(0);
  expect(s.overall.vsC2al.duplicate!.bootstrap95).toEqual([0, 0]);
  expect(s.overall.vsC2al.duplicate!.significant).toBe(false);
  const without = u.map((x) => ({ ...x, testOf: new Map([...x.testOf].filter(([k]) => k !== 'c2al')) }));
  expect(summarize(without, ['big', 'small'], PROTOCOLS.quick, { init: [], baseline: [], c2al: [] }).overall.vsC2al).toEqual({});
});
