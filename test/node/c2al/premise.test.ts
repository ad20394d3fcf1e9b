/**
 * The planted world's premise, at convergence: a baseline trained the way the protocol trains it (the
 * default hyperparameters, early-stopped on validation, best weights restored) fits the majority cohort
 * closer to its floor than any minority, and the two cohorts the generator made most different from the
 * majority are the two fitted worst. Node only: 100k rows train for about half a minute on lavapipe.
 */
import { expect, test } from 'vitest';
import * as c from '../../../src/index.js';
import { DEFAULT_HYPER, PROTOCOLS } from '../../../src/c2al/protocol.js';
import { discover } from '../../../src/c2al/discovery.js';
import { bayesNE, metrics } from '../../../src/c2al/metrics.js';
import { PLANTED_MOST_DIFFERENT } from '../../../src/data/planted-world.js';
import { splitRows, subset } from '../../../src/data/schema.js';
import { syntheticClicks } from '../../../src/data/synthetic.js';
import { predict, train } from '../../../src/train/loop.js';
import { gpu } from '../../support/gpu.js';

const backend = gpu ?? new c.CpuBackend('f32');

test('planted: at the converged baseline every minority\'s excess NE over its floor exceeds the majority\'s', async () => {
  const data = syntheticClicks({ world: 'planted', rows: 100_000, seed: 1 });
  const s = splitRows(data.rows, 7);
  const [trainSet, valid] = [subset(data, s.train), subset(data, s.valid)];
  const { lr, dim, embeddingL2, weightDecay, batch, schedule, warmup, k, y } = DEFAULT_HYPER;
  const t = await train(trainSet, backend, {
    seed: 1, lr, dim, embeddingL2, weightDecay, batch, schedule, warmup, k, y,
    maxEpochs: PROTOCOLS.quick.maxEpochs, patience: PROTOCOLS.quick.patience,
    validate: async (m) => metrics(await predict(m, valid), valid.labels).ne,
  });
  const pred = await predict(t.model, valid);
  t.model.dispose();
  expect(t.history.best).not.toBeNull();
  const excess = data.cohortNames.map((_, g) => {
    const mask = (i: number) => valid.cohort[i] === g;
    return metrics(pred, valid.labels, mask).ne - bayesNE(valid.trueProb!, valid.labels, mask);
  });
  const shares = data.cohortNames.map((_, g) => valid.cohort.filter((x) => x === g).length);
  const majority = shares.indexOf(Math.max(...shares));
  const report = data.cohortNames.map((n, g) => `${n} ${excess[g]!.toFixed(3)}`).join(', ');
  for (const [g, e] of excess.entries()) if (g !== majority) expect(e, `excess NE: ${report}`).toBeGreaterThan(excess[majority]!);
  const worst = [...excess.keys()].sort((a, b) => excess[b]! - excess[a]!).slice(0, 2).map((g) => data.cohortNames[g]);
  expect(new Set(worst), `excess NE: ${report}`).toEqual(new Set(PLANTED_MOST_DIFFERENT));
  // The same two cohorts are the pair whose true click probabilities diverge most (what the experiment reports as the generator's pair).
  const truth = (await discover(data.trueProb!, data.cohort, data.cohortNames.length, backend, { permutations: 1 })).matrices.jsDistance;
  let pair = [0, 0], most = -1;
  truth.forEach((row, i) => row.forEach((v, j) => { if (j > i && v > most) { most = v; pair = [i, j]; } }));
  expect(new Set(pair.map((g) => data.cohortNames[g]))).toEqual(new Set(PLANTED_MOST_DIFFERENT));
}, 300_000);
