/**
 * C2AL end to end on one dataset: train a baseline, discover the most divergent pair of cohorts from its
 * predictions (GPU histograms + divergence matrices), train C2AL with auxiliary heads for them, and
 * evaluate NE overall and per cohort against the baseline and the Bayes floor, over several seeds.
 *   L = BCE(z_p, y) + λ_head·BCE(z_h, y·1[x∈head]) + λ_tail·BCE(z_t, y·1[x∈tail]), each averaged over
 *   the whole batch (rows outside a cohort carry label 0), all heads in one fused BCE dispatch.
 */
import type { Backend } from '../backend/index.js';
import { bceWithLogits, concat, divergences, histogram, mulScalar, reshape, sigmoid, sum, tensor } from '../ops.js';
import { DhenModel, type DhenConfig, type DhenLayerConfig } from '../nn/dhen.js';
import { Adam } from '../train/optim.js';
import { noGrad, scope } from '../tensor.js';
import { splitRows, subset, type ClickData } from '../data/synthetic.js';
import { bayesNE, meanStd, metrics, type Metrics } from './metrics.js';
import { attentionStats, type AttentionStats } from './attention.js';
import { saveCheckpoint, writeFileAtomic } from '../nn/checkpoint.js';

export const METRICS = ['symmetricKL', 'jsDistance', 'wasserstein1', 'cosine'] as const;
export type DivergenceMetric = (typeof METRICS)[number];

export interface TrainOptions {
  dim?: number;
  layers?: DhenLayerConfig[];
  headHidden?: number[];
  steps?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  /** Auxiliary cohorts (C2AL): their indices and λ weights. Empty: the baseline. */
  aux?: { cohort: number; lambda: number }[];
  onStep?: (step: number, loss: number | null) => void;
}

export function modelConfig(data: ClickData, o: TrainOptions): DhenConfig {
  return {
    fields: data.fields, dim: o.dim ?? 16, seed: o.seed ?? 1,
    ...(data.denseFeatures ? { dense: data.denseFeatures, denseFields: 1 } : {}),
    layers: o.layers ?? [{ modules: [{ type: 'fm', k: 8, hidden: [64] }, { type: 'linearCompress' }], ensemble: 'sum' }],
    head: { hidden: o.headHidden ?? [64, 32] },
    auxHeads: (o.aux ?? []).map((_, i) => `aux${i}`),
  };
}

/** Trains a DHEN on `data` (baseline, or C2AL when `aux` lists cohorts) and returns it. */
export async function train(data: ClickData, backend: Backend, o: TrainOptions = {}): Promise<DhenModel> {
  const aux = o.aux ?? [];
  const model = new DhenModel(modelConfig(data, o), backend);
  const opt = new Adam(model.namedParameters(), { lr: o.lr ?? 0.005 });
  const batch = o.batch ?? 512, steps = o.steps ?? 200, heads = 1 + aux.length;
  const order = splitRows(data.rows, o.seed ?? 1, [1, 0, 0]).train;
  const weights = tensor([1, ...aux.map((a) => a.lambda)], [heads], { backend });
  for (let step = 0; step < steps; step++) {
    const start = (step * batch) % Math.max(1, data.rows - batch + 1);
    const rows = subset(data, order.subarray(start, start + batch));
    const b = rows.rows;
    // Column 0: the label; column 1 + h: the label where the row is in auxiliary cohort h, else 0.
    const y = new Float32Array(b * heads);
    for (let j = 0; j < b; j++) {
      y[j * heads] = rows.labels[j]!;
      aux.forEach((a, h) => { y[j * heads + 1 + h] = rows.cohort[j] === a.cohort ? rows.labels[j]! : 0; });
    }
    scope(() => {
      const dense = rows.dense ? tensor(rows.dense, [b, rows.denseFeatures!], { backend }) : undefined;
      const { logits } = model.forward(rows.ids, dense);
      const z = heads === 1 ? reshape(logits.primary!, [b, 1]) : concat(['primary', ...aux.map((_, i) => `aux${i}`)].map((h) => reshape(logits[h]!, [b, 1])), 1);
      mulScalar(sum(bceWithLogits(z, tensor(y, [b, heads], { backend }), weights)), 1 / b).backward();
    });
    opt.step();
    opt.zeroGrad();
    o.onStep?.(step, null);
  }
  weights.dispose();
  opt.dispose();
  return model;
}

/** Click probabilities of the primary head for every row (float64 on the host). */
export async function predict(model: DhenModel, data: ClickData, batch = 2048): Promise<Float64Array> {
  const f = data.fields.length, out = new Float64Array(data.rows);
  model.eval();
  for (let start = 0; start < data.rows; start += batch) {
    const end = Math.min(data.rows, start + batch);
    const nd = data.denseFeatures ?? 0;
    const dense = nd ? tensor(data.dense!.subarray(start * nd, end * nd), [end - start, nd], { backend: model.backend }) : undefined;
    const p = noGrad(() => scope(() => sigmoid(model.forward(data.ids.subarray(start * f, end * f), dense).logits.primary!)));
    dense?.dispose();
    out.set(await p.read(), start);
    p.dispose();
  }
  model.train();
  return out;
}

export interface Discovery {
  metric: DivergenceMetric;
  head: number;
  tail: number;
  /** The C×C matrix of each metric (NaN where a cohort has no rows). */
  matrices: Record<DivergenceMetric, number[][]>;
  shares: number[];
}

/** Per-cohort histograms of predictions and the pairwise divergences (GPU kernels); picks the most divergent eligible pair. */
export async function discover(pred: ArrayLike<number>, cohorts: ArrayLike<number>, numCohorts: number, backend: Backend,
  o: { metric?: DivergenceMetric; bins?: number; minShare?: number } = {}): Promise<Discovery> {
  const metric = o.metric ?? 'jsDistance';
  const flat = noGrad(() => scope(() => divergences(histogram(tensor(Float32Array.from(pred), [pred.length], { backend }), cohorts, numCohorts, o.bins ?? 50))));
  const d = Array.from(await flat.read());
  flat.dispose();
  const matrices = Object.fromEntries(METRICS.map((m, k) => [m, Array.from({ length: numCohorts }, (_, i) =>
    Array.from({ length: numCohorts }, (__, j) => d[k * numCohorts * numCohorts + i * numCohorts + j]!))])) as Record<DivergenceMetric, number[][]>;
  const counts = new Array<number>(numCohorts).fill(0);
  for (let i = 0; i < cohorts.length; i++) counts[cohorts[i]!]!++;
  const shares = counts.map((c) => c / cohorts.length);
  let best = -1, head = -1, tail = -1;
  for (let i = 0; i < numCohorts; i++) {
    for (let j = i + 1; j < numCohorts; j++) {
      const v = matrices[metric][i]![j]!;
      if (shares[i]! >= (o.minShare ?? 0.01) && shares[j]! >= (o.minShare ?? 0.01) && v > best) { best = v; head = i; tail = j; }
    }
  }
  if (head < 0) throw new Error(`discover: no pair of cohorts holds at least ${o.minShare ?? 0.01} of the rows each`);
  // head: the larger cohort of the pair.
  if (shares[tail]! > shares[head]!) [head, tail] = [tail, head];
  return { metric, head, tail, matrices, shares };
}

export interface CohortResult { name: string; share: number; baseline: Metrics; c2al: Metrics; bayes: number | null }

export function evaluate(data: ClickData, base: ArrayLike<number>, c2al: ArrayLike<number>): { overall: CohortResult; cohorts: CohortResult[] } {
  const row = (name: string, mask?: (i: number) => boolean): CohortResult => ({
    name, share: mask ? Array.from(data.cohort).filter((_, i) => mask(i)).length / data.rows : 1,
    baseline: metrics(base, data.labels, mask), c2al: metrics(c2al, data.labels, mask),
    bayes: data.trueProb ? bayesNE(data.trueProb, data.labels, mask) : null,
  });
  return { overall: row('overall'), cohorts: data.cohortNames.map((n, c) => row(n, (i) => data.cohort[i] === c)) };
}

export interface ExperimentOptions extends TrainOptions {
  seeds?: number;
  lambdaHead?: number;
  lambdaTail?: number;
  metric?: DivergenceMetric;
  minShare?: number;
  log?: (line: string) => void;
  /** Run folder (Node): config.json, metrics.json, and seed 1's checkpoints (baseline, c2al-train, c2al-inference). */
  out?: string;
}

export interface Stat { mean: number; std: number }
export interface ExperimentReport {
  discovery: { head: string; tail: string; metric: DivergenceMetric; matrix: number[][]; truth?: { head: string; tail: string } };
  cohorts: { name: string; share: number; ne: { baseline: Stat; c2al: Stat; bayes: number | null }; change: Stat }[];
  overall: { ne: { baseline: Stat; c2al: Stat; bayes: number | null }; auc: { baseline: Stat; c2al: Stat }; change: Stat };
  /** Density of the FM attention weights Y after training (averaged over seeds). */
  attention: { baseline: AttentionStats; c2al: AttentionStats };
  seeds: number;
  adapter: string;
  seconds: number;
  /** The run folder, when one was written. */
  out?: string;
}

async function fmWeights(model: DhenModel): Promise<number[]> {
  const parts = await Promise.all(model.fmBlocks().filter((b) => b.y).map(async (b) => Array.from(await b.y!.read())));
  return parts.flat();
}

function meanStats(all: AttentionStats[]): AttentionStats {
  const avg = (pick: (a: AttentionStats) => number): number => all.reduce((acc, a) => acc + pick(a), 0) / all.length;
  return {
    entries: all[0]!.entries, entropy: avg((a) => a.entropy), normalizedEntropy: avg((a) => a.normalizedEntropy), gini: avg((a) => a.gini),
    nearZero: avg((a) => a.nearZero), kurtosis: avg((a) => a.kurtosis), histogram: all[0]!.histogram.map((_, i) => avg((a) => a.histogram[i]!)),
  };
}

/** Discovery on seed 1's baseline, then baseline and C2AL over `seeds` seeds, evaluated on the test split. */
export async function runExperiment(data: ClickData, backend: Backend, o: ExperimentOptions = {}): Promise<ExperimentReport> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const split = splitRows(data.rows, 7);
  const [trainSet, valid, testSet] = [subset(data, split.train), subset(data, split.valid), subset(data, split.test)];
  const seeds = o.seeds ?? 3;
  const base: Float64Array[] = [], c2al: Float64Array[] = [];
  const attention = { baseline: [] as AttentionStats[], c2al: [] as AttentionStats[] };
  let found: Discovery | null = null;
  for (let s = 1; s <= seeds; s++) {
    log(`seed ${s}/${seeds}: training the baseline (${o.steps ?? 200} steps)`);
    const b = await train(trainSet, backend, { ...o, seed: s, aux: [] });
    if (!found) {
      found = await discover(await predict(b, valid), valid.cohort, data.cohortNames.length, backend, { metric: o.metric, minShare: o.minShare });
      log(`discovery (${found.metric}): head = ${data.cohortNames[found.head]}, tail = ${data.cohortNames[found.tail]}`);
    }
    base.push(await predict(b, testSet));
    attention.baseline.push(attentionStats(await fmWeights(b)));
    if (o.out && s === 1) await saveCheckpoint(`${o.out}/baseline`, b, { config: b.config });
    b.dispose();
    log(`seed ${s}/${seeds}: training C2AL`);
    const c = await train(trainSet, backend, { ...o, seed: s, aux: [{ cohort: found.head, lambda: o.lambdaHead ?? 0.5 }, { cohort: found.tail, lambda: o.lambdaTail ?? 0.5 }] });
    const serving = c.forInference();
    c2al.push(await predict(serving, testSet));
    attention.c2al.push(attentionStats(await fmWeights(c)));
    if (o.out && s === 1) {
      await saveCheckpoint(`${o.out}/c2al-train`, c, { config: c.config });
      await saveCheckpoint(`${o.out}/c2al-inference`, serving, { config: serving.config });
    }
    c.dispose();
  }
  const evals = base.map((b, i) => evaluate(testSet, b, c2al[i]!));
  const stat = (pick: (e: ReturnType<typeof evaluate>) => number): Stat => meanStd(evals.map(pick));
  const change = (c: CohortResult): number => (c.c2al.ne - c.baseline.ne) / c.baseline.ne;
  // The generator's truth: the pair whose true-probability distributions differ most (same metric).
  const truth = data.trueProb ? await discover(valid.trueProb!, valid.cohort, data.cohortNames.length, backend, { metric: o.metric, minShare: o.minShare }) : null;
  const report: ExperimentReport = {
    discovery: {
      head: data.cohortNames[found!.head]!, tail: data.cohortNames[found!.tail]!, metric: found!.metric, matrix: found!.matrices[found!.metric],
      ...(truth ? { truth: { head: data.cohortNames[truth.head]!, tail: data.cohortNames[truth.tail]! } } : {}),
    },
    cohorts: data.cohortNames.map((name, c) => ({
      name, share: evals[0]!.cohorts[c]!.share,
      ne: { baseline: stat((e) => e.cohorts[c]!.baseline.ne), c2al: stat((e) => e.cohorts[c]!.c2al.ne), bayes: evals[0]!.cohorts[c]!.bayes },
      change: stat((e) => change(e.cohorts[c]!)),
    })),
    overall: {
      ne: { baseline: stat((e) => e.overall.baseline.ne), c2al: stat((e) => e.overall.c2al.ne), bayes: evals[0]!.overall.bayes },
      auc: { baseline: stat((e) => e.overall.baseline.auc), c2al: stat((e) => e.overall.c2al.auc) },
      change: stat((e) => change(e.overall)),
    },
    attention: { baseline: meanStats(attention.baseline), c2al: meanStats(attention.c2al) },
    seeds, adapter: backend.description, seconds: (performance.now() - t0) / 1000,
    ...(o.out ? { out: o.out } : {}),
  };
  if (o.out) {
    const { log: _log, onStep: _onStep, ...options } = o;
    await writeFileAtomic(`${o.out}/config.json`, `${JSON.stringify({ options, cohorts: data.cohortNames, fields: data.fields }, null, 2)}\n`);
    await writeFileAtomic(`${o.out}/metrics.json`, `${JSON.stringify(report, null, 2)}\n`);
  }
  return report;
}
