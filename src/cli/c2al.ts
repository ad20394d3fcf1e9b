/**
 * The C2AL subcommands of the CLI: experiment (the protocol: tuning, baselines, discovery, every arm,
 * intervals, report), discover, train and evaluate. Node only (files, the terminal); the library they
 * call is not. Every option was checked by options.ts before a command starts.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { WebGpuBackend } from '../backend/webgpu.js';
import { runExperiment, type ExperimentOptions } from '../c2al/experiment.js';
import type { ArmDelta, CohortSummary, ExperimentReport } from '../c2al/results.js';
import { discover, selectCohorts } from '../c2al/discovery.js';
import { cohortMetrics, type CohortMetrics } from '../c2al/evaluate.js';
import { meanStd } from '../c2al/stats.js';
import { PROTOCOLS, DEFAULT_HYPER, type Hyper } from '../c2al/protocol.js';
import { TestSplit, testPredictions } from '../c2al/test-split.js';
import { predict, train, type TrainOptions } from '../train/loop.js';
import { syntheticClicks } from '../data/synthetic.js';
import { cohortGroupField, DataError, fieldValues, splitRows, subset, type ClickData } from '../data/schema.js';
import { loadMovieLens, MOVIELENS_AXES, type MovieLensAxis } from '../data/movielens.js';
import { loadCsv } from '../data/csv.js';
import { DhenModel, type DhenConfig } from '../nn/dhen.js';
import { CheckpointError, loadCheckpoint, loadTrainState, saveCheckpoint, saveTrainState, writeFileAtomic } from '../nn/checkpoint.js';
import { DeviceLostError } from '../backend/webgpu.js';
import { progressReporter } from '../train/progress.js';
import type { C2alCliOptions } from './options.js';

/** The datasets of a run: one per world seed for synthetic data, the one dataset otherwise. */
export async function loadData(o: C2alCliOptions, log: (line: string) => void, worldSeeds = 1): Promise<ClickData[]> {
  if (o.data === 'synthetic') {
    const rows = o.rows ?? PROTOCOLS[o.protocol].rows;
    return Array.from({ length: worldSeeds }, (_, i) => syntheticClicks({ world: o.world, rows, seed: i + 1 }));
  }
  if (o.data.startsWith('movielens:')) {
    if (!MOVIELENS_AXES.includes(o.cohort as MovieLensAxis)) throw new DataError(`--cohort must be one of ${MOVIELENS_AXES.join(', ')} for ` +
      `MovieLens, got '${o.cohort}'`);
    return [await loadMovieLens(o.data.slice('movielens:'.length), { cohort: o.cohort as MovieLensAxis })];
  }
  if (o.data.startsWith('csv:')) {
    if (!o.schema) throw new DataError('--data csv:FILE needs --schema FILE');
    const csv = await loadCsv(o.data.slice('csv:'.length), o.schema, { skipBadRows: o.skipBadRows });
    if (csv.skipped) log(`skipped ${csv.skipped} malformed rows (--skip-bad-rows)`);
    return [csv];
  }
  throw new DataError(`--data must be synthetic, movielens:DIR or csv:FILE, got '${o.data}'`);
}

const pct = (x: number, d = 2): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(d)}%` : 'n/a');
const runFolder = (prefix: string): string => `runs/${prefix}${new Date().toISOString().replace(/[:.]/g, '-')}`;

function logger(json: boolean): (line: string) => void {
  const t0 = performance.now();
  return json ? () => {} : (line) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}`);
}

/** The protocol options an experiment or a train run takes from the command line. */
function experimentOptions(o: C2alCliOptions): ExperimentOptions {
  return {
    protocol: o.protocol, seeds: o.seeds, worldSeeds: o.data === 'synthetic' ? o.worldSeeds : 1, arms: o.arms, lambdas: o.lambdas, tune: o.tune,
      grid: o.grid, hyper: o.hyper,
    maxEpochs: o.maxEpochs, patience: o.patience, evalEvery: o.evalEvery, randomDraws: o.randomDraws, permutations: o.permutations,
    auxCohorts: o.auxCohorts, metric: o.metric, minShare: o.minShare, binning: o.binning, bins: o.bins, freezeY: o.freezeY,
      auxHidden: o.auxHidden, capture: o.capture,
  };
}

/** A change with its two intervals and its resolution, e.g. "−1.20% [−2.1, −0.3] [−1.9, −0.4] *   (resolves ±0.90%)". */
function deltaText(d: Pick<ArmDelta, 'rel' | 'bootstrap95' | 'significant' | 'resolution'> & { significantFamilywise?: boolean }): string {
  const iv = (c: [number, number]) => (c.every(Number.isFinite) ? `[${(100 * c[0]).toFixed(2)}, ${(100 * c[1]).toFixed(2)}]` : '[n/a]');
  return `${pct(d.rel.mean)} ${iv(d.rel.ci95)} ${iv(d.bootstrap95)}${d.significantFamilywise ? ' ‡' : d.significant ? ' *' : ''}   ` +
    `(resolves ±${Number.isFinite(d.resolution) ? (100 * d.resolution).toFixed(2) : 'n/a'}%)`;
}

export function experimentTable(r: ExperimentReport): string {
  const compared = Object.keys(r.overall.delta);
  const rows: (Omit<CohortSummary, 'name' | 'share'> & { name: string; share: number })[] = [{ name: 'overall', share: 1, ...r.overall }, ...r.cohorts];
  const width = Math.max(12, ...rows.map((c) => c.name.length + 2));
  const neCols = ['baseline', ...compared];
  const lines: string[] = [
    `  NE per arm (mean over units): ${neCols.join(', ')}`,
    `  ${'cohort'.padEnd(width)} ${'share'.padStart(6)}  ${neCols.map((a) => a.slice(0, 9).padStart(9)).join(' ')}      floor`,
    ...rows.map((c) => `  ${`${c.name}${r.discovery.aux.includes(c.name) ? ' *' : ''}`.padEnd(width)} ${(100 * c.share).toFixed(1).padStart(5)}%  ` +
      `${neCols.map((a) => (Number.isFinite(c.ne[a]?.mean ?? NaN) ? c.ne[a]!.mean.toFixed(4) : 'n/a').padStart(9)).join(' ')}  ` +
        `${(c.ne.bayes === null ? '—' : c.ne.bayes.toFixed(4)).padStart(9)}`),
    '',
    `  change vs baseline: mean [95% t-interval over ${r.seeds * r.worldSeeds} units] [95% paired bootstrap over test rows], %; * both exclude 0, ‡ also ` +
      `Bonferroni over ${rows.length} rows`,
    ...compared.flatMap((a) => [`  ${a}:`, ...rows.map((c) => `    ${c.name.padEnd(width)} ${deltaText(c.delta[a]!)}`)]),
  ];
  const controls = Object.keys(r.overall.vsC2al);
  if (controls.length) {
    lines.push('', '  C2AL against each control: (C2AL − control) / control, same intervals; negative: C2AL did better');
    for (const a of controls) {
      lines.push(`  vs ${a}:`, ...rows.map((c) => `    ${c.name.padEnd(width)} ${deltaText(c.vsC2al[a]!)}`));
    }
  }
  return lines.join('\n');
}

export async function experimentCommand(gpu: WebGpuBackend, o: C2alCliOptions): Promise<number> {
  const log = logger(o.json);
  const p = PROTOCOLS[o.protocol];
  const datasets = await loadData(o, log, o.data === 'synthetic' ? o.worldSeeds ?? p.worldSeeds : 1);
  const data = datasets[0]!;
  log(`${o.data}${o.data === 'synthetic' ? ` (${o.world} world, ${datasets.length} world seed${datasets.length > 1 ? 's' : ''})` : ''}: ${data.rows} rows, ` +
    `${data.fields.length} fields, ${data.cohortNames.length} cohorts (${data.cohortNames.join(', ')}); ${o.protocol} protocol; adapter ${gpu.description}`);
  if (o.resume && o.out && o.resume !== o.out) throw new DataError(`--resume ${o.resume} continues that run folder; drop --out (got ${o.out})`);
  const out = o.resume ?? o.out ?? runFolder('');
  const report = await runExperiment(datasets, gpu, {
    ...experimentOptions(o), world: o.data === 'synthetic' ? o.world : undefined, log, out, resume: !!o.resume,
    progress: o.json ? undefined : progressReporter(process.stdout, o.hyper.batch ?? DEFAULT_HYPER.batch),
  });
  if (o.json) { console.log(JSON.stringify(report)); return 0; }
  const d = report.discovery, t = report.protocol.tuned;
  console.log(`\n${report.protocol.name} protocol: ${report.seeds} seed${report.seeds > 1 ? 's' : ''} × ${report.worldSeeds} ` +
    `world${report.worldSeeds > 1 ? 's' : ''}; every arm early-stopped on its validation NE (patience ${report.protocol.patience}, ≤ ` +
    `${report.protocol.maxEpochs} epochs)`);
  console.log(`hyperparameters${t.tuned ? ' tuned on validation' : ' (not tuned here)'}: lr ${t.lr}, embedding L2 ${t.embeddingL2}, dim ${t.dim}; λ = ` +
    `${t.lambda ?? '—'} (${t.lambdaReason})`);
  console.log(`epochs to best (mean over units): ` +
    `${report.arms.map((a) => `${a.name} ${(a.perSeed.reduce((x, s) => x + s.bestEpoch, 0) / a.perSeed.length).toFixed(1)}`).join(', ')}`);
  console.log(`discovery (${d.metric}, ${d.bins} ${d.binning} bins, ${d.null.permutations} permutations across ` +
    `${d.null.level === 'group' ? `${d.null.groupField}s` : 'rows'}): ` +
    `head = ${d.head}, tail = ${d.tail}, score ${d.null.score.toFixed(3)} (z ${d.null.z.toFixed(1)}), family-wise p = ` +
      `${d.null.pValue.toFixed(3)}${d.significant ? '' : ' — not above chance: exploratory'}` +
    `${d.truth ? ` (generator's most different pair: ${d.truth.head} / ${d.truth.tail})` : ''}; chosen by ` +
      `${d.stability.pairs[0]?.count ?? 0}/${d.stability.units} units' baselines`);
  console.log(`\nNE on the test split (${report.options.rows.test} rows; lower is better; * cohorts with auxiliary heads):`);
  console.log(experimentTable(report));
  const a = report.attention;
  console.log(`\nattention weights (${a.kind} Y): normalized entropy ${a.baseline.normalizedEntropy.mean.toFixed(3)} → ` +
    `${a.c2al.normalizedEntropy.mean.toFixed(3)} ` +
    `(Δ ${a.delta.normalizedEntropy.mean.toFixed(3)} [${a.delta.normalizedEntropy.ci95.map((x) => x.toFixed(3)).join(', ')}]), near zero ` +
      `${(100 * a.baseline.nearZero.mean).toFixed(1)}% → ${(100 * a.c2al.nearZero.mean).toFixed(1)}% (baseline → C2AL; init ` +
      `${(100 * a.init.nearZero.mean).toFixed(1)}%)`);
  const inf = report.inference;
  console.log(`serving model: ${inf.sameParameters ? 'same parameters as the baseline' : 'DIFFERENT parameters from the baseline'}, forward pass ` +
    `${inf.c2alMs.toFixed(1)} ms vs ${inf.baselineMs.toFixed(1)} ms (×${inf.ratio.toFixed(3)})`);
  console.log(`${report.seconds.toFixed(0)} s on ${report.adapter}; test split read ${report.testReads} times (once per arm and unit, after selection)`);
  console.log(`report: ${report.report}\nrun folder: ${out} (experiment.json, metrics.json, report.html, runs/, baseline/, c2al-inference/)`);
  return 0;
}

function matrixText(names: string[], m: number[][], digits = 4): string {
  const w = Math.max(8, ...names.map((n) => n.length));
  return [`  ${''.padEnd(w)} ${names.map((n) => n.padStart(w)).join(' ')}`,
    ...m.map((row, i) => `  ${names[i]!.padEnd(w)} ${row.map((v) => (Number.isFinite(v) ? v.toFixed(digits) : '—').padStart(w)).join(' ')}`)].join('\n');
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
  if ((model.config.dense ?? 0) !== (data.denseFeatures ?? 0)) throw new DataError(`${where} expects ${model.config.dense ?? 0} numeric features, the ` +
    `data has ${data.denseFeatures ?? 0}`);
}

/** train / valid / test (the test split sealed) of a dataset, as the experiment splits it. */
function splitsOf(data: ClickData): { trainSet: ClickData; valid: ClickData; test: TestSplit } {
  const s = splitRows(data.rows, 7);
  return { trainSet: subset(data, s.train), valid: subset(data, s.valid), test: TestSplit.seal(subset(data, s.test)) };
}

/** Training options of one arm from the command line: the protocol's early stopping, the given hyperparameters. */
function trainOptions(o: C2alCliOptions, valid: ClickData, seed: number): TrainOptions {
  const h: Hyper = { ...DEFAULT_HYPER, ...o.hyper }, p = PROTOCOLS[o.protocol];
  const validate = async (m: DhenModel): Promise<number> => cohortMetrics(valid, await predict(m, valid)).overall.metrics.ne;
  return {
    seed, batch: h.batch, lr: h.lr, dim: h.dim, weightDecay: h.weightDecay, embeddingL2: h.embeddingL2, schedule: h.schedule, warmup: h.warmup, k: h.k, y: h.y,
    ...(h.clip ? { clip: h.clip } : {}), ...(h.dropout ? { dropout: h.dropout } : {}), freezeY: o.freezeY, finiteGuard: o.finiteGuard,
      auxHidden: o.auxHidden, capture: o.capture,
    ...(o.steps ? { steps: o.steps } : { validate, maxEpochs: o.maxEpochs ?? p.maxEpochs, patience: o.patience ?? p.patience, evalEvery: o.evalEvery }),
  };
}

export async function discoverCommand(gpu: WebGpuBackend, o: C2alCliOptions): Promise<number> {
  const log = logger(o.json);
  const [data] = await loadData(o, log);
  const { trainSet, valid } = splitsOf(data!);
  let model: DhenModel;
  if (o.checkpoint) {
    model = await loadModel(o.checkpoint, gpu);
    checkFields(model, data!, o.checkpoint);
    log(`baseline from ${o.checkpoint}`);
  } else {
    log('training a baseline with early stopping on validation (pass --checkpoint DIR to use a saved one)');
    const batch = o.hyper.batch ?? DEFAULT_HYPER.batch;
    model = (await train(trainSet, gpu, { ...trainOptions(o, valid, 1), onStep: o.json ? undefined : progressReporter(process.stdout,
      batch)('baseline') })).model;
  }
  const field = cohortGroupField(valid);
  const d = await discover(await predict(model, valid), valid.cohort, data!.cohortNames.length, gpu, {
    metric: o.metric, minShare: o.minShare, binning: o.binning, bins: o.bins, permutations: o.permutations ?? PROTOCOLS[o.protocol].permutations,
      groups: field ? fieldValues(valid, field) : undefined,
  });
  model.dispose();
  const names = data!.cohortNames;
  const aux = Array.isArray(o.auxCohorts) ? o.auxCohorts : selectCohorts(d, o.auxCohorts ?? 2, 'divergence').map((c) => names[c]!);
  const result = {
    head: names[d.head]!, tail: names[d.tail]!, metric: d.metric, binning: d.binning, bins: d.bins, matrix: d.matrices[d.metric], matrices: d.matrices,
    cohorts: names.map((name, i) => ({ name, share: d.shares[i]! })), minShare: d.minShare, aux,
    null: { permutations: d.null.permutations, level: d.null.level, groupField: field, pValue: d.null.pValue, pairPValue: d.null.pairPValue,
      score: d.null.score, z: d.null.z, scores: d.null.scores, zScores: d.null.zScores, pValues: d.null.pValues },
    significant: d.significant, level: d.level,
  };
  if (o.json) console.log(JSON.stringify(result));
  else {
    console.log(`\n${d.metric} between per-cohort histograms (${d.bins} ${d.binning} bins) of the baseline's validation predictions (${valid.rows} rows):`);
    console.log(matrixText(names, d.matrices[d.metric]));
    console.log(`\nscore = observed − null mean over ${d.null.permutations} permutations across ` +
      `${d.null.level === 'group' ? `${field}s` : 'rows'}:`);
    console.log(matrixText(names, d.null.scores, 3));
    console.log(`cohort shares: ${names.map((n, i) => `${n} ${(100 * d.shares[i]!).toFixed(1)}%`).join(', ')}`);
    console.log(`choice: head = ${result.head}, tail = ${result.tail} (the largest score among pairs holding >= ${(100 * d.minShare).toFixed(1)}% of rows ` +
      `each); ` +
      `family-wise p = ${d.null.pValue.toFixed(3)}: ${d.significant ? 'above chance' : 'not above chance'} at ${d.level}`);
    if (aux.length !== 2 || aux[0] !== result.head || aux[1] !== result.tail) console.log(`auxiliary cohorts: ${aux.join(', ')}`);
  }
  return 0;
}

function metricsTable(rows: { name: string; share: number; ne: { mean: number; std: number }; auc: number; calibration: number;
  bayes: number | null }[]): string {
  const w = Math.max(12, ...rows.map((r) => r.name.length));
  return [`  ${'cohort'.padEnd(w)} ${'share'.padStart(7)}  ${'NE'.padEnd(15)}  ${'AUC'.padStart(6)}  ${'calib.'.padStart(6)}  floor`,
    ...rows.map((r) => `  ${r.name.padEnd(w)} ${(100 * r.share).toFixed(1).padStart(6)}%  ${r.ne.mean.toFixed(4)} ± ${r.ne.std.toFixed(4)}  ` +
      `${r.auc.toFixed(4).padStart(6)}  ${r.calibration.toFixed(3).padStart(6)}  ${r.bayes?.toFixed(4) ?? '—'}`)].join('\n');
}

function summarizeRuns(evals: { overall: CohortMetrics; cohorts: CohortMetrics[] }[]) {
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
  const [data] = await loadData(o, log);
  const names = data!.cohortNames;
  const { trainSet, valid, test } = splitsOf(data!);
  if (o.resume && o.out && o.resume !== o.out) throw new DataError(`--resume ${o.resume} continues that run folder; drop --out (got ${o.out})`);
  if (o.resume && !(await stat(o.resume).catch(() => null))?.isDirectory()) throw new CheckpointError(`--resume ${o.resume}: no such run folder`);
  const out = o.resume ?? o.out ?? runFolder('train-');
  const batch = o.hyper.batch ?? DEFAULT_HYPER.batch;
  const progress = o.json ? undefined : progressReporter(process.stdout, batch);
  const lambda = o.lambdas?.[0] ?? PROTOCOLS[o.protocol].lambdas[0]!;
  if ((o.lambdas?.length ?? 1) !== 1) throw new DataError('c2al train takes one --lambda (choosing λ on validation is an experiment)');
  let aux: { cohort: number; lambda: number }[] = [];
  if (o.method === 'c2al') {
    let cohorts: number[];
    if (Array.isArray(o.auxCohorts)) {
      const unknown = o.auxCohorts.filter((n) => !names.includes(n));
      if (unknown.length) throw new DataError(`unknown cohort ${unknown.join(', ')}; the cohorts are ${names.join(', ')}`);
      cohorts = o.auxCohorts.map((n) => names.indexOf(n));
    } else {
      log('discovery: training a baseline first (or name the cohorts with --aux-cohorts A,B)');
      const b = await train(trainSet, gpu, { ...trainOptions(o, valid, 1), onStep: progress?.('discovery baseline') });
      const field = cohortGroupField(valid);
      const d = await discover(await predict(b.model, valid), valid.cohort, names.length, gpu,
        { metric: o.metric, minShare: o.minShare, binning: o.binning, bins: o.bins, groups: field ? fieldValues(valid, field) : undefined });
      b.model.dispose();
      cohorts = selectCohorts(d, o.auxCohorts ?? 2, 'divergence');
    }
    aux = cohorts.map((cohort) => ({ cohort, lambda }));
    log(`auxiliary heads: ${aux.map((a) => `${names[a.cohort]} (λ ${a.lambda})`).join(', ')}`);
  }
  const evals: { overall: CohortMetrics; cohorts: CohortMetrics[] }[] = [];
  const history = [];
  const seeds = o.seeds ?? 1;
  for (let s = 1; s <= seeds; s++) {
    const stateDir = `${out}/train-state/seed-${s}`;
    const resume = o.resume ? await loadTrainState(stateDir).catch((e: Error) => {
      if ((e as { name?: string }).name === 'CheckpointError' && /latest\.json: ENOENT/.test(e.message)) return undefined; // this seed never saved
      throw e;
    }) : undefined;
    if (resume) log(`seed ${s}: resuming from step ${resume.step} (${stateDir})`);
    const opts = trainOptions(o, valid, s);
    let t: Awaited<ReturnType<typeof train>>;
    try {
      t = await train(trainSet, gpu, {
        ...opts, aux, onStep: progress?.(`seed ${s}/${seeds} ${o.method}`), resume,
        checkpoint: { every: opts.validate ? 'eval' : 50, save: (state) => saveTrainState(stateDir, state) },
      });
    } catch (e) {
      if (e instanceof DeviceLostError) {
        const saved = await loadTrainState(stateDir).then((st) => `the last state saved is step ${st.step} in ${stateDir}`, () => 'no state was saved yet');
        throw new DeviceLostError(`${e.message}; ${saved}. Run the same command with --resume ${out} to continue.`);
      }
      throw e;
    }
    const serving = o.method === 'c2al' ? t.model.forInference() : t.model;
    const read = await testPredictions(serving, test, `seed ${s}`);
    evals.push(cohortMetrics({ ...read, cohortNames: names }, read.pred));
    const { attention: _attention, ...rest } = t.history;
    history.push({ seed: s, ...rest });
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
  const table = summarizeRuns(evals);
  const result = { method: o.method, aux: aux.map((a) => ({ cohort: names[a.cohort]!, lambda: a.lambda })), seeds, test: table, history, out };
  await writeFileAtomic(`${out}/metrics.json`, `${JSON.stringify(result, null, 2)}\n`);
  if (o.json) console.log(JSON.stringify(result));
  else {
    console.log(`\n${o.method} on the test split (${test.rows} rows), mean ± std over ${seeds} seed${seeds > 1 ? 's' : ''}` +
      `${history[0]?.best ? `; best validation at epoch ${history.map((h) => h.best!.epoch).join(', ')}` : ''}:`);
    console.log(metricsTable(table));
    console.log(`checkpoints: ${o.method === 'c2al' ? `${out}/c2al-train, ${out}/c2al-inference` : `${out}/baseline`} (evaluate with: c2al evaluate ` +
      `--checkpoint ${out} --data ${o.data})`);
  }
  return 0;
}

export async function evaluateCommand(gpu: WebGpuBackend, o: C2alCliOptions): Promise<number> {
  if (!o.checkpoint) throw new DataError('evaluate needs --checkpoint FILE_OR_DIR (a checkpoint folder, its model.safetensors, or a run folder)');
  const log = logger(o.json);
  const [data] = await loadData(o, log);
  const { test } = splitsOf(data!);
  // A run folder holds several checkpoints; a checkpoint folder holds model.safetensors.
  const isRun = await stat(join(o.checkpoint, 'model.safetensors')).then(() => false,
    () => true) && (await stat(o.checkpoint).catch(() => null))?.isDirectory();
  const candidates = isRun ? ['baseline', 'c2al-inference'].map((n) => join(o.checkpoint!, n)) : [o.checkpoint];
  const found: { path: string; table: ReturnType<typeof summarizeRuns> }[] = [];
  for (const path of candidates) {
    if (isRun && !(await stat(join(path, 'model.safetensors')).catch(() => null))) continue;
    const model = await loadModel(path, gpu);
    try {
      checkFields(model, data!, path);
      const read = await testPredictions(model.forInference(), test, path);
      found.push({ path, table: summarizeRuns([cohortMetrics({ ...read, cohortNames: data!.cohortNames }, read.pred)]) });
    } finally {
      model.dispose();
    }
  }
  if (!found.length) throw new CheckpointError(`${o.checkpoint}: no model.safetensors, nor baseline/ or c2al-inference/ checkpoints in it`);
  const change = found.length === 2 ? found[1]!.table.map((r, i) => ({ name: r.name,
    change: (r.ne.mean - found[0]!.table[i]!.ne.mean) / found[0]!.table[i]!.ne.mean })) : null;
  if (o.json) console.log(JSON.stringify({ split: 'test', rows: test.rows, models: found.map((f) => ({ checkpoint: f.path, cohorts: f.table })),
    ...(change ? { change } : {}) }));
  else {
    for (const f of found) {
      console.log(`\n${f.path} on the test split (${test.rows} rows):`);
      console.log(metricsTable(f.table));
    }
    if (change) console.log(`\nNE change (C2AL − baseline) / baseline: ${change.map((c) => `${c.name} ${pct(c.change)}`).join(', ')}`);
  }
  return 0;
}
