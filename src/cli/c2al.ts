/**
 * The C2AL subcommands of the CLI: experiment (discovery → baseline → C2AL → evaluation → report),
 * discover, train and evaluate. Node only (files, the terminal); the library they call is not.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { WebGpuBackend } from '../backend/webgpu.js';
import { runExperiment, type ExperimentReport } from '../c2al/experiment.js';
import { discover, METRICS, selectCohorts, type DivergenceMetric, type Selection } from '../c2al/discovery.js';
import { cohortMetrics, type CohortMetrics } from '../c2al/evaluate.js';
import { auxWeights, fmWeights, predict, stepCount, train, type TrainOptions } from '../train/loop.js';
import { attentionStats } from '../nn/attention-stats.js';
import { meanStd } from '../c2al/metrics.js';
import { syntheticClicks } from '../data/synthetic.js';
import { splitRows, subset, type ClickData } from '../data/schema.js';
import { loadMovieLens, MOVIELENS_AXES, type MovieLensAxis } from '../data/movielens.js';
import { DataError } from '../data/schema.js';
import { loadCsv } from '../data/csv.js';
import { DhenModel, type DhenConfig } from '../nn/dhen.js';
import { CheckpointError, loadCheckpoint, loadTrainState, saveCheckpoint, saveTrainState, writeFileAtomic } from '../nn/checkpoint.js';
import { DeviceLostError } from '../backend/webgpu.js';
import { progressReporter } from './progress.js';

/** Options shared by the C2AL commands, already validated by the CLI. */
export interface C2alCliOptions {
  json: boolean;
  data: string;
  rows: number;
  cohort: string;
  schema?: string;
  skipBadRows?: boolean;
  seeds: number;
  steps?: number;
  epochs?: number;
  batch?: number;
  lambdas: number[];
  lambdaHead?: number;
  lambdaTail?: number;
  auxCohorts?: number | string[];
  select: Selection;
  metric: DivergenceMetric;
  minShare: number;
  freezeY: boolean;
  finiteGuard: boolean;
  /** Capture the training step after the first and replay it. */
  capture?: boolean;
  /** Hidden sizes of the auxiliary heads (undefined: the primary head's; []: linear). */
  auxHidden?: number[];
  method: 'baseline' | 'c2al';
  checkpoint?: string;
  /** train: save a resumable state every N steps (into OUT/train-state/seed-S). */
  checkpointEvery?: number;
  /** train: continue the run in this folder from its saved states. */
  resume?: string;
  out?: string;
}

export async function loadData(o: C2alCliOptions, log: (line: string) => void): Promise<ClickData> {
  if (o.data === 'synthetic') return syntheticClicks({ rows: o.rows, seed: 1 });
  if (o.data.startsWith('movielens:')) {
    if (!MOVIELENS_AXES.includes(o.cohort as MovieLensAxis)) throw new DataError(`--cohort must be one of ${MOVIELENS_AXES.join(', ')} for MovieLens, got '${o.cohort}'`);
    return loadMovieLens(o.data.slice('movielens:'.length), { cohort: o.cohort as MovieLensAxis });
  }
  if (o.data.startsWith('csv:')) {
    if (!o.schema) throw new DataError('--data csv:FILE needs --schema FILE');
    const csv = await loadCsv(o.data.slice('csv:'.length), o.schema, { skipBadRows: o.skipBadRows });
    if (csv.skipped) log(`skipped ${csv.skipped} malformed rows (--skip-bad-rows)`);
    return csv;
  }
  throw new DataError(`--data must be synthetic, movielens:DIR or csv:FILE, got '${o.data}'`);
}

const pct = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%` : 'n/a');
const neText = (s: { mean: number; std: number }): string => (Number.isFinite(s.mean) ? `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}` : 'n/a (one class)'.padEnd(15));
const runFolder = (prefix: string): string => `runs/${prefix}${new Date().toISOString().replace(/[:.]/g, '-')}`;

function logger(json: boolean): (line: string) => void {
  const t0 = performance.now();
  return json ? () => {} : (line) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}`);
}

function trainOptions(o: C2alCliOptions): TrainOptions {
  return { steps: o.steps, epochs: o.epochs, batch: o.batch, freezeY: o.freezeY, finiteGuard: o.finiteGuard, auxHidden: o.auxHidden, capture: o.capture };
}

export function experimentTable(r: ExperimentReport, v = 0): string {
  const variant = r.variants[v]!;
  const width = Math.max(12, ...r.cohorts.map((c) => c.name.length + 2));
  const row = (name: string, share: number, x: ExperimentReport['overall']) =>
    `  ${name.padEnd(width)} ${(100 * share).toFixed(1).padStart(6)}%  ${neText(x.ne.baseline)}  ${neText(x.ne.c2al)}  ${pct(x.change.mean).padStart(8)} ± ${Number.isFinite(x.change.std) ? (100 * x.change.std).toFixed(2) : 'n/a '}%  ${x.ne.bayes?.toFixed(4) ?? '—'}`;
  return [
    `  ${'cohort'.padEnd(width)} ${'share'.padStart(7)}  ${'NE baseline'.padEnd(15)}  ${'NE C2AL'.padEnd(15)}  ${'change'.padStart(8)}           Bayes floor`,
    row('overall', 1, variant.overall),
    ...variant.cohorts.map((c) => row(`${c.name}${r.discovery.aux.includes(c.name) ? ' *' : ''}`, c.share, c)),
  ].join('\n');
}

export async function experimentCommand(gpu: WebGpuBackend, o: C2alCliOptions): Promise<number> {
  const log = logger(o.json);
  const data = await loadData(o, log);
  log(`${o.data} data: ${data.rows} rows, ${data.cohortNames.length} cohorts (${data.cohortNames.join(', ')}); adapter ${gpu.description}`);
  const out = o.out ?? runFolder('');
  const report = await runExperiment(data, gpu, {
    ...trainOptions(o), seeds: o.seeds, lambdas: o.lambdas, lambdaHead: o.lambdaHead, lambdaTail: o.lambdaTail, auxCohorts: o.auxCohorts,
    select: o.select, metric: o.metric, minShare: o.minShare, log, out,
    progress: o.json ? undefined : progressReporter(process.stdout, Math.min(o.batch ?? 512, data.rows)),
  });
  if (o.json) { console.log(JSON.stringify(report)); return 0; }
  const d = report.discovery;
  console.log(`\ndiscovery (${d.metric} of baseline predictions on the validation split): head = ${d.head}, tail = ${d.tail}${d.truth ? ` (the generator's most different pair: ${d.truth.head} / ${d.truth.tail})` : ''}`);
  console.log(`auxiliary heads (*): ${d.aux.join(', ')} — ${d.selection === 'random' ? 'drawn at random (control)' : d.selection === 'given' ? 'given' : 'most divergent'}${report.options.freezeY ? '; Y frozen (ablation)' : ''}`);
  for (const [v, variant] of report.variants.entries()) {
    console.log(`\n${variant.name}: NE on the test split, mean ± std over ${report.seeds} seed${report.seeds > 1 ? 's' : ''} (lower is better; change = (C2AL − baseline) / baseline):`);
    console.log(experimentTable(report, v));
  }
  console.log(`\nAUC overall: baseline ${report.overall.auc.baseline.mean.toFixed(4)}, C2AL ${report.overall.auc.c2al.mean.toFixed(4)}; ${report.seconds.toFixed(0)} s on ${report.adapter}`);
  const a = report.attention;
  console.log(`FM attention weights Y: normalized entropy ${a.baseline.normalizedEntropy.toFixed(3)} → ${a.c2al.normalizedEntropy.toFixed(3)}, Gini ${a.baseline.gini.toFixed(3)} → ${a.c2al.gini.toFixed(3)}, near zero ${(100 * a.baseline.nearZero).toFixed(1)}% → ${(100 * a.c2al.nearZero).toFixed(1)}% (baseline → C2AL)`);
  const inf = report.inference;
  console.log(`serving model: ${inf.sameParameters ? 'same parameters as the baseline' : 'DIFFERENT parameters from the baseline'}, forward pass ${inf.c2alMs.toFixed(1)} ms vs ${inf.baselineMs.toFixed(1)} ms (×${inf.ratio.toFixed(3)})`);
  console.log(`report: ${report.report}`);
  console.log(`run folder: ${out} (config.json, metrics.json, report.html, baseline/, c2al-train/, c2al-inference/)`);
  return 0;
}

function matrixText(names: string[], m: number[][]): string {
  const w = Math.max(8, ...names.map((n) => n.length));
  return [`  ${''.padEnd(w)} ${names.map((n) => n.padStart(w)).join(' ')}`,
    ...m.map((row, i) => `  ${names[i]!.padEnd(w)} ${row.map((v) => (Number.isFinite(v) ? v.toFixed(4) : '—').padStart(w)).join(' ')}`)].join('\n');
}

/** Loads a checkpoint folder (model.safetensors + config.json), or a model.safetensors file with config.json beside it. */
export async function loadModel(path: string, gpu: WebGpuBackend): Promise<DhenModel> {
  const info = await stat(path).catch(() => { throw new CheckpointError(`${path}: no such file or folder`); });
  const dir = info.isDirectory() ? path : dirname(path);
  let config: DhenConfig;
  try {
    config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as DhenConfig;
  } catch (e) {
    throw new CheckpointError(`${join(dir, 'config.json')}: ${(e as Error).message} (a checkpoint folder holds model.safetensors and config.json)`);
  }
  const model = new DhenModel(config, gpu);
  try {
    await loadCheckpoint(dir, model, info.isDirectory() ? 'model.safetensors' : basename(path));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

function checkFields(model: DhenModel, data: ClickData, where: string): void {
  const want = JSON.stringify(model.config.fields.map((f) => [f.name, f.vocab])), got = JSON.stringify(data.fields.map((f) => [f.name, f.vocab]));
  if (want !== got) throw new DataError(`${where} was trained on fields ${want}, but the data has ${got}`);
  if ((model.config.dense ?? 0) !== (data.denseFeatures ?? 0)) throw new DataError(`${where} expects ${model.config.dense ?? 0} numeric features, the data has ${data.denseFeatures ?? 0}`);
}

export async function discoverCommand(gpu: WebGpuBackend, o: C2alCliOptions): Promise<number> {
  const log = logger(o.json);
  const data = await loadData(o, log);
  const split = splitRows(data.rows, 7);
  const valid = subset(data, split.valid);
  let model: DhenModel;
  if (o.checkpoint) {
    model = await loadModel(o.checkpoint, gpu);
    checkFields(model, data, o.checkpoint);
    log(`baseline from ${o.checkpoint}`);
  } else {
    const trainSet = subset(data, split.train);
    log(`training a baseline (${stepCount(trainSet.rows, trainOptions(o))} steps; pass --checkpoint DIR to use a saved one)`);
    model = (await train(trainSet, gpu, { ...trainOptions(o), seed: 1, onStep: o.json ? undefined : progressReporter(process.stdout, Math.min(o.batch ?? 512, trainSet.rows))('baseline') })).model;
  }
  const d = await discover(await predict(model, valid), valid.cohort, data.cohortNames.length, gpu, { metric: o.metric, minShare: o.minShare });
  model.dispose();
  const names = data.cohortNames;
  const aux = Array.isArray(o.auxCohorts) ? o.auxCohorts : selectCohorts(d, o.auxCohorts ?? 2, o.select).map((c) => names[c]!);
  const result = {
    head: names[d.head]!, tail: names[d.tail]!, metric: d.metric, matrix: d.matrices[d.metric], matrices: d.matrices,
    cohorts: names.map((name, i) => ({ name, share: d.shares[i]! })), minShare: d.minShare, aux,
  };
  if (o.json) console.log(JSON.stringify(result));
  else {
    console.log(`\n${d.metric} between per-cohort histograms of the baseline's predictions (validation split, ${valid.rows} rows):`);
    console.log(matrixText(names, d.matrices[d.metric]));
    console.log(`cohort shares: ${names.map((n, i) => `${n} ${(100 * d.shares[i]!).toFixed(1)}%`).join(', ')}`);
    console.log(`choice: head = ${result.head}, tail = ${result.tail} (the most divergent pair holding >= ${(100 * d.minShare).toFixed(1)}% of rows each)`);
    if (aux.length !== 2 || aux[0] !== result.head || aux[1] !== result.tail) console.log(`auxiliary cohorts: ${aux.join(', ')}`);
  }
  return 0;
}

function metricsTable(rows: { name: string; share: number; ne: { mean: number; std: number }; auc: number; calibration: number; bayes: number | null }[]): string {
  const w = Math.max(12, ...rows.map((r) => r.name.length));
  return [`  ${'cohort'.padEnd(w)} ${'share'.padStart(7)}  ${'NE'.padEnd(15)}  ${'AUC'.padStart(6)}  ${'calib.'.padStart(6)}  Bayes floor`,
    ...rows.map((r) => `  ${r.name.padEnd(w)} ${(100 * r.share).toFixed(1).padStart(6)}%  ${r.ne.mean.toFixed(4)} ± ${r.ne.std.toFixed(4)}  ${r.auc.toFixed(4).padStart(6)}  ${r.calibration.toFixed(3).padStart(6)}  ${r.bayes?.toFixed(4) ?? '—'}`)].join('\n');
}

function summarize(evals: { overall: CohortMetrics; cohorts: CohortMetrics[] }[]) {
  const row = (pick: (e: (typeof evals)[number]) => CohortMetrics) => {
    const first = pick(evals[0]!);
    return {
      name: first.name, share: first.share, ne: meanStd(evals.map((e) => pick(e).metrics.ne)),
      auc: meanStd(evals.map((e) => pick(e).metrics.auc)).mean, calibration: meanStd(evals.map((e) => pick(e).metrics.calibration)).mean, bayes: first.bayes,
    };
  };
  return [row((e) => e.overall), ...evals[0]!.cohorts.map((_, c) => row((e) => e.cohorts[c]!))];
}

export async function trainCommand(gpu: WebGpuBackend, o: C2alCliOptions): Promise<number> {
  const log = logger(o.json);
  const data = await loadData(o, log);
  const names = data.cohortNames;
  const split = splitRows(data.rows, 7);
  const [trainSet, valid, testSet] = [subset(data, split.train), subset(data, split.valid), subset(data, split.test)];
  if (o.resume && o.out && o.resume !== o.out) throw new DataError(`--resume ${o.resume} continues that run folder; drop --out (got ${o.out})`);
  if (o.resume && !(await stat(o.resume).catch(() => null))?.isDirectory()) throw new CheckpointError(`--resume ${o.resume}: no such run folder`);
  const out = o.resume ?? o.out ?? runFolder('train-');
  const progress = o.json ? undefined : progressReporter(process.stdout, Math.min(o.batch ?? 512, trainSet.rows));
  let aux: { cohort: number; lambda: number }[] = [];
  if (o.method === 'c2al') {
    let cohorts: number[];
    if (Array.isArray(o.auxCohorts)) {
      const unknown = o.auxCohorts.filter((n) => !names.includes(n));
      if (unknown.length) throw new DataError(`unknown cohort ${unknown.join(', ')}; the cohorts are ${names.join(', ')}`);
      cohorts = o.auxCohorts.map((n) => names.indexOf(n));
    } else {
      log('discovery: training a baseline first (or name the cohorts with --aux-cohorts A,B)');
      const b = await train(trainSet, gpu, { ...trainOptions(o), seed: 1, onStep: progress?.('discovery baseline') });
      const d = await discover(await predict(b.model, valid), valid.cohort, names.length, gpu, { metric: o.metric, minShare: o.minShare });
      b.model.dispose();
      cohorts = selectCohorts(d, o.auxCohorts ?? 2, o.select);
    }
    if (o.lambdas.length !== 1) throw new DataError('c2al train takes one --lambda (sweeps are an experiment option)');
    aux = auxWeights(cohorts, o.lambdas[0]!, o.lambdaHead, o.lambdaTail);
    log(`auxiliary heads: ${aux.map((a) => `${names[a.cohort]} (λ ${a.lambda})`).join(', ')}`);
  }
  const evals: { overall: CohortMetrics; cohorts: CohortMetrics[] }[] = [];
  const history = [];
  for (let s = 1; s <= o.seeds; s++) {
    const stateDir = `${out}/train-state/seed-${s}`;
    const resume = o.resume ? await loadTrainState(stateDir).catch((e: Error) => {
      if ((e as { name?: string }).name === 'CheckpointError' && /latest\.json: ENOENT/.test(e.message)) return undefined; // this seed never saved
      throw e;
    }) : undefined;
    if (resume) log(`seed ${s}: resuming from step ${resume.step} (${stateDir})`);
    let t: Awaited<ReturnType<typeof train>>;
    try {
      t = await train(trainSet, gpu, {
        ...trainOptions(o), seed: s, aux, onStep: progress?.(`seed ${s}/${o.seeds} ${o.method}`), resume,
        ...(o.checkpointEvery ? { checkpoint: { every: o.checkpointEvery, save: (state) => saveTrainState(stateDir, state) } } : {}),
      });
    } catch (e) {
      if (e instanceof DeviceLostError) {
        const saved = o.checkpointEvery ? await loadTrainState(stateDir).then((st) => `the last state saved is step ${st.step} in ${stateDir}`, () => 'no state was saved yet') : 'no states were being saved (--checkpoint-every N)';
        throw new DeviceLostError(`${e.message}; ${saved}. Run the same command with --resume ${out} to continue.`);
      }
      throw e;
    }
    const serving = o.method === 'c2al' ? t.model.forInference() : t.model;
    evals.push(cohortMetrics(testSet, await predict(serving, testSet)));
    history.push({ seed: s, ...t.history, finalAttention: attentionStats(await fmWeights(t.model)) });
    if (s === 1) {
      if (o.method === 'c2al') {
        await saveCheckpoint(`${out}/c2al-train`, t.model, { config: t.model.config });
        await saveCheckpoint(`${out}/c2al-inference`, serving, { config: serving.config });
      } else {
        await saveCheckpoint(`${out}/baseline`, t.model, { config: t.model.config });
      }
    }
    t.model.dispose();
  }
  const table = summarize(evals);
  const result = { method: o.method, aux: aux.map((a) => ({ cohort: names[a.cohort]!, lambda: a.lambda })), seeds: o.seeds, test: table, history, out };
  await writeFileAtomic(`${out}/metrics.json`, `${JSON.stringify(result, null, 2)}\n`);
  if (o.json) console.log(JSON.stringify(result));
  else {
    console.log(`\n${o.method} on the test split (${testSet.rows} rows), mean ± std over ${o.seeds} seed${o.seeds > 1 ? 's' : ''}:`);
    console.log(metricsTable(table));
    console.log(`checkpoints: ${o.method === 'c2al' ? `${out}/c2al-train, ${out}/c2al-inference` : `${out}/baseline`} (evaluate with: c2al evaluate --checkpoint ${out} --data ${o.data})`);
  }
  return 0;
}

export async function evaluateCommand(gpu: WebGpuBackend, o: C2alCliOptions): Promise<number> {
  if (!o.checkpoint) throw new DataError('evaluate needs --checkpoint FILE_OR_DIR (a checkpoint folder, its model.safetensors, or a run folder)');
  const log = logger(o.json);
  const data = await loadData(o, log);
  const testSet = subset(data, splitRows(data.rows, 7).test);
  // A run folder holds several checkpoints; a checkpoint folder holds model.safetensors.
  const isRun = await stat(join(o.checkpoint, 'model.safetensors')).then(() => false, () => true) && (await stat(o.checkpoint).catch(() => null))?.isDirectory();
  const candidates = isRun ? ['baseline', 'c2al-inference'].map((n) => join(o.checkpoint!, n)) : [o.checkpoint];
  const found: { path: string; table: ReturnType<typeof summarize> }[] = [];
  for (const path of candidates) {
    if (isRun && !(await stat(join(path, 'model.safetensors')).catch(() => null))) continue;
    const model = await loadModel(path, gpu);
    try {
      checkFields(model, data, path);
      found.push({ path, table: summarize([cohortMetrics(testSet, await predict(model.forInference(), testSet))]) });
    } finally {
      model.dispose();
    }
  }
  if (!found.length) throw new CheckpointError(`${o.checkpoint}: no model.safetensors, nor baseline/ or c2al-inference/ checkpoints in it`);
  const change = found.length === 2 ? found[1]!.table.map((r, i) => ({ name: r.name, change: (r.ne.mean - found[0]!.table[i]!.ne.mean) / found[0]!.table[i]!.ne.mean })) : null;
  if (o.json) console.log(JSON.stringify({ split: 'test', rows: testSet.rows, models: found.map((f) => ({ checkpoint: f.path, cohorts: f.table })), ...(change ? { change } : {}) }));
  else {
    for (const f of found) {
      console.log(`\n${f.path} on the test split (${testSet.rows} rows):`);
      console.log(metricsTable(f.table));
    }
    if (change) console.log(`\nNE change (C2AL − baseline) / baseline: ${change.map((c) => `${c.name} ${pct(c.change)}`).join(', ')}`);
  }
  return 0;
}

export { METRICS };
