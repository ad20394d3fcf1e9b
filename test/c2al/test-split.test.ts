/**
 * The test split is read by one function, once per arm and seed (which modules may call it:
 * test/node/c2al/test-split-readers.test.ts).
 */
import { expect, test } from 'vitest';
import { CpuBackend } from '../../src/index.js';
import { TestSplit, testPredictions } from '../../src/c2al/test-split.js';
import { syntheticClicks } from '../../src/data/synthetic.js';
import { DhenModel } from '../../src/nn/dhen.js';
import { modelConfig } from '../../src/train/model-config.js';

test('a sealed split exposes no rows, and each key reads it once', async () => {
  const data = syntheticClicks({ world: 'legacy', rows: 200, seed: 1 });
  const split = TestSplit.seal(data);
  expect(Object.keys(split).sort()).toEqual(['cohortNames', 'reads', 'rows']);
  expect(JSON.stringify(split)).not.toMatch(/labels|ids|trueProb/);
  const model = new DhenModel(modelConfig(data, { dim: 4, k: 2 }), new CpuBackend('f32'));
  const read = await testPredictions(model, split, 'baseline seed 1');
  expect(read.pred).toHaveLength(200);
  expect(read.labels).toBe(data.labels);
  await expect(testPredictions(model, split, 'baseline seed 1')).rejects.toThrow(/already read for baseline seed 1 \(each arm and seed reads it once, after selection\)/);
  expect(split.reads).toEqual(['baseline seed 1']);
  model.dispose();
});
