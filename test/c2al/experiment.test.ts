import { expect, test } from 'vitest';
import { CpuBackend } from '../../src/index.js';
import { discover, runExperiment, selectCohorts, train, type ExperimentReport } from '../../src/c2al/experiment.js';
import { renderReport } from '../../src/c2al/report.js';
import { NonFiniteError } from '../../src/train/finite-guard.js';
import { liveTensors } from '../../src/index.js';
import { syntheticClicks } from '../../src/data/synthetic.js';
import { mulberry32 } from '../../src/random.js';
import { gpu, project } from '../support/gpu.js';
import { decodeSafetensors } from '../../src/index.js';

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
  const r = await runExperiment(data, backend, { seeds: 2, steps: 12, batch: 256, out, logEvery: 3 });
  checkReport(r);
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
    expect((await readdir(out)).sort()).toEqual(['baseline', 'c2al-inference', 'c2al-train', 'config.json', 'metrics.json', 'report.html']);
    expect(r.report).toBe(`${out}/report.html`);
    expect(await readFile(r.report!, 'utf8')).toBe(renderReport(r));
    const names = async (dir: string) => [...decodeSafetensors(await readFile(`${out}/${dir}/model.safetensors`)).tensors.keys()];
    const [baseline, train, inference] = [await names('baseline'), await names('c2al-train'), await names('c2al-inference')];
    expect(inference).toEqual(baseline); // the serving model is exactly the baseline architecture
    expect(train.filter((n) => !baseline.includes(n)).every((n) => n.startsWith('heads.aux'))).toBe(true);
    expect(train.length).toBeGreaterThan(baseline.length);
    expect(JSON.parse(await readFile(`${out}/metrics.json`, 'utf8')).discovery.head).toBe(r.discovery.head);
  }
});

/** The report's structure: variants, curves at the logged steps, the serving model's identity and cost. */
function checkReport(r: ExperimentReport): void {
  expect(r.variants).toHaveLength(1);
  expect(r.variants[0]!.cohorts).toEqual(r.cohorts);
  expect(r.discovery.aux).toEqual([r.discovery.head, r.discovery.tail]);
  expect(r.discovery.selection).toBe('divergence');
  expect(Object.keys(r.discovery.matrices).sort()).toEqual(['cosine', 'jsDistance', 'symmetricKL', 'wasserstein1']);
  expect(r.curves.baseline.steps).toEqual([0, 3, 6, 9, 11]);
  expect(Object.keys(r.curves.c2al.loss)).toEqual(['primary', r.discovery.head, r.discovery.tail]);
  for (const h of Object.values(r.curves.c2al.loss)) {
    expect(h).toHaveLength(5);
    for (const v of h) expect(v).toBeGreaterThan(0);
  }
  expect(r.curves.c2al.attention).toHaveLength(5);
  expect(r.inference.sameParameters).toBe(true);
  expect(r.inference.baselineMs).toBeGreaterThan(0);
  expect(r.inference.c2alMs).toBeGreaterThan(0);
}

const REPORT_PLOTS = ['divergence-jsDistance', 'divergence-symmetricKL', 'divergence-wasserstein1', 'divergence-cosine', 'ne-per-cohort',
  'training-curves', 'attention-over-training', 'attention-gini-over-training', 'attention-histogram'];

test('report.html is self-contained and holds every plot, with finite coordinates', async () => {
  const data = syntheticClicks({ rows: 1500, seed: 3 });
  const r = await runExperiment(data, backend, { seeds: 2, steps: 4, batch: 256, lambdas: [0.2, 1] });
  const html = renderReport(r);
  expect(html.startsWith('<!doctype html>')).toBe(true);
  expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org)/); // no scripts, no external resources
  expect(html).not.toMatch(/NaN|Infinity|undefined/);
  for (const plot of REPORT_PLOTS) expect(html).toContain(`data-plot="${plot}"`);
  expect(html.match(/<svg /g)).toHaveLength(REPORT_PLOTS.length);
  expect(html.match(/<\/svg>/g)).toHaveLength(REPORT_PLOTS.length);
  for (const v of r.variants) expect(html).toContain(v.name);
  expect(r.variants.map((v) => v.aux.map((a) => a.lambda))).toEqual([[0.2, 0.2], [1, 1]]);
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
    expect(marks.length, plot).toBeGreaterThanOrEqual(2); // at least two series or bars
    // Bars and cells have area; a line (e.g. a flat metric) at least has length.
    expect(marks.some((m) => { const b = m.getBBox(); return m.tagName === 'polyline' ? b.width > 1 : b.width > 1 && b.height > 1; }), plot).toBe(true);
  }
  frame.remove();
});

test('selectCohorts: the discovered pair, then greedily the most divergent; random is a seeded draw among eligible cohorts', () => {
  const m = [[0, 1, 2, 9], [1, 0, 5, 3], [2, 5, 0, 4], [9, 3, 4, 0]];
  const d = { metric: 'jsDistance' as const, head: 0, tail: 3, matrices: { jsDistance: m, symmetricKL: m, wasserstein1: m, cosine: m }, shares: [0.5, 0.3, 0.195, 0.005], minShare: 0.01 };
  // Cohort 3 is below minShare: the pair would be (0, 3) otherwise; here head/tail come from discovery as given.
  expect(selectCohorts({ ...d, head: 1, tail: 2 }, 2)).toEqual([1, 2]);
  expect(selectCohorts({ ...d, head: 1, tail: 2 }, 3)).toEqual([1, 2, 0]);
  expect(selectCohorts({ ...d, head: 1, tail: 2 }, 1)).toEqual([1]);
  expect(() => selectCohorts(d, 4)).toThrow(/4 auxiliary cohorts asked, but only 3 cohorts hold at least 0.01/);
  const random = selectCohorts(d, 2, 'random', 9);
  expect(random).toEqual(selectCohorts(d, 2, 'random', 9));
  expect(random.every((c) => c !== 3)).toBe(true);
  for (let seed = 1; seed <= 30; seed++) expect(selectCohorts({ ...d, head: 1, tail: 2 }, 2, 'random', seed).sort()).not.toEqual([1, 2]); // never the method's own pair
  const draws = new Set(Array.from({ length: 20 }, (_, s) => selectCohorts(d, 2, 'random', s + 1).join(',')));
  expect(draws.size).toBeGreaterThan(1);
});

test('options: frozen Y stays at its initial values, named and N > 2 auxiliary cohorts train one head each, bad options are refused', async () => {
  const data = syntheticClicks({ rows: 2000, seed: 4 });
  const frozen = await train(data, backend, { steps: 4, batch: 128, freezeY: true, seed: 3 });
  const fresh = await train(data, backend, { steps: 1, batch: 128, freezeY: true, seed: 3 });
  expect(Array.from(await frozen.model.fmBlocks()[0]!.y!.read())).toEqual(Array.from(await fresh.model.fmBlocks()[0]!.y!.read()));
  expect(frozen.history.attention.every((a) => a.gini === frozen.history.attention[0]!.gini)).toBe(true);
  const moving = await train(data, backend, { steps: 4, batch: 128, seed: 3 });
  expect(Array.from(await moving.model.fmBlocks()[0]!.y!.read())).not.toEqual(Array.from(await fresh.model.fmBlocks()[0]!.y!.read()));
  for (const t of [frozen, fresh, moving]) t.model.dispose();
  const three = await train(data, backend, { steps: 2, batch: 128, aux: [{ cohort: 0, lambda: 0.5 }, { cohort: 2, lambda: 0.1 }, { cohort: 4, lambda: 1 }] });
  expect([...three.model.heads.keys()]).toEqual(['primary', 'aux0', 'aux1', 'aux2']);
  expect(Object.keys(three.history.loss)).toEqual(['primary', ...[0, 2, 4].map((c) => data.cohortNames[c])]);
  three.model.dispose();
  // Lighter auxiliary heads: their own MLP sizes; the serving model is the baseline's either way.
  const light = await train(data, backend, { steps: 2, batch: 128, aux: [{ cohort: 1, lambda: 0.5 }], auxHidden: [] });
  const shapes = (m: typeof light.model, prefix: string) => m.namedParameters().filter(([n]) => n.startsWith(prefix)).map(([n, t]) => [n, t.shape]);
  expect(shapes(light.model, 'heads.aux0')).toEqual([['heads.aux0.layers.0.weight', [5 * 16, 1]], ['heads.aux0.layers.0.bias', [1]]]);
  expect(shapes(light.model, 'heads.primary').length).toBe(6); // 64-32-1
  expect(light.model.forInference().config.auxHead).toBeUndefined();
  light.model.dispose();
  await expect(train(data, backend, { steps: 2, aux: [{ cohort: 9, lambda: 1 }] })).rejects.toThrow(/auxiliary cohort 9 is not one of 0 .. 4/);
  await expect(train(data, backend, { steps: 2, aux: [{ cohort: 1, lambda: -0.5 }] })).rejects.toThrow(/λ of cohort 'age 18-24' must be a finite number >= 0, got -0.5/);
  await expect(train(data, backend, { steps: 1.5 })).rejects.toThrow(/steps must be a positive integer, got 1.5/);
  await expect(runExperiment(data, backend, { auxCohorts: ['age 55+', 'age 99+'] })).rejects.toThrow(/unknown cohort 'age 99\+'; the cohorts are age 25-34/);
  await expect(runExperiment(data, backend, { lambdas: [0.1, 1], lambdaHead: 2 })).rejects.toThrow(/a sweep gives every head the same λ/);
  const given = await runExperiment(data, backend, { seeds: 1, steps: 2, batch: 128, auxCohorts: ['age 55+', 'age 18-24', 'age 35-44'], lambdaHead: 0.3 });
  expect(given.discovery.aux).toEqual(['age 55+', 'age 18-24', 'age 35-44']);
  expect(given.discovery.selection).toBe('given');
  expect(given.variants[0]!.aux.map((a) => a.lambda)).toEqual([0.3, 0.5, 0.5]);
});

test('the finite guard changes no result, and stops a diverging run naming the step, the tensor and the layer', async () => {
  const data = syntheticClicks({ rows: 1000, seed: 6 });
  const read = async (t: Awaited<ReturnType<typeof train>>) => (await Promise.all(t.model.parameters().map((p) => p.read()))).flatMap((a) => Array.from(a));
  const [plain, guarded] = [await train(data, backend, { steps: 3, batch: 64, seed: 2 }), await train(data, backend, { steps: 3, batch: 64, seed: 2, finiteGuard: true })];
  expect(await read(guarded)).toEqual(await read(plain));
  plain.model.dispose();
  guarded.model.dispose();
  const live = liveTensors().length;
  const err = await train(data, backend, { steps: 40, batch: 64, seed: 2, lr: 1e30, finiteGuard: true }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(NonFiniteError);
  expect((err as NonFiniteError).message).toMatch(/^step \d+: \S+.* holds a NaN or Inf at element \d+/);
  expect((err as NonFiniteError).report.step).toBeLessThan(40);
  expect(liveTensors().length).toBe(live); // the model and optimizer state of the stopped run are freed
});
