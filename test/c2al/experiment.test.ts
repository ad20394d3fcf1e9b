/**
 * The C2AL experiment under its protocol, end to end on a small planted world: every arm trained and
 * early-stopped on validation, the test split read once per arm and seed, changes with both intervals,
 * discovery's null, attention blocks with intervals, and the report (rendered in Chromium).
 */
import { expect, test } from 'vitest';
import { CpuBackend, liveTensors } from '../../src/index.js';
import { runExperiment, type ExperimentOptions } from '../../src/c2al/experiment.js';
import { DEFAULT_HYPER } from '../../src/c2al/protocol.js';
import type { ExperimentReport } from '../../src/c2al/results.js';
import { REPORT_PLOTS, renderReport } from '../../src/c2al/report.js';
import { selectCohorts } from '../../src/c2al/discovery.js';
import { train } from '../../src/train/loop.js';
import { NonFiniteError } from '../../src/train/finite-guard.js';
import { syntheticClicks } from '../../src/data/synthetic.js';
import { gpu, project } from '../support/gpu.js';

const backend = gpu ?? new CpuBackend('f64');
// Small on purpose: two seeds, two epochs at most; half the rows in the browser project (SwiftShader is
// ~10x slower than lavapipe, and all ten units train one after another).
const browser = project === 'browser';
const small: ExperimentOptions = {
  seeds: 2, maxEpochs: 2, patience: 1, permutations: 20, bootstrap: 50, lambdas: [0.3], hyper: { batch: 256, dim: browser ? 4 : 8, warmup: 5 },
  arms: ['baseline', 'c2al', 'random', 'reweight', 'duplicate'], randomDraws: 1,
};
const data = syntheticClicks({ rows: browser ? 1500 : 3000, seed: 2 });
let report: ExperimentReport | null = null;
const experiment = async (): Promise<ExperimentReport> => (report ??= await runExperiment(data, backend, small));

test('every arm is trained, selected on validation and read on test once per seed; changes carry both intervals', { timeout: 360_000 }, async () => {
  const r = await experiment();
  const armNames = ['baseline', 'c2al', 'random 1', 'reweight', 'duplicate'];
  expect(r.arms.map((a) => a.name)).toEqual(armNames);
  expect(r.testReads).toBe(armNames.length * 2);
  for (const a of r.arms) {
    expect(a.perSeed.map((s) => s.seed)).toEqual([1, 2]);
    for (const s of a.perSeed) {
      expect(s.bestEpoch).toBeGreaterThanOrEqual(1);
      expect(s.bestEpoch).toBeLessThanOrEqual(2);
      expect(Number.isFinite(s.valNE)).toBe(true);
    }
  }
  const arm = (n: string) => r.arms.find((a) => a.name === n)!;
  expect(arm('c2al').heads).toEqual(r.discovery.aux);
  expect(arm('duplicate').heads).toEqual(['y', 'y']);
  expect(arm('reweight').heads).toEqual([]);
  expect(arm('reweight').reweighted).toEqual(r.discovery.aux);
  expect(arm('random 1').heads).not.toEqual(r.discovery.aux);
  expect(r.protocol).toMatchObject({ name: 'quick', seeds: 2, worldSeeds: 1, maxEpochs: 2, patience: 1, evalEvery: 'epoch', selection: 'validation' });
  expect(r.protocol.tuned).toMatchObject({ lr: DEFAULT_HYPER.lr, dim: small.hyper!.dim, lambda: 0.3, tuned: false });
  expect(r.cohorts.map((c) => c.name)).toEqual(data.cohortNames);
  for (const row of [r.overall, ...r.cohorts]) {
    expect(Object.keys(row.delta)).toEqual(['c2al', 'random 1', 'reweight', 'duplicate']);
    for (const d of Object.values(row.delta)) {
      // A cohort whose few test rows hold one label class has no NE (NaN throughout), overall always does.
      if (row === r.overall) expect(Number.isFinite(d.rel.mean)).toBe(true);
      if (!Number.isFinite(d.rel.mean)) continue;
      expect(d.rel.ci95[0]).toBeLessThanOrEqual(d.rel.mean);
      expect(d.rel.ci95[1]).toBeGreaterThanOrEqual(d.rel.mean);
      if (Number.isFinite(d.bootstrap95[0])) expect(d.bootstrap95[0]).toBeLessThanOrEqual(d.bootstrap95[1]);
      expect(d.resolution).toBeCloseTo((d.rel.ci95[1] - d.rel.ci95[0]) / 2, 12);
      expect(d.significant).toBe((d.rel.ci95[0] > 0 || d.rel.ci95[1] < 0) && (d.bootstrap95[0] > 0 || d.bootstrap95[1] < 0));
    }
    if (Number.isFinite(row.ne.baseline!.mean)) {
      expect(Number.isFinite(row.ne.bayes!)).toBe(true);
      expect(row.excess!.baseline!.mean).toBeCloseTo(row.ne.baseline!.mean - row.ne.bayes!, 12);
    }
  }
  const d = r.discovery;
  expect(d.null.permutations).toBe(20);
  expect(d.null.level).toBe('group');
  expect(d.null.groupField).toBe('user');
  expect(d.null.pValue).toBeGreaterThan(0);
  expect(d.null.pValue).toBeLessThanOrEqual(1);
  expect(d.significant).toBe(d.null.pValue < d.level);
  expect(d.stability.units).toBe(2);
  expect(d.stability.pairs.reduce((a, p) => a + p.count, 0)).toBe(2);
  expect(d.densities.map((x) => x.cohort)).toEqual(data.cohortNames);
  for (const block of [r.attention.init, r.attention.baseline, r.attention.c2al, r.attention.delta]) {
    for (const s of Object.values(block)) expect(s.ci95).toHaveLength(2);
  }
  expect(r.attention.kind).toBe('generated');
  expect(Object.keys(r.attention.layers)).toEqual(['before', 'attention', 'after']);
  expect(r.inference.sameParameters).toBe(true);
  expect(Object.keys(r.curves.validation)).toEqual(armNames);
});

test('report.html is self-contained and holds every plot, with finite coordinates', { timeout: 360_000 }, async () => {
  const r = await experiment();
  const html = renderReport(r);
  expect(html.startsWith('<!doctype html>')).toBe(true);
  expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org)/); // no scripts, no external resources
  expect(html).not.toMatch(/undefined/);
  for (const plot of REPORT_PLOTS) expect(html).toContain(`data-plot="${plot}"`);
  expect(html.match(/<svg /g)).toHaveLength(REPORT_PLOTS.length);
  if (project !== 'browser') return;
  // Chromium renders it: every plot gets a box, and its marks (bars, lines, cells) have real geometry.
  const frame = document.createElement('iframe');
  frame.style.width = '1200px';
  frame.style.height = '900px';
  const loaded = new Promise((ok) => { frame.onload = ok; });
  frame.srcdoc = html;
  document.body.append(frame);
  await loaded;
  const doc = frame.contentDocument!;
  for (const plot of REPORT_PLOTS) {
    const svg = doc.querySelector<SVGSVGElement>(`svg[data-plot="${plot}"]`)!;
    expect(svg, plot).not.toBeNull();
    const box = svg.getBoundingClientRect();
    expect(box.width, plot).toBeGreaterThan(100);
    expect(box.height, plot).toBeGreaterThan(100);
    const marks = Array.from(svg.querySelectorAll<SVGGraphicsElement>('rect, polyline'));
    expect(marks.length, plot).toBeGreaterThanOrEqual(1);
    expect(marks.some((m) => { const b = m.getBBox(); return m.tagName === 'polyline' ? b.width > 1 : b.width > 1 && b.height > 1; }), plot).toBe(true);
  }
  frame.remove();
});

test('selectCohorts: the discovered pair, then greedily the highest scores; random is a seeded draw among eligible cohorts', () => {
  const m = [[0, 1, 2, 9], [1, 0, 5, 3], [2, 5, 0, 4], [9, 3, 4, 0]];
  const d = { head: 0, tail: 3, shares: [0.5, 0.3, 0.195, 0.005], minShare: 0.01, null: { scores: m } as never };
  expect(selectCohorts({ ...d, head: 1, tail: 2 }, 2)).toEqual([1, 2]);
  expect(selectCohorts({ ...d, head: 1, tail: 2 }, 3)).toEqual([1, 2, 0]);
  expect(selectCohorts({ ...d, head: 1, tail: 2 }, 1)).toEqual([1]);
  expect(() => selectCohorts(d, 4)).toThrow(/4 auxiliary cohorts asked, but only 3 cohorts hold at least 0.01/);
  const random = selectCohorts(d, 2, 'random', 9);
  expect(random).toEqual(selectCohorts(d, 2, 'random', 9));
  expect(random.every((c) => c !== 3)).toBe(true);
  for (let seed = 1; seed <= 30; seed++) expect(selectCohorts({ ...d, head: 1, tail: 2 }, 2, 'random', seed).sort()).not.toEqual([1, 2]); // never the method's own pair
  expect(new Set(Array.from({ length: 20 }, (_, s) => selectCohorts(d, 2, 'random', s + 1).join(','))).size).toBeGreaterThan(1);
});

test('options: frozen Y stays at its initial values, N > 2 auxiliary cohorts train one head each, bad options are refused', async () => {
  const legacy = syntheticClicks({ world: 'legacy', rows: 2000, seed: 4 });
  const o = { steps: 4, batch: 128, seed: 3, y: 'learned' as const, k: 8 };
  const frozen = await train(legacy, backend, { ...o, freezeY: true });
  const fresh = await train(legacy, backend, { ...o, steps: 1, freezeY: true });
  expect(Array.from(await frozen.model.fmBlocks()[0]!.y!.read())).toEqual(Array.from(await fresh.model.fmBlocks()[0]!.y!.read()));
  expect(frozen.history.attention.every((a) => a.gini === frozen.history.attention[0]!.gini)).toBe(true);
  const moving = await train(legacy, backend, o);
  expect(Array.from(await moving.model.fmBlocks()[0]!.y!.read())).not.toEqual(Array.from(await fresh.model.fmBlocks()[0]!.y!.read()));
  for (const t of [frozen, fresh, moving]) t.model.dispose();
  const three = await train(legacy, backend, { steps: 2, batch: 128, aux: [{ cohort: 0, lambda: 0.5 }, { cohort: 2, lambda: 0.1 }, { cohort: 4, lambda: 1 }] });
  expect([...three.model.heads.keys()]).toEqual(['primary', 'aux0', 'aux1', 'aux2']);
  expect(Object.keys(three.history.loss)).toEqual(['primary', ...[0, 2, 4].map((c) => legacy.cohortNames[c])]);
  three.model.dispose();
  // Lighter auxiliary heads: their own MLP sizes; the serving model is the baseline's either way.
  const light = await train(legacy, backend, { steps: 2, batch: 128, aux: [{ cohort: 1, lambda: 0.5 }], auxHidden: [] });
  const shapes = (m: typeof light.model, prefix: string) => m.namedParameters().filter(([n]) => n.startsWith(prefix)).map(([n, t]) => [n, t.shape]);
  expect(shapes(light.model, 'heads.aux0')).toEqual([['heads.aux0.layers.0.weight', [5 * 16, 1]], ['heads.aux0.layers.0.bias', [1]]]);
  expect(shapes(light.model, 'heads.primary').length).toBe(6); // 64-32-1
  expect(light.model.forInference().config.auxHead).toBeUndefined();
  light.model.dispose();
  await expect(train(legacy, backend, { steps: 2, aux: [{ cohort: 9, lambda: 1 }] })).rejects.toThrow(/auxiliary cohort 9 is not one of 0 .. 4/);
  await expect(train(legacy, backend, { steps: 2, aux: [{ cohort: 1, lambda: -0.5 }] })).rejects.toThrow(/λ of auxiliary head 'age 18-24' must be a finite number >= 0, got -0.5/);
  await expect(train(legacy, backend, { steps: 1.5 })).rejects.toThrow(/steps must be a positive integer, got 1.5/);
  await expect(train(legacy, backend, { patience: 0, validate: async () => 1 })).rejects.toThrow(/patience must be a positive integer, got 0/);
  await expect(runExperiment(legacy, backend, { auxCohorts: ['age 55+', 'age 99+'] })).rejects.toThrow(/unknown cohort 'age 99\+'; the cohorts are age 25-34/);
  await expect(runExperiment(legacy, backend, { arms: ['baseline', 'bogus' as never] })).rejects.toThrow(/unknown arm 'bogus'; the arms are baseline, c2al, random, reweight, duplicate/);
  await expect(runExperiment(legacy, backend, { arms: ['c2al'] })).rejects.toThrow(/the arms must include the baseline/);
  await expect(runExperiment(legacy, backend, { maxEpochs: 0 })).rejects.toThrow(/maxEpochs must be a positive integer, got 0/);
  await expect(runExperiment(legacy, backend, { tune: true, grid: { lr: [] } })).rejects.toThrow(/the tuning grid's lr axis is empty/);
  await expect(runExperiment({ ...legacy, cohortNames: ['everyone'], cohort: new Uint8Array(legacy.rows) }, backend, {})).rejects.toThrow(/the cohort axis has one cohort \(everyone\)/);
});

test('the finite guard changes no result, and stops a diverging run naming the step, the tensor and the layer', async () => {
  const legacy = syntheticClicks({ world: 'legacy', rows: 1000, seed: 6 });
  const read = async (t: Awaited<ReturnType<typeof train>>) => (await Promise.all(t.model.parameters().map((p) => p.read()))).flatMap((a) => Array.from(a));
  const [plain, guarded] = [await train(legacy, backend, { steps: 3, batch: 64, seed: 2 }), await train(legacy, backend, { steps: 3, batch: 64, seed: 2, finiteGuard: true })];
  expect(await read(guarded)).toEqual(await read(plain));
  plain.model.dispose();
  guarded.model.dispose();
  const live = liveTensors().length;
  const err = await train(legacy, backend, { steps: 40, batch: 64, seed: 2, lr: 1e30, finiteGuard: true }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(NonFiniteError);
  expect((err as NonFiniteError).message).toMatch(/^step \d+: \S+.* holds a NaN or Inf at element \d+/);
  expect((err as NonFiniteError).report.step).toBeLessThan(40);
  expect(liveTensors().length).toBe(live); // the model and optimizer state of the stopped run are freed
});
