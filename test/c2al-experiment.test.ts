import { expect, test } from 'vitest';
import { CpuBackend } from '../src/index.js';
import { discover, runExperiment } from '../src/c2al/experiment.js';
import { syntheticClicks } from '../src/data/synthetic.js';
import { mulberry32 } from '../src/random.js';
import { gpu, project } from './gpu.js';
import { decodeSafetensors } from '../src/index.js';

const backend = gpu ?? new CpuBackend('f64');

test('discovery picks the most divergent pair of cohorts that are large enough, head first', async () => {
  const next = mulberry32(5);
  // Cohorts 0-2 predict around 0.3; cohort 1 around 0.8; cohort 3 (0.5% of rows) would be even more different.
  const cohorts: number[] = [], pred: number[] = [];
  for (let i = 0; i < 4000; i++) {
    const c = i < 2400 ? 0 : i < 3200 ? 1 : i < 3980 ? 2 : 3;
    cohorts.push(c);
    pred.push(Math.min(0.99, Math.max(0.01, (c === 1 ? 0.8 : c === 3 ? 0.99 : 0.3) + 0.05 * (next() - 0.5))));
  }
  const d = await discover(pred, cohorts, 4, backend, { minShare: 0.01 });
  expect([d.head, d.tail].sort()).toEqual([0, 1]);
  expect(d.head).toBe(0); // the larger cohort of the pair
  expect(d.shares[3]).toBeLessThan(0.01);
  expect(d.matrices.jsDistance[0]![1]).toBeGreaterThan(d.matrices.jsDistance[0]![2]!);
  const loose = await discover(pred, cohorts, 4, backend, { minShare: 0.001, metric: 'wasserstein1' });
  expect([loose.head, loose.tail]).toContain(3);
});

test('an experiment runs baseline, discovery and C2AL over seeds and reports NE per cohort', async () => {
  const data = syntheticClicks({ rows: 4000, seed: 2 });
  const out = project === 'node' ? `${(await import('node:os')).tmpdir()}/c2al-run-${Date.now()}` : undefined;
  const r = await runExperiment(data, backend, { seeds: 2, steps: 12, batch: 256, out });
  expect(data.cohortNames).toContain(r.discovery.head);
  expect(data.cohortNames).toContain(r.discovery.tail);
  expect(r.discovery.truth).toBeDefined();
  expect(r.cohorts.map((c) => c.name)).toEqual(data.cohortNames);
  expect(r.cohorts.reduce((a, c) => a + c.share, 0)).toBeCloseTo(1, 6);
  for (const c of [...r.cohorts.map((x) => x.ne), r.overall.ne]) {
    expect(Number.isFinite(c.baseline.mean) && Number.isFinite(c.c2al.mean)).toBe(true);
    expect(c.baseline.std).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(c.bayes!)).toBe(true); // small cohorts of a tiny test split can sit above 1 by chance
  }
  expect(r.overall.ne.bayes!).toBeLessThan(1);
  expect(r.seeds).toBe(2);
  for (const a of [r.attention.baseline, r.attention.c2al]) {
    expect(a.entries).toBe(5 * 8); // one FM block, Y [fields, k]
    expect(a.normalizedEntropy).toBeGreaterThan(0);
    expect(a.normalizedEntropy).toBeLessThanOrEqual(1 + 1e-12);
    expect(a.histogram.reduce((x, y) => x + y, 0)).toBeCloseTo(40, 9);
  }
  if (out) {
    const { readFile, readdir } = await import('node:fs/promises');
    expect((await readdir(out)).sort()).toEqual(['baseline', 'c2al-inference', 'c2al-train', 'config.json', 'metrics.json']);
    const names = async (dir: string) => [...decodeSafetensors(await readFile(`${out}/${dir}/model.safetensors`)).tensors.keys()];
    const [baseline, train, inference] = [await names('baseline'), await names('c2al-train'), await names('c2al-inference')];
    expect(inference).toEqual(baseline); // the serving model is exactly the baseline architecture
    expect(train.filter((n) => !baseline.includes(n)).every((n) => n.startsWith('heads.aux'))).toBe(true);
    expect(train.length).toBeGreaterThan(baseline.length);
    expect(JSON.parse(await readFile(`${out}/metrics.json`, 'utf8')).discovery.head).toBe(r.discovery.head);
  }
});
