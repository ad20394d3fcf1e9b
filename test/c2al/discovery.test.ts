/**
 * Discovery against its null: quantile bins, permutations at the level the cohort is defined, the
 * size-corrected score, a family-wise p-value near uniform when nothing differs and small when something
 * does, and the batched divergences the null runs on.
 */
import { expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { binPositions, discover, permutedCohorts } from '../../src/c2al/discovery.js';
import { cohortGroupField } from '../../src/data/schema.js';
import { syntheticClicks } from '../../src/data/synthetic.js';
import { mulberry32, normalSampler } from '../../src/random.js';
import { gpu } from '../support/gpu.js';

const backend = gpu ?? new c.CpuBackend('f64');

/** Predictions of `n` rows in 3 cohorts (60/30/10 %), Beta-like; `shift` moves cohort 2's logits. */
function sample(n: number, seed: number, shift = 0): { pred: number[]; cohort: number[] } {
  const next = mulberry32(seed), normal = normalSampler(next);
  const cohort = Array.from({ length: n }, () => { const u = next(); return u < 0.6 ? 0 : u < 0.9 ? 1 : 2; });
  const pred = cohort.map((g) => 1 / (1 + Math.exp(-(-1.2 + 0.8 * normal() + (g === 2 ? shift : 0)))));
  return { pred, cohort };
}

test('quantile bins: positions are pooled mid-ranks, so each cohort\'s histogram sums to its row count', async () => {
  const { pred, cohort } = sample(997, 3);
  const u = binPositions(pred, 'quantile');
  expect(Math.min(...u)).toBeGreaterThan(0);
  expect(Math.max(...u)).toBeLessThan(1);
  const order = [...u.keys()].sort((a, b) => pred[a]! - pred[b]!);
  order.forEach((i, r) => { if (r) expect(u[i]!).toBeGreaterThanOrEqual(u[order[r - 1]!]!); }); // monotone in the prediction
  expect(binPositions([0.2, 0.2, 0.8, 0.5], 'quantile')).toEqual(Float32Array.from([0.25, 0.25, 0.875, 0.625])); // ties share their rank
  const counts = await c.scope(() => c.histogram(c.tensor(u, [u.length], { backend }), cohort, 3, 20)).toArray();
  for (let g = 0; g < 3; g++) expect(counts.slice(g * 20, g * 20 + 20).reduce((a, b) => a + b, 0)).toBe(cohort.filter((x) => x === g).length);
  // The pooled bins hold about equal numbers of rows (quantiles): 997 / 20 ≈ 50 each.
  for (let k = 0; k < 20; k++) expect(counts[k]! + counts[20 + k]! + counts[40 + k]!).toBeGreaterThanOrEqual(49);
  const logit = binPositions([0.1, 0.5, 0.9], 'logit');
  expect(Array.from(logit)).toEqual([0, 0.5, 1].map(Math.fround));
});

test('permutations shuffle cohorts across groups when the cohort is constant within them, else across rows', () => {
  const cohorts = [0, 0, 1, 1, 1, 2, 2, 0], groups = [7, 7, 3, 3, 3, 9, 9, 5];
  const labels = permutedCohorts(cohorts, 3, 50, 1, groups);
  expect(Array.from(labels.subarray(0, 8))).toEqual(cohorts);
  for (let b = 1; b <= 50; b++) {
    const block = Array.from(labels.subarray(b * 8, b * 8 + 8), (x) => x - 3 * b);
    // Rows of one group keep one cohort; the groups' cohorts are a permutation of theirs (0, 1, 2, 0).
    expect(block[0]).toBe(block[1]);
    expect(block[2]).toBe(block[3]);
    expect(block[3]).toBe(block[4]);
    expect(block[5]).toBe(block[6]);
    expect([block[0], block[2], block[5], block[7]].sort()).toEqual([0, 0, 1, 2]);
  }
  const rows = permutedCohorts(cohorts, 3, 200, 1);
  let split = 0;
  for (let b = 1; b <= 200; b++) if (rows[b * 8]! !== rows[b * 8 + 1]!) split++;
  expect(split).toBeGreaterThan(50); // rows of a group are separated by row-level shuffles
  // The datasets name their group, or it is detected: a user attribute is constant within 'user'.
  expect(cohortGroupField(syntheticClicks({ world: 'legacy', rows: 500, seed: 1 }))).toBe('user');
  const d = syntheticClicks({ world: 'legacy', rows: 500, seed: 1 });
  expect(cohortGroupField({ ...d, cohortGroup: undefined })).toBe('user');
  expect(cohortGroupField(c.cohortsByField(d, 'context'))).toBe(null); // context varies within every user
});

test('batched divergences equal one call per block', async () => {
  const counts = Array.from({ length: 2 * 3 * 6 }, (_, i) => (i * 7919) % 13);
  const both = await c.scope(() => c.divergences(c.tensor(counts, [2, 3, 6], { backend, dtype: 'u32' }))).toArray();
  for (let b = 0; b < 2; b++) {
    const one = await c.scope(() => c.divergences(c.tensor(counts.slice(b * 18, b * 18 + 18), [3, 6], { backend, dtype: 'u32' }))).toArray();
    expect(both.slice(b * 36, b * 36 + 36)).toEqual(one);
  }
  expect(() => c.divergences(c.zeros([2, 2, 3, 4], { backend, dtype: 'u32' }))).toThrow(/counts must be \[cohorts, bins\] or \[blocks, cohorts, bins\]/);
});

test('with no difference the family-wise p-value is near uniform; a clear difference gives a small one', async () => {
  const ps: number[] = [];
  for (let seed = 1; seed <= 20; seed++) {
    const { pred, cohort } = sample(1500, seed);
    ps.push((await discover(pred, cohort, 3, backend, { permutations: 99, seed })).null.pValue);
  }
  // Under the null P(p < 0.05) = 0.05: 20 draws give at most 4 below with probability 0.997 (binomial).
  expect(ps.filter((p) => p < 0.05).length).toBeLessThanOrEqual(4);
  expect(ps.filter((p) => p > 0.5).length).toBeGreaterThanOrEqual(5);
  const { pred, cohort } = sample(1500, 77, 1.2);
  const d = await discover(pred, cohort, 3, backend, { permutations: 99 });
  expect(d.null.pValue).toBeLessThan(0.05);
  expect(d.significant).toBe(true);
  expect([d.head, d.tail]).toContain(2);
  expect(d.null.z).toBeGreaterThan(3);
  expect(d.null.score).toBeCloseTo(d.null.observed - d.null.distribution.reduce((a, b) => a + b, 0) / 99, 6);
  expect(d.null.distribution).toHaveLength(99);
  expect(d.null.pairPValue).toBeLessThanOrEqual(d.null.pValue);
});

test('the choice is the largest difference beyond chance, not the most certain one: a small cohort far off beats two large cohorts a little apart', async () => {
  // 50 % and 40 % cohorts whose logits differ by 0.4, and a 3 % cohort shifted by 1: with 20k rows the two large
  // cohorts' difference is the most certain (largest z), the small cohort's the largest.
  const next = mulberry32(11), normal = normalSampler(next);
  const cohort = Array.from({ length: 20_000 }, () => { const u = next(); return u < 0.5 ? 0 : u < 0.9 ? 1 : u < 0.93 ? 2 : 3; });
  const shift = [0, 0.4, 1, 0];
  const pred = cohort.map((g) => 1 / (1 + Math.exp(-(-1.2 + 0.8 * normal() + shift[g]!))));
  const d = await discover(pred, cohort, 4, backend, { permutations: 99 });
  expect(new Set([d.head, d.tail]).has(2)).toBe(true);
  const z = d.null.zScores;
  expect(z[0]![1]!).toBeGreaterThan(z[d.head]![d.tail]!); // the z-score would have chosen the two large cohorts
  expect(d.significant).toBe(true);
});

test('bad discovery options are refused', async () => {
  const { pred, cohort } = sample(100, 1);
  await expect(discover(pred, cohort, 3, backend, { permutations: 0 })).rejects.toThrow(/permutations must be a positive integer, got 0/);
  await expect(discover(pred, cohort, 1, backend)).rejects.toThrow(/the cohort axis has 1 cohort; discovery needs at least two/);
  await expect(discover(pred, cohort, 3, backend, { binning: 'equal' as never })).rejects.toThrow(/binning must be one of quantile, logit/);
});
