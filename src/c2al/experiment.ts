/**
 * C2AL end to end on one dataset: train a baseline, discover the most divergent cohorts from its
 * predictions, train C2AL with auxiliary heads for them (one run per λ of a sweep), and evaluate NE
 * overall and per cohort against the baseline and the Bayes floor, over several seeds. Ablations are
 * options: random cohorts instead of divergent ones, N > 2 auxiliary cohorts, a λ sweep, frozen Y.
 */
import type { Backend } from '../backend/index.js';
import { DataError } from '../data/schema.js';
import { splitRows, subset, type ClickData } from '../data/schema.js';
import { saveCheckpoint, writeFileAtomic } from '../nn/checkpoint.js';
import type { DhenModel } from '../nn/dhen.js';
import { TensorError } from '../tensor.js';
import { attentionStats, type AttentionStats } from '../nn/attention-stats.js';
import { discover, selectCohorts, type Discovery, type DivergenceMetric, type Selection } from './discovery.js';
import { evaluate, type CohortResult } from './evaluate.js';
import { meanStd } from './metrics.js';
import { median } from './stats.js';
import { renderReport } from './report.js';
import { auxWeights, fmWeights, predict, stepCount, train, type AuxCohort, type TrainOptions, type TrainingHistory } from '../train/loop.js';

export { METRICS, discover, selectCohorts, type Discovery, type DivergenceMetric, type Selection } from './discovery.js';
export { evaluate, cohortMetrics, type CohortResult, type CohortMetrics } from './evaluate.js';
export { train, predict, modelConfig, stepCount, fmWeights, auxWeights, type TrainOptions, type TrainingHistory, type Trained, type AuxCohort, type TrainState } from '../train/loop.js';

export interface ExperimentOptions extends Omit<TrainOptions, 'aux' | 'onStep' | 'onLog' | 'checkpoint' | 'resume'> {
  seeds?: number;
  /** λ of every auxiliary head; several values run one C2AL model per value (a sweep). Default [0.5]. */
  lambdas?: number[];
  /** Override λ of the head and tail cohorts (the first two auxiliary cohorts) when `lambdas` has one value. */
  lambdaHead?: number;
  lambdaTail?: number;
  /** How many auxiliary cohorts (default 2: head and tail), or their names. */
  auxCohorts?: number | string[];
  /** How cohorts are chosen when `auxCohorts` is a number: by divergence (the method) or at random (a control). */
  select?: Selection;
  metric?: DivergenceMetric;
  minShare?: number;
  bins?: number;
  log?: (line: string) => void;
  /** A progress callback per training run: `label` names the run; returns the per-step callback. */
  progress?: (label: string) => (step: number, steps: number) => void;
  /** Live losses of each training run (`label` names it), as training produces them. */
  onTrainLog?: (label: string, step: number, loss: Record<string, number>) => void;
  /** Called once discovery has chosen the auxiliary cohorts (before C2AL trains). */
  onDiscovery?: (d: Discovery, aux: number[]) => void;
  /** Run folder (Node): config.json, metrics.json, report.html and seed 1's checkpoints. */
  out?: string;
}

export interface Stat { mean: number; std: number }
export interface CohortRow { name: string; share: number; ne: { baseline: Stat; c2al: Stat; bayes: number | null }; auc: { baseline: Stat; c2al: Stat }; change: Stat }
export interface Variant { name: string; aux: { cohort: string; lambda: number }[]; cohorts: CohortRow[]; overall: Omit<CohortRow, 'name' | 'share'> }

export interface ExperimentReport {
  discovery: {
    head: string; tail: string; metric: DivergenceMetric; matrix: number[][];
    matrices: Record<DivergenceMetric, number[][]>; shares: number[]; cohortNames: string[];
    /** The cohorts that got auxiliary heads and how they were chosen. */
    aux: string[]; selection: Selection | 'given';
    truth?: { head: string; tail: string };
  };
  /** The first C2AL variant against the baseline (the only one unless λ is swept). */
  cohorts: CohortRow[];
  overall: Variant['overall'];
  variants: Variant[];
  /** Density of the FM attention weights Y after training (averaged over seeds; first variant). */
  attention: { baseline: AttentionStats; c2al: AttentionStats };
  /** Seed 1's training history: losses and attention statistics over training. */
  curves: { baseline: TrainingHistory; c2al: TrainingHistory };
  /** The serving model against the baseline: same tensors, and the measured cost of a forward pass over the test split. */
  inference: { sameParameters: boolean; baselineMs: number; c2alMs: number; ratio: number };
  options: { steps: number; batch: number; freezeY: boolean; rows: { train: number; valid: number; test: number } };
  seeds: number;
  adapter: string;
  seconds: number;
  out?: string;
  /** report.html in the run folder, when one was written. */
  report?: string;
}

function meanAttention(all: AttentionStats[]): AttentionStats {
  const avg = (pick: (a: AttentionStats) => number): number => all.reduce((acc, a) => acc + pick(a), 0) / all.length;
  return {
    entries: all[0]!.entries, entropy: avg((a) => a.entropy), normalizedEntropy: avg((a) => a.normalizedEntropy), gini: avg((a) => a.gini),
    nearZero: avg((a) => a.nearZero), kurtosis: avg((a) => a.kurtosis), histogram: all[0]!.histogram.map((_, i) => avg((a) => a.histogram[i]!)),
  };
}

function sameParameters(a: DhenModel, b: DhenModel): boolean {
  const sig = (m: DhenModel) => JSON.stringify(m.namedParameters().map(([n, t]) => [n, t.shape]));
  return sig(a) === sig(b);
}

/** Median wall time of a forward pass over `data`, alternating the models so drift hits both alike. */
async function forwardCost(models: DhenModel[], data: ClickData, reps = 5): Promise<number[]> {
  const times = models.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) {
    for (const [i, m] of models.entries()) {
      const t = performance.now();
      await predict(m, data);
      times[i]!.push(performance.now() - t);
    }
  }
  return times.map(median);
}

function validateOptions(data: ClickData, o: ExperimentOptions): void {
  const seeds = o.seeds ?? 3;
  if (!(Number.isInteger(seeds) && seeds >= 1)) throw new TensorError(`experiment: seeds must be a positive integer, got ${seeds}`);
  const lambdas = o.lambdas ?? [0.5];
  if (!lambdas.length) throw new TensorError('experiment: lambdas must list at least one λ');
  for (const l of [...lambdas, o.lambdaHead, o.lambdaTail]) {
    if (l !== undefined && !(l >= 0 && Number.isFinite(l))) throw new TensorError(`experiment: λ must be a finite number >= 0, got ${l}`);
  }
  if (lambdas.length > 1 && (o.lambdaHead !== undefined || o.lambdaTail !== undefined)) {
    throw new TensorError('experiment: lambdaHead/lambdaTail apply to a single λ; a sweep gives every head the same λ');
  }
  if (Array.isArray(o.auxCohorts)) {
    const unknown = o.auxCohorts.filter((n) => !data.cohortNames.includes(n));
    if (unknown.length) throw new DataError(`unknown cohort ${unknown.map((n) => `'${n}'`).join(', ')}; the cohorts are ${data.cohortNames.join(', ')}`);
    if (!o.auxCohorts.length || new Set(o.auxCohorts).size !== o.auxCohorts.length) throw new DataError(`auxiliary cohorts must be distinct and at least one, got ${o.auxCohorts.join(', ')}`);
  }
}

/** Discovery on seed 1's baseline, then baseline and C2AL (each variant) over `seeds` seeds, evaluated on the test split. */
export async function runExperiment(data: ClickData, backend: Backend, o: ExperimentOptions = {}): Promise<ExperimentReport> {
  validateOptions(data, o);
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const progress = o.progress ?? (() => undefined);
  const split = splitRows(data.rows, 7);
  const [trainSet, valid, testSet] = [subset(data, split.train), subset(data, split.valid), subset(data, split.test)];
  if (!valid.rows || !testSet.rows) throw new DataError(`${data.rows} rows are too few for a validation and a test split`);
  const seeds = o.seeds ?? 3, lambdas = o.lambdas ?? [0.5], steps = stepCount(trainSet.rows, o);
  const names = data.cohortNames;
  const base: Float64Array[] = [];
  const variants = lambdas.map(() => [] as Float64Array[]);
  const attention = { baseline: [] as AttentionStats[], c2al: [] as AttentionStats[] };
  let curves: ExperimentReport['curves'] | null = null;
  let inference: ExperimentReport['inference'] | null = null;
  let found: Awaited<ReturnType<typeof discover>> | null = null;
  let chosen: number[] = [];
  // lambdaHead / lambdaTail apply to a single λ only (validateOptions refuses them with a sweep).
  const auxFor = (lambda: number): AuxCohort[] => auxWeights(chosen, lambda, o.lambdaHead, o.lambdaTail);
  const variantName = (lambda: number) => `C2AL λ=${lambda}`;
  for (let s = 1; s <= seeds; s++) {
    log(`seed ${s}/${seeds}: training the baseline (${steps} steps)`);
    const baseLabel = `seed ${s}/${seeds} baseline`;
    const b = await train(trainSet, backend, { ...o, seed: s, aux: [], onStep: progress(baseLabel), onLog: o.onTrainLog && ((step, loss) => o.onTrainLog!(baseLabel, step, loss)) });
    if (!found) {
      found = await discover(await predict(b.model, valid), valid.cohort, names.length, backend, { metric: o.metric, minShare: o.minShare, bins: o.bins });
      chosen = Array.isArray(o.auxCohorts) ? o.auxCohorts.map((n) => names.indexOf(n)) : selectCohorts(found, o.auxCohorts ?? 2, o.select ?? 'divergence');
      log(`discovery (${found.metric}): head = ${names[found.head]}, tail = ${names[found.tail]}; auxiliary heads for ${chosen.map((c) => names[c]).join(', ')}` +
        (Array.isArray(o.auxCohorts) ? ' (given)' : o.select === 'random' ? ' (random control)' : ''));
      o.onDiscovery?.(found, chosen);
    }
    base.push(await predict(b.model, testSet));
    attention.baseline.push(attentionStats(await fmWeights(b.model)));
    if (o.out && s === 1) await saveCheckpoint(`${o.out}/baseline`, b.model, { config: b.model.config });
    for (const [v, lambda] of lambdas.entries()) {
      log(`seed ${s}/${seeds}: training ${variantName(lambda)}`);
      const label = `seed ${s}/${seeds} ${variantName(lambda)}`;
      const c = await train(trainSet, backend, { ...o, seed: s, aux: auxFor(lambda), onStep: progress(label), onLog: o.onTrainLog && ((step, loss) => o.onTrainLog!(label, step, loss)) });
      const serving = c.model.forInference();
      variants[v]!.push(await predict(serving, testSet));
      if (v === 0) {
        attention.c2al.push(attentionStats(await fmWeights(c.model)));
        if (s === 1) {
          curves = { baseline: b.history, c2al: c.history };
          const [baselineMs, c2alMs] = await forwardCost([b.model, serving], testSet);
          inference = { sameParameters: sameParameters(b.model, serving), baselineMs: baselineMs!, c2alMs: c2alMs!, ratio: c2alMs! / baselineMs! };
          if (o.out) {
            await saveCheckpoint(`${o.out}/c2al-train`, c.model, { config: c.model.config });
            await saveCheckpoint(`${o.out}/c2al-inference`, serving, { config: serving.config });
          }
        }
      }
      c.model.dispose();
    }
    b.model.dispose();
  }
  const stat = (xs: number[]): Stat => meanStd(xs);
  const change = (c: CohortResult): number => (c.c2al.ne - c.baseline.ne) / c.baseline.ne;
  const summarize = (v: number): Variant => {
    const evals = base.map((b, i) => evaluate(testSet, b, variants[v]![i]!));
    const row = (pick: (e: ReturnType<typeof evaluate>) => CohortResult) => ({
      ne: { baseline: stat(evals.map((e) => pick(e).baseline.ne)), c2al: stat(evals.map((e) => pick(e).c2al.ne)), bayes: pick(evals[0]!).bayes },
      auc: { baseline: stat(evals.map((e) => pick(e).baseline.auc)), c2al: stat(evals.map((e) => pick(e).c2al.auc)) },
      change: stat(evals.map((e) => change(pick(e)))),
    });
    return {
      name: variantName(lambdas[v]!), aux: auxFor(lambdas[v]!).map((a) => ({ cohort: names[a.cohort]!, lambda: a.lambda })),
      cohorts: names.map((name, c) => ({ name, share: evals[0]!.cohorts[c]!.share, ...row((e) => e.cohorts[c]!) })),
      overall: row((e) => e.overall),
    };
  };
  const all = lambdas.map((_, v) => summarize(v));
  // The generator's truth: the pair whose true-probability distributions differ most (same metric).
  const truth = data.trueProb ? await discover(valid.trueProb!, valid.cohort, names.length, backend, { metric: o.metric, minShare: o.minShare, bins: o.bins }) : null;
  const report: ExperimentReport = {
    discovery: {
      head: names[found!.head]!, tail: names[found!.tail]!, metric: found!.metric, matrix: found!.matrices[found!.metric],
      matrices: found!.matrices, shares: found!.shares, cohortNames: [...names],
      aux: chosen.map((c) => names[c]!), selection: Array.isArray(o.auxCohorts) ? 'given' : o.select ?? 'divergence',
      ...(truth ? { truth: { head: names[truth.head]!, tail: names[truth.tail]! } } : {}),
    },
    cohorts: all[0]!.cohorts, overall: all[0]!.overall, variants: all,
    attention: { baseline: meanAttention(attention.baseline), c2al: meanAttention(attention.c2al) },
    curves: curves!, inference: inference!,
    options: { steps, batch: Math.min(o.batch ?? 512, trainSet.rows), freezeY: !!o.freezeY, rows: { train: trainSet.rows, valid: valid.rows, test: testSet.rows } },
    seeds, adapter: backend.description, seconds: (performance.now() - t0) / 1000,
    ...(o.out ? { out: o.out, report: `${o.out}/report.html` } : {}),
  };
  if (o.out) {
    const { log: _log, progress: _progress, onTrainLog: _onTrainLog, onDiscovery: _onDiscovery, ...options } = o;
    await writeFileAtomic(`${o.out}/config.json`, `${JSON.stringify({ options, cohorts: names, fields: data.fields }, null, 2)}\n`);
    await writeFileAtomic(`${o.out}/metrics.json`, `${JSON.stringify(report, null, 2)}\n`);
    await writeFileAtomic(`${o.out}/report.html`, renderReport(report));
  }
  return report;
}
