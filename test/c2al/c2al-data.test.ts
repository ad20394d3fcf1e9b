import { expect, test } from 'vitest';
import { bayesNE, meanStd, metrics } from '../../src/c2al/metrics.js';
import { syntheticClicks } from '../../src/data/synthetic.js';
import { splitRows, subset } from '../../src/data/schema.js';

test('NE, log loss, AUC and calibration on hand-computed cases', () => {
  const m = metrics([0.9, 0.2, 0.6, 0.4], [1, 0, 1, 0]);
  const logLoss = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.6) + Math.log(0.6)) / 4;
  expect(m.logLoss).toBeCloseTo(logLoss, 12);
  expect(m.ne).toBeCloseTo(logLoss / Math.log(2), 12); // mean label 0.5: entropy ln 2
  expect(m.auc).toBe(1);
  expect(m.calibration).toBeCloseTo(0.525 / 0.5, 12);
  expect(metrics([0.5, 0.5, 0.5], [1, 0, 1]).auc).toBe(0.5); // ties count half
  // Pairs (pos, neg): (0.3, 0.7) 0, (0.3, 0.5) 0, (0.5, 0.7) 0, (0.5, 0.5) ½.
  expect(metrics([0.3, 0.7, 0.5, 0.5], [1, 0, 1, 0]).auc).toBeCloseTo(0.5 / 4, 12);
  expect(metrics([0, 1], [1, 0]).logLoss).toBeCloseTo(-Math.log(1e-12), 3); // clamped to [1e-12, 1 − 1e-12]: finite
  // A predictor equal to the mean label scores NE = 1.
  expect(metrics([0.25, 0.25, 0.25, 0.25], [1, 0, 0, 0]).ne).toBeCloseTo(1, 12);
  expect(metrics([0.9, 0.2], [1, 0], (i) => i === 0).rows).toBe(1);
  expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1 });
});

test('the synthetic generator is seeded, keeps true probabilities, and gives cohorts different base rates', () => {
  const a = syntheticClicks({ rows: 20_000, seed: 3 }), b = syntheticClicks({ rows: 20_000, seed: 3 });
  expect(a.ids).toEqual(b.ids);
  expect(a.labels).toEqual(b.labels);
  expect(syntheticClicks({ rows: 100, seed: 4 }).ids).not.toEqual(a.ids.slice(0, 500));
  const share = (c: number) => a.cohort.filter((g) => g === c).length / a.rows;
  expect(share(0)).toBeGreaterThan(0.5);
  expect(share(4)).toBeGreaterThan(0.01);
  expect(share(4)).toBeLessThan(0.06);
  const rate = (c: number) => { let s = 0, n = 0; a.cohort.forEach((g, i) => { if (g === c) { s += a.labels[i]!; n++; } }); return s / n; };
  expect(Math.abs(rate(1) - rate(2))).toBeGreaterThan(0.1);
  // The Bayes floor is below 1 (the features are informative) and below a constant predictor's NE.
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

test('attention statistics: uniform weights vs one dominant entry', async () => {
  const { attentionStats } = await import('../../src/nn/attention-stats.js');
  const uniform = attentionStats(new Array(16).fill(0.5));
  expect(uniform.normalizedEntropy).toBeCloseTo(1, 12);
  expect(uniform.gini).toBeCloseTo(0, 12);
  expect(uniform.nearZero).toBe(0);
  const peaked = attentionStats([10, ...new Array(15).fill(0.001)]);
  expect(peaked.normalizedEntropy).toBeLessThan(0.1);
  expect(peaked.gini).toBeGreaterThan(0.9);
  expect(peaked.nearZero).toBeCloseTo(15 / 16, 12);
  expect(peaked.kurtosis).toBeGreaterThan(5);
  expect(peaked.histogram[19]).toBe(1);
  expect(peaked.histogram[0]).toBe(15);
});
