/**
 * Device loss and resume: a run whose device is destroyed mid-training stops with a DeviceLostError;
 * resumed from its last saved state on a fresh device, it reaches the weights of the uninterrupted run,
 * bit for bit (same adapter, same seed).
 */
import { expect, test } from 'vitest';
import { DeviceLostError, WebGpuBackend } from '../../src/index.js';
import { train, type TrainState } from '../../src/train/loop.js';
import { syntheticClicks } from '../../src/data/synthetic.js';
import { gpu } from '../support/gpu.js';

const weights = async (t: Awaited<ReturnType<typeof train>>): Promise<number[]> =>
  (await Promise.all(t.model.parameters().map((p) => p.read()))).flatMap((a) => Array.from(a));

test.skipIf(!gpu)('a run that loses its device stops with a clear error and resumes to the uninterrupted weights', async () => {
  const data = syntheticClicks({ rows: 2000, seed: 8 });
  const options = { steps: 12, batch: 64, seed: 3, aux: [{ cohort: 2, lambda: 0.5 }, { cohort: 4, lambda: 0.5 }] };
  const whole = await train(data, gpu!, options);
  const expected = await weights(whole);
  whole.model.dispose();

  // Eager, like errors.test.ts's lost device (a lazy device destroyed soon after create() crashed Dawn's teardown there).
  const doomed = await WebGpuBackend.create();
  const saved: TrainState[] = [];
  const err = await train(data, doomed, {
    ...options, checkpoint: { every: 4, save: async (s) => { saved.push(s); } },
    onStep: (step) => { if (step === 9) doomed.ctx.device.destroy(); },
  }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(DeviceLostError);
  expect((err as Error).message).toMatch(/the WebGPU device was lost \(destroyed\)/);
  expect(saved.map((s) => s.step)).toEqual([4, 8]);

  const resumed = await train(data, gpu!, { ...options, resume: saved.at(-1)! });
  expect(resumed.history.steps[0]).toBe(8);
  expect(await weights(resumed)).toEqual(expected);
  resumed.model.dispose();
  doomed.destroy();
});

test.skipIf(!gpu)('a resume state from another model or a corrupted one is refused before anything runs', async () => {
  const data = syntheticClicks({ rows: 600, seed: 9 });
  const saved: TrainState[] = [];
  const t = await train(data, gpu!, { steps: 2, batch: 64, checkpoint: { every: 2, save: async (s) => { saved.push(s); } } });
  t.model.dispose();
  const state = saved[0]!;
  await expect(train(data, gpu!, { steps: 4, batch: 64, dim: 8, resume: state })).rejects.toThrow(/resume state \(model\) does not match \(nothing was loaded\)/);
  const flipped = Uint8Array.from(state.optimizer);
  flipped[flipped.length - 3]! ^= 0x10;
  await expect(train(data, gpu!, { steps: 4, batch: 64, resume: { ...state, optimizer: flipped } })).rejects.toThrow(/resume state \(optimizer\)/);
  await expect(train(data, gpu!, { steps: 4, batch: 64, resume: { ...state, step: 9 } })).rejects.toThrow(/resume.step must be in 0 .. 4/);
});
