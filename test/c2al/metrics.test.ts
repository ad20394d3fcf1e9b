/** NE, AUC, calibration and the floor on hand-computed cases. */
import { expect, test } from 'vitest';
import { bayesNE, metrics } from '../../src/c2al/metrics.js';

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
});

test('the floor is the expected cross-entropy under the true probabilities over the rows, normalized like NE (no label noise)', () => {
  const p = [0.1, 0.5, 0.9, 0.3], y = [0, 1, 1, 0];
  const H = (q: number) => -(q * Math.log(q) + (1 - q) * Math.log(1 - q));
  // Direct float64: mean H(p_i) over the rows, divided by H(mean label) = H(0.5).
  const want = (H(0.1) + H(0.5) + H(0.9) + H(0.3)) / 4 / H(0.5);
  expect(bayesNE(p, y)).toBeCloseTo(want, 14);
  // The same probabilities with other drawn labels of the same mean: the same floor.
  expect(bayesNE(p, [1, 0, 1, 0])).toBeCloseTo(want, 14);
  // A cohort: its own rows and its own mean label.
  expect(bayesNE(p, y, (i) => i >= 2)).toBeCloseTo((H(0.9) + H(0.3)) / 2 / H(0.5), 14);
});
