/**
 * The arms and their objective: which heads each arm trains and on which labels, the reweight control's
 * row weights, the random control never equal to the method's pair, and the C2AL loss against a float64
 * computation on fixed numbers.
 */
import { expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { armsFor } from '../../src/c2al/arms.js';
import { c2alLoss, headLabels, rowWeights } from '../../src/train/loss.js';
import type { DhenModel } from '../../src/nn/dhen.js';
import { backends } from '../support/gpu.js';
import { expectClose } from '../support/util.js';

/** Five cohorts, 4 of them eligible (cohort 4 holds 1 % of the rows); the method chose cohorts 0 and 3. */
const discovery = { head: 0, tail: 3, shares: [0.4, 0.3, 0.2, 0.09, 0.01], minShare: 0.05, null: { scores: [] as number[][] } } as never;

test('each arm trains its own heads: c2al on the chosen cohorts, duplicate on y, reweight none, random another eligible pair', () => {
  const arms = armsFor(['baseline', 'c2al', 'random', 'reweight', 'duplicate'], [0, 3], discovery, 0.3, 5);
  expect(arms.map((a) => a.name)).toEqual(['baseline', 'c2al', 'random 1', 'random 2', 'random 3', 'random 4', 'random 5', 'reweight', 'duplicate']);
  const byName = Object.fromEntries(arms.map((a) => [a.name, a]));
  expect(byName.baseline!.aux).toEqual([]);
  expect(byName.c2al!.aux).toEqual([{ cohort: 0, lambda: 0.3 }, { cohort: 3, lambda: 0.3 }]);
  expect(byName.duplicate!.aux).toEqual([{ cohort: null, lambda: 0.3 }, { cohort: null, lambda: 0.3 }]);
  expect(byName.reweight!.aux).toEqual([]);
  expect(byName.reweight!.reweight).toEqual({ cohorts: [0, 3], factor: 1.3 });
  const draws = arms.filter((a) => a.kind === 'random');
  for (const r of draws) {
    expect(r.cohorts).toHaveLength(2);
    expect(new Set(r.cohorts).size).toBe(2);
    expect(r.cohorts.every((g) => g !== 4)).toBe(true); // never the ineligible cohort
    expect([...r.cohorts].sort()).not.toEqual([0, 3]); // never the method's own pair
  }
  expect(new Set(draws.map((r) => [...r.cohorts].sort().join())).size).toBeGreaterThan(1);
  // The draws are seeded: the same arms again.
  expect(armsFor(['random'], [0, 3], discovery, 0.3, 5).map((a) => a.cohorts)).toEqual(draws.map((a) => a.cohorts));
});

test('an unknown arm is refused by name', () => {
  expect(() => armsFor(['baseline', 'oracle' as never], [0, 3], discovery, 0.3, 1)).toThrow(/unknown arm 'oracle'; the arms are baseline, c2al, random, reweight, duplicate/);
});

test('head labels: y on the primary, y·1[x∈c] on a cohort head, y on a duplicate head; row weights 1 + λ on the primary of the chosen cohorts', () => {
  const labels = [1, 0, 1, 1], cohort = [0, 0, 3, 2];
  expect(Array.from(headLabels(labels, cohort, [{ cohort: 0, lambda: 1 }, { cohort: 3, lambda: 1 }, { cohort: null, lambda: 1 }]))).toEqual([
    1, 1, 0, 1,
    0, 0, 0, 0,
    1, 0, 1, 1,
    1, 0, 0, 1,
  ]);
  expect(Array.from(rowWeights(cohort, 2, { cohorts: [0, 3], factor: 1.5 }))).toEqual([1.5, 1, 1.5, 1, 1.5, 1, 1, 1]);
});

/** BCE with logits in float64: softplus(z) - y·z. */
const bce = (z: number, y: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - y * z;

for (const [name, b] of backends) {
  test.skipIf(!b)(`${name}: the C2AL loss is mean over the batch of Σ λ_h·w·BCE(z_h, label_h), the primary weighing 1`, async () => {
    const be = b!;
    const model = { config: { auxHeads: ['aux 1', 'aux 2'] } } as unknown as DhenModel;
    const z = { primary: [0.3, -1.2, 2.5, 0.1], 'aux 1': [-0.4, 0.9, -2, 1.7], 'aux 2': [1.1, -0.2, 0.6, -3] };
    const labels = headLabels([1, 0, 1, 1], [0, 0, 3, 2], [{ cohort: 0, lambda: 0.3 }, { cohort: 3, lambda: 0.7 }]);
    const weights = rowWeights([0, 0, 3, 2], 3, { cohorts: [3], factor: 2 });
    const lambdas = [1, 0.3, 0.7];
    const logits = Object.fromEntries(Object.entries(z).map(([k, v]) => [k, c.tensor(v, [4, 1], { backend: be })]));
    const { loss, headSums } = c2alLoss(model, logits, c.tensor(Array.from(labels), [4, 3], { backend: be }), c.tensor(lambdas, [3], { backend: be }), c.tensor(Array.from(weights), [4, 3], { backend: be }));
    const heads = [z.primary, z['aux 1'], z['aux 2']];
    const sums = heads.map((zs, h) => zs.reduce((s, v, j) => s + weights[j * 3 + h]! * bce(v, labels[j * 3 + h]!), 0));
    expectClose(await headSums.toArray(), sums, 1e-5, 1e-5, 'head sums');
    expectClose(await loss.toArray(), [sums.reduce((s, v, h) => s + lambdas[h]! * v, 0) / 4], 1e-5, 1e-5, 'loss');
    // Without auxiliary heads and weights it is the plain mean BCE of the primary head.
    const plain = c2alLoss({ config: {} } as unknown as DhenModel, { primary: logits.primary! }, c.tensor([1, 0, 1, 1], [4, 1], { backend: be }));
    expectClose(await plain.loss.toArray(), [z.primary.reduce((s, v, j) => s + bce(v, [1, 0, 1, 1][j]!), 0) / 4], 1e-5, 1e-5, 'plain loss');
    for (const t of [loss, headSums, plain.loss, plain.headSums, ...Object.values(logits)]) t.dispose();
  });
}
