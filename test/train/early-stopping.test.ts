/**
 * Early stopping and the protocol's training loop: the best evaluation's weights come back bit for bit,
 * patience ends the run, a run resumed from a validation state is the uninterrupted one, the epochs are
 * reshuffled (the same orders for every arm of a seed), and the lr follows its schedule.
 */
import { expect, test } from 'vitest';
import { CpuBackend } from '../../src/index.js';
import { encodeModule } from '../../src/nn/checkpoint.js';
import { epochOrder, scheduledLr, train, type TrainState } from '../../src/train/loop.js';
import { syntheticClicks } from '../../src/data/synthetic.js';
import { gpu } from '../support/gpu.js';

const backend = gpu ?? new CpuBackend('f32');
const data = syntheticClicks({ world: 'legacy', rows: 1024, seed: 3 });
/** Byte-equal checkpoints (no Buffer: this file runs in the browser too). */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const o = { batch: 128, dim: 4, k: 2, seed: 5, maxEpochs: 6, lr: 0.01 };

test('a run whose validation NE rises after epoch 2 returns epoch 2\'s weights bit for bit, stopped by patience', async () => {
  const planted = [0.9, 0.8, 0.85, 0.86, 0.87, 0.7];
  let at = 0;
  const snapshots: Uint8Array[] = [];
  const t = await train(data, backend, {
    ...o, patience: 2,
    validate: async (m) => { snapshots.push(await encodeModule(m)); return planted[at++]!; },
  });
  expect(t.history.validation.map((e) => e.ne)).toEqual([0.9, 0.8, 0.85, 0.86]); // stopped after 2 evaluations without improvement
  expect(t.history.best).toEqual({ step: 16, epoch: 2, ne: 0.8 });
  expect(t.history.stopped).toBe('patience');
  expect(t.history.stepsRun).toBe(32);
  expect(sameBytes(await encodeModule(t.model), snapshots[1]!)).toBe(true);
  expect(sameBytes(await encodeModule(t.model), snapshots[3]!)).toBe(false);
  t.model.dispose();
});

test('a run resumed from a saved validation state gives the uninterrupted run\'s weights and history', async () => {
  const validate = (() => { let i = 0; const seq = [0.9, 0.85, 0.8, 0.82, 0.81, 0.83]; return async () => seq[i++ % seq.length]!; });
  const states: TrainState[] = [];
  const whole = await train(data, backend, { ...o, patience: 3, validate: validate(), checkpoint: { every: 'eval', save: async (s) => { states.push(s); } } });
  expect(states.map((s) => s.step)).toEqual(whole.history.validation.map((e) => e.step));
  // Continue from the second evaluation's state, with the validation sequence where it was.
  const v = validate();
  await v(); await v();
  const resumed = await train(data, backend, { ...o, patience: 3, validate: v, resume: states[1]! });
  expect(resumed.history.validation).toEqual(whole.history.validation);
  expect(resumed.history.best).toEqual(whole.history.best);
  expect(sameBytes(await encodeModule(resumed.model), await encodeModule(whole.model))).toBe(true);
  whole.model.dispose();
  resumed.model.dispose();
});

test('every epoch is reshuffled from the seed; the orders are permutations and the same for every arm', () => {
  const a = epochOrder(100, 5, 0), b = epochOrder(100, 5, 1);
  expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  expect(Array.from(a)).not.toEqual(Array.from(b));
  expect(Array.from(epochOrder(100, 5, 1))).toEqual(Array.from(b));
  expect(Array.from(epochOrder(100, 6, 0))).not.toEqual(Array.from(a));
});

test('the lr follows its schedule: linear warmup, then cosine to 0 over the step budget, or halved every 2 epochs', () => {
  const o = { lr: 0.01, warmup: 4 };
  expect(scheduledLr({ ...o, schedule: 'cosine' }, 0, 24, 8)).toBeCloseTo(0.0025, 12);
  expect(scheduledLr({ ...o, schedule: 'cosine' }, 3, 24, 8)).toBeCloseTo(0.01, 12);
  expect(scheduledLr({ ...o, schedule: 'cosine' }, 14, 24, 8)).toBeCloseTo(0.005, 12); // halfway from 4 to 24
  expect(scheduledLr({ ...o, schedule: 'cosine' }, 23, 24, 8)).toBeLessThan(2e-4);
  expect(scheduledLr({ ...o, schedule: 'step' }, 15, 24, 8)).toBe(0.01);
  expect(scheduledLr({ ...o, schedule: 'step' }, 16, 24, 8)).toBe(0.005); // epoch 2 starts
  expect(scheduledLr({ ...o, schedule: 'step' }, 32, 24, 8)).toBe(0.0025);
  expect(scheduledLr({ ...o, schedule: 'constant' }, 20, 24, 8)).toBe(0.01);
  expect(scheduledLr({ lr: 0.01 }, 0, 24, 8)).toBe(0.01); // no warmup
});
