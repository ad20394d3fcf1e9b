/**
 * C2AL under a protocol a reviewer accepts. For each world (a synthetic generator seed, or the one real
 * dataset): split the rows (train / valid / test, the test split sealed), train the baseline for every
 * seed with early stopping on its own validation NE, discover the most divergent cohort pair on seed 1's
 * validation predictions (permutation null; every seed's choice recorded for stability), then train every
 * other arm (C2AL, random pairs, reweighting, duplicate heads) on the same seeds and the same batch order.
 * On the first world and seed, before any comparison, the baseline's hyperparameters are tuned on
 * validation and λ is chosen on validation by a declared criterion; all arms use them. Each arm and seed
 * reads the test split once, after its run is selected. Changes are paired by (world, seed) and reported
 * with 95% t-intervals over those units and paired bootstrap intervals over test rows (summary.ts).
 */
import type { Backend } from '../backend/index.js';
import { cohortGroupField, fieldValues, splitRows, subset, DataError, type ClickData } from '../data/schema.js';
import { DhenModel } from '../nn/dhen.js';
import { CheckpointError, decodeSafetensors, encodeModule, restore, saveCheckpoint, writeFileAtomic } from '../nn/checkpoint.js';
import { TensorError } from '../tensor.js';
import { modelConfig } from '../train/model-config.js';
import { predict, train, type Evaluation, type TrainingHistory, type TrainOptions } from '../train/loop.js';
import { armsFor, ARM_KINDS, type Arm, type ArmKind } from './arms.js';
import { attentionSnapshot, type AttentionSnapshot } from './attention.js';
import { discover, selectCohorts, type Binning, type Discovery, type DivergenceMetric, type Selection } from './discovery.js';
import { cohortMetrics } from './evaluate.js';
import { PROTOCOLS, DEFAULT_HYPER, type Hyper, type Protocol, type TuningGrid } from './protocol.js';
import { dataFingerprint, decodeBytes, decodeFloats, encodeBytes, encodeFloats, RunStore } from './run-store.js';
import { median } from './stats.js';
import { summarize, type TestRows, type UnitTest } from './summary.js';
import { TestSplit, testPredictions } from './test-split.js';
import { bestTrial, chooseLambda, gridPoints, LAMBDA_CRITERION, type LambdaTrial } from './tuning.js';
import type { ArmReport, DiscoveryReport, ExperimentReport } from './results.js';
import { renderReport } from './report.js';

export type { ExperimentReport } from './results.js';

export interface ExperimentOptions {
  protocol?: Protocol['name'];
  seeds?: number;
  worldSeeds?: number;
  arms?: ArmKind[];
  lambdas?: number[];
  tune?: boolean;
  grid?: Partial<TuningGrid>;
  maxEpochs?: number;
  patience?: number;
  evalEvery?: number;
  randomDraws?: number;
  permutations?: number;
  bootstrap?: number;
  /** The hyperparameters every arm trains with (untuned), or the defaults the tuning grid varies. */
  hyper?: Partial<Hyper>;
  /** How many auxiliary cohorts (default 2: head and tail), or their names (then no discovery choice). */
  auxCohorts?: number | string[];
  metric?: DivergenceMetric;
  minShare?: number;
  binning?: Binning;
  bins?: number;
  freezeY?: boolean;
  auxHidden?: number[];
  headHidden?: number[];
  /** Captured training steps (TrainOptions.capture; default 'auto'). */
  capture?: boolean | 'auto';
  /** The synthetic world's name, for the report. */
  world?: string;
  log?: (line: string) => void;
  /** A progress callback per training run: `label` names the run; returns the per-step callback. */
  progress?: (label: string) => ((step: number, steps: number) => void) | undefined;
  onTrainLog?: (label: string, step: number, loss: Record<string, number>) => void;
  onDiscovery?: (d: Discovery, aux: number[]) => void;
  /** Run folder (Node): experiment.json, runs/, metrics.json, report.html, the first seed's checkpoints. */
  out?: string;
  /** Continue the experiment in `out`. */
  resume?: boolean;
}

interface StoredRows { labels: string; cohort: string; trueProb: string | null }
const rowsFrom = (s: StoredRows): TestRows => ({ labels: decodeFloats(s.labels), cohort: decodeFloats(s.cohort),
  ...(s.trueProb ? { trueProb: decodeFloats(s.trueProb) } : {}) });

/** What a finished training run keeps: its history (no per-step attention), validation predictions, weights. */
interface UnitResult {
  history: Omit<TrainingHistory, 'attention'> & { attention: TrainingHistory['attention'] };
  valPred: string;
  valNE: number;
  valCohortNE: number[];
  attention: AttentionSnapshot | null;
  config: ReturnType<typeof modelConfig>;
}

function protocolOf(o: ExperimentOptions): Protocol {
  const base = PROTOCOLS[o.protocol ?? 'quick'];
  if (!base) throw new TensorError(`experiment: protocol must be quick or full, got '${o.protocol}'`);
  return {
    ...base,
    ...Object.fromEntries(Object.entries({
      seeds: o.seeds, worldSeeds: o.worldSeeds, arms: o.arms, lambdas: o.lambdas, tune: o.tune, maxEpochs: o.maxEpochs, patience: o.patience,
      evalEvery: o.evalEvery, randomDraws: o.randomDraws, permutations: o.permutations, bootstrap: o.bootstrap,
    }).filter(([, v]) => v !== undefined)),
    grid: { ...base.grid, ...o.grid },
  };
}

function validateOptions(datasets: ClickData[], p: Protocol, o: ExperimentOptions): void {
  const bad = (what: string): never => { throw new TensorError(`experiment: ${what}`); };
  for (const [name, v] of [['seeds', p.seeds], ['maxEpochs', p.maxEpochs], ['patience', p.patience], ['randomDraws', p.randomDraws],
    ['permutations', p.permutations], ['bootstrap', p.bootstrap]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) bad(`${name} must be a positive integer, got ${v}`);
  }
  if (!p.lambdas.length) bad('lambdas must list at least one λ');
  for (const l of p.lambdas) if (!(l >= 0 && Number.isFinite(l))) bad(`λ must be a finite number >= 0, got ${l}`);
  if (!p.arms.length || !p.arms.includes('baseline')) bad(`the arms must include the baseline, got ${p.arms.join(', ') || 'none'}`);
  for (const a of p.arms) if (!ARM_KINDS.includes(a)) bad(`unknown arm '${a}'; the arms are ${ARM_KINDS.join(', ')}`);
  if (p.tune) gridPoints(p.grid);
  const names = datasets[0]!.cohortNames;
  if (names.length < 2) throw new DataError(`the cohort axis has one cohort (${names[0]}); C2AL needs at least two`);
  if (Array.isArray(o.auxCohorts)) {
    const unknown = o.auxCohorts.filter((n) => !names.includes(n));
    if (unknown.length) throw new DataError(`unknown cohort ${unknown.map((n) => `'${n}'`).join(', ')}; the cohorts are ${names.join(', ')}`);
    if (!o.auxCohorts.length || new Set(o.auxCohorts).size !== o.auxCohorts.length) throw new DataError(`auxiliary cohorts must be distinct and at least ` +
      `one, got ${o.auxCohorts.join(', ')}`);
  }
}

const hyperKey = (h: Hyper): string => `lr=${h.lr} l2=${h.embeddingL2} wd=${h.weightDecay} dim=${h.dim} b=${h.batch} ${h.schedule} w=${h.warmup} k=${h.k} ` +
  `${h.y}${h.clip ? ` clip=${h.clip}` : ''}${h.dropout ? ` drop=${h.dropout}` : ''}`;

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

/** A 20-bin density (shares of rows) of `pred` for each cohort. */
function densities(pred: ArrayLike<number>, data: ClickData): DiscoveryReport['densities'] {
  return data.cohortNames.map((cohort, c) => {
    const h = new Array<number>(20).fill(0);
    let n = 0;
    for (let i = 0; i < pred.length; i++) if (data.cohort[i] === c) { h[Math.min(19, Math.floor(pred[i]! * 20))]!++; n++; }
    return { cohort, histogram: h.map((x) => (n ? x / n : 0)) };
  });
}

/**
 * The generator's most different pair: the eligible pair whose true click probabilities (every row of the
 * world, not a model's predictions) diverge most by the discovery metric. Raw divergence, not the
 * size-corrected score: with the whole population there is no small-sample noise to correct for.
 */
async function generatorPair(data: ClickData, backend: Backend, o: ExperimentOptions): Promise<{ head: number; tail: number; divergence: number }> {
  const d = await discover(data.trueProb!, data.cohort, data.cohortNames.length, backend,
    { metric: o.metric, minShare: o.minShare, binning: o.binning, bins: o.bins, permutations: 1 });
  const m = d.matrices[d.metric];
  let best = { head: d.head, tail: d.tail, divergence: -Infinity };
  for (let i = 0; i < m.length; i++) {
    for (let j = i + 1; j < m.length; j++) {
      if (d.shares[i]! < d.minShare || d.shares[j]! < d.minShare || !(m[i]![j]! > best.divergence)) continue;
      const [head, tail] = d.shares[i]! >= d.shares[j]! ? [i, j] : [j, i];
      best = { head, tail, divergence: m[i]![j]! };
    }
  }
  return best;
}

/** Runs the protocol on `datasets` (one per world seed; real data: one) and returns the report. */
export async function runExperiment(input: ClickData | ClickData[], backend: Backend, o: ExperimentOptions = {}): Promise<ExperimentReport> {
  const datasets = Array.isArray(input) ? input : [input];
  const p = protocolOf(o);
  const worlds = datasets.slice(0, Math.max(1, Math.min(p.worldSeeds, datasets.length)));
  validateOptions(worlds, p, o);
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const names = worlds[0]!.cohortNames;
  const store = await RunStore.open(o.out, {
    data: worlds.map(dataFingerprint), protocol: p,
    options: { hyper: o.hyper ?? null, auxCohorts: o.auxCohorts ?? null, metric: o.metric ?? null, minShare: o.minShare ?? null,
      binning: o.binning ?? null, bins: o.bins ?? null, freezeY: !!o.freezeY, auxHidden: o.auxHidden ?? null, headHidden: o.headHidden ?? null },
  }, !!o.resume);
  let hyper: Hyper = { ...DEFAULT_HYPER, ...o.hyper };
  const splits = worlds.map((data) => {
    const s = splitRows(data.rows, 7);
    const [trainSet, valid] = [subset(data, s.train), subset(data, s.valid)];
    if (!valid.rows || !s.test.length) throw new DataError(`${data.rows} rows are too few for a validation and a test split`);
    const groupField = cohortGroupField(data);
    return { trainSet, valid, test: TestSplit.seal(subset(data, s.test)), groupField, groups: groupField ? fieldValues(valid, groupField) : undefined };
  });
  const valNEOf = (v: ClickData) => async (m: DhenModel): Promise<number> => cohortMetrics(v, await predict(m, v)).overall.metrics.ne;

  /** One training run (world w, an arm's heads, seed s), or its saved result. */
  const runUnit = async (w: number, arm: Arm, lambda: number | null, s: number, h: Hyper, snapshot: boolean): Promise<{ key: string; result: UnitResult }> => {
    // The cohorts are part of the key: a resumed run whose discovery chose others must not reuse these units.
    const key = `w${w + 1}/${arm.name}${arm.cohorts.length ? `[${arm.cohorts.join(',')}]` : ''}${lambda === null ? '' : ` λ=${lambda}`}/${hyperKey(h)}/s${s}`;
    const cached = await store.result<UnitResult>(key);
    if (cached) return { key, result: cached };
    const { trainSet, valid } = splits[w]!;
    const label = `${worlds.length > 1 ? `world ${w + 1} ` : ''}seed ${s}/${p.seeds} ` +
      `${arm.name}${lambda === null || arm.kind === 'baseline' ? '' : ` λ=${lambda}`}`;
    log(`training ${label}`);
    const state = await store.state(key);
    const opts: TrainOptions = {
      seed: s, batch: h.batch, lr: h.lr, dim: h.dim, weightDecay: h.weightDecay, embeddingL2: h.embeddingL2, schedule: h.schedule, warmup: h.warmup,
      k: h.k, y: h.y, ...(h.clip ? { clip: h.clip } : {}), ...(h.dropout ? { dropout: h.dropout } : {}),
      headHidden: o.headHidden, auxHidden: o.auxHidden, freezeY: o.freezeY, capture: o.capture,
      aux: arm.aux, reweight: arm.reweight, validate: valNEOf(valid), maxEpochs: p.maxEpochs, patience: p.patience, evalEvery: p.evalEvery,
      onStep: o.progress?.(label), onLog: o.onTrainLog && ((step, loss) => o.onTrainLog!(label, step, loss)),
      ...(state.save ? { checkpoint: { every: 'eval' as const, save: state.save } } : {}), resume: state.resume,
    };
    const t = await train(trainSet, backend, opts);
    try {
      const valPred = await predict(t.model, valid);
      const m = cohortMetrics(valid, valPred);
      const result: UnitResult = {
        history: t.history, valPred: encodeFloats(valPred), valNE: m.overall.metrics.ne, valCohortNE: m.cohorts.map((c) => c.metrics.ne),
        attention: snapshot ? await attentionSnapshot(t.model, valid) : null, config: t.model.config,
      };
      await store.saveResult(key, result);
      await store.saveResult(`${key}/weights`, encodeBytes(await encodeModule(t.model.forInference())));
      return { key, result };
    } finally {
      t.model.dispose();
    }
  };

  /** The serving model of a finished unit, from its saved weights. */
  const servingModel = async (key: string, result: UnitResult): Promise<DhenModel> => {
    const weights = await store.result<string>(`${key}/weights`);
    if (weights === null) throw new CheckpointError(`${key}: the run folder holds no weights for this unit`);
    const model = new DhenModel({ ...result.config, auxHeads: [] }, backend);
    try {
      restore(model.namedParameters(), decodeSafetensors(decodeBytes(weights), `${key} weights`).tensors, `${key} weights`);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  };

  /** The test split's verdict on a finished unit: its serving model's predictions, read once per key. */
  const testRows: (TestRows | null)[] = worlds.map(() => null);
  const testUnit = async (w: number, key: string, result: UnitResult): Promise<Float64Array> => {
    const cached = await store.result<string>(`${key}/test`);
    if (cached) {
      splits[w]!.test.reads.push(key);
      testRows[w] ??= rowsFrom((await store.result<StoredRows>(`w${w + 1}/test-rows`))!);
      return decodeFloats(cached);
    }
    const model = await servingModel(key, result);
    try {
      const read = await testPredictions(model, splits[w]!.test, key);
      await store.saveResult(`${key}/test`, encodeFloats(read.pred));
      if (!testRows[w]) {
        testRows[w] = { labels: read.labels, cohort: read.cohort, ...(read.trueProb ? { trueProb: read.trueProb } : {}) };
        await store.saveResult(`w${w + 1}/test-rows`, { labels: encodeFloats(read.labels), cohort: encodeFloats(read.cohort),
          trueProb: read.trueProb ? encodeFloats(read.trueProb) : null });
      }
      return read.pred;
    } finally {
      model.dispose();
    }
  };

  // 1. Tuning (first world, first seed): the baseline's lr, embedding L2 and dim, by validation NE.
  const baselineArm: Arm = { name: 'baseline', kind: 'baseline', cohorts: [], aux: [] };
  const trials: { lr: number; embeddingL2: number; dim: number; valNE: number }[] = [];
  if (p.tune) {
    for (const point of gridPoints(p.grid)) {
      const { result } = await runUnit(0, baselineArm, null, 1, { ...hyper, ...point }, true);
      trials.push({ ...point, valNE: result.history.best?.ne ?? result.valNE });
    }
    const best = bestTrial(trials);
    hyper = { ...hyper, lr: best.lr, embeddingL2: best.embeddingL2, dim: best.dim };
    log(`tuned on validation (world 1, seed 1): lr ${hyper.lr}, embedding L2 ${hyper.embeddingL2}, dim ${hyper.dim} (validation NE ${best.valNE.toFixed(4)})`);
  }

  // 2. Baselines, discovery per world.
  const seeds = Array.from({ length: p.seeds }, (_, i) => i + 1);
  const baselines = [] as { key: string; result: UnitResult }[][];
  const discoveries: Discovery[] = [];
  const chosen: number[][] = [];
  const stability = new Map<string, number>();
  for (const [w, split] of splits.entries()) {
    baselines.push([]);
    for (const s of seeds) {
      const unit = await runUnit(w, baselineArm, null, s, hyper, true);
      baselines[w]!.push(unit);
      const d = await discover(decodeFloats(unit.result.valPred), split.valid.cohort, names.length, backend, {
        metric: o.metric, minShare: o.minShare, binning: o.binning, bins: o.bins, permutations: p.permutations, groups: split.groups, seed: s,
      });
      const pair = [names[d.head]!, names[d.tail]!].join(' / ');
      stability.set(pair, (stability.get(pair) ?? 0) + 1);
      if (s === 1) {
        discoveries.push(d);
        const aux = Array.isArray(o.auxCohorts) ? o.auxCohorts.map((n) => names.indexOf(n)) : selectCohorts(d, o.auxCohorts ?? 2, 'divergence');
        chosen.push(aux);
        log(`discovery (world ${w + 1}): ${pair}, score ${d.null.score.toFixed(3)} (z ${d.null.z.toFixed(1)}), ` +
          `family-wise p = ${d.null.pValue.toFixed(3)} (${d.null.permutations} permutations across ` +
          `${d.null.level === 'group' ? `${split.groupField}s` : 'rows'})` +
          `${d.significant ? '' : ': not above chance, so this run is exploratory'}; auxiliary heads for ${aux.map((c) => names[c]).join(', ')}`);
        o.onDiscovery?.(d, aux);
      }
    }
  }

  // 3. λ on validation (first world, first seed), by the declared criterion.
  const lambdaTrials: LambdaTrial[] = [];
  let lambda = p.lambdas[0]!, lambdaReason = 'the only candidate';
  const c2alArm = (w: number, l: number): Arm => armsFor(['c2al'], chosen[w]!, discoveries[w]!, l, 1)[0]!;
  const needsLambda = p.arms.some((a) => a !== 'baseline');
  if (needsLambda && p.lambdas.length > 1) {
    const targeted = chosen[0]!;
    for (const l of p.lambdas) {
      const { result } = await runUnit(0, c2alArm(0, l), l, 1, hyper, true);
      lambdaTrials.push({ lambda: l, overall: result.valNE, targeted: targeted.reduce((a, c) => a + result.valCohortNE[c]!, 0) / targeted.length });
    }
    ({ lambda, reason: lambdaReason } = chooseLambda(lambdaTrials, baselines[0]![0]!.result.valNE));
    log(`λ = ${lambda} on validation: ${lambdaReason}`);
  }

  // 4. Every arm, every world and seed; each reads the test split once, after it is selected.
  const arms = splits.map((_, w) => armsFor(p.arms, chosen[w]!, discoveries[w]!, lambda, p.randomDraws));
  const units: UnitTest[] = [];
  const armRuns = new Map<string, ArmReport>();
  const snapshots = { baseline: [] as AttentionSnapshot[], c2al: [] as AttentionSnapshot[], init: [] as AttentionSnapshot[] };
  let c2alFirst: { key: string; result: UnitResult } | null = null;
  const validation: Record<string, Evaluation[]> = {};
  for (const [w, split] of splits.entries()) {
    for (const [si, s] of seeds.entries()) {
      const base = baselines[w]![si]!;
      const testOf = new Map<string, Float64Array>([['baseline', await testUnit(w, base.key, base.result)]]);
      const init = new DhenModel(modelConfig(split.trainSet, { seed: s, dim: hyper.dim, k: hyper.k, y: hyper.y, headHidden: o.headHidden }), backend);
      snapshots.init.push(await attentionSnapshot(init, split.valid));
      init.dispose();
      snapshots.baseline.push(base.result.attention!);
      const runs = [{ arm: arms[w]![0]!, unit: base }];
      for (const arm of arms[w]!.filter((a) => a.kind !== 'baseline')) {
        const unit = await runUnit(w, arm, lambda, s, hyper, arm.kind === 'c2al');
        testOf.set(arm.name, await testUnit(w, unit.key, unit.result));
        runs.push({ arm, unit });
        if (arm.kind === 'c2al') {
          snapshots.c2al.push(unit.result.attention!);
          if (w === 0 && s === 1) c2alFirst = unit;
        }
      }
      for (const { arm, unit } of runs) {
        const r = armRuns.get(arm.name) ?? {
          name: arm.name, kind: arm.kind, heads: arm.aux.map((a) => (a.cohort === null ? 'y' : names[a.cohort]!)),
            reweighted: (arm.reweight?.cohorts ?? []).map((c) => names[c]!),
          lambda: arm.kind === 'baseline' ? null : lambda, perSeed: [],
        };
        const h = unit.result.history;
        r.perSeed.push({ seed: s, worldSeed: w + 1, bestStep: h.best?.step ?? h.stepsRun, bestEpoch: h.best?.epoch ?? 0,
          valNE: h.best?.ne ?? unit.result.valNE, stopped: h.stopped, steps: h.stepsRun, seconds: h.seconds });
        armRuns.set(arm.name, r);
        if (w === 0 && s === 1) validation[arm.name] = h.validation;
      }
      units.push({ world: w, seed: s, testOf, rows: testRows[w]! });
    }
  }

  // 5. The serving model of C2AL against the baseline: same parameters, the same cost.
  const first = splits[0]!, cfg = baselines[0]![0]!.result.config;
  let inference: ExperimentReport['inference'] = { sameParameters: true, baselineMs: NaN, c2alMs: NaN, ratio: NaN };
  if (c2alFirst) {
    const b = new DhenModel(cfg, backend), serving = new DhenModel({ ...c2alFirst.result.config, auxHeads: [] }, backend);
    const sig = (m: DhenModel) => JSON.stringify(m.namedParameters().map(([n, t]) => [n, t.shape]));
    const [baselineMs, c2alMs] = await forwardCost([b, serving], first.valid);
    inference = { sameParameters: sig(b) === sig(serving), baselineMs: baselineMs!, c2alMs: c2alMs!, ratio: c2alMs! / baselineMs! };
    b.dispose();
    serving.dispose();
  }

  // 6. The summary: per cohort and overall, every arm against the baseline, with intervals.
  const d0 = discoveries[0]!;
  const truth = worlds[0]!.trueProb ? await generatorPair(worlds[0]!, backend, o) : null;
  const summary = summarize(units, names, p, { baseline: snapshots.baseline, c2al: snapshots.c2al, init: snapshots.init });
  const report: ExperimentReport = {
    protocol: {
      name: p.name, seeds: p.seeds, worldSeeds: worlds.length, maxEpochs: p.maxEpochs, patience: p.patience, evalEvery: p.evalEvery
        ?? 'epoch', selection: 'validation',
      tuned: { lr: hyper.lr, dim: hyper.dim, embeddingL2: hyper.embeddingL2, weightDecay: hyper.weightDecay, lambda: needsLambda ? lambda : null,
        criterion: LAMBDA_CRITERION, lambdaReason, tuned: p.tune, trials, lambdaTrials },
      multiplicity: summary.multiplicity, bootstrap: p.bootstrap,
    },
    arms: [...armRuns.values()],
    discovery: {
      head: names[d0.head]!, tail: names[d0.tail]!, metric: d0.metric, binning: d0.binning, bins: d0.bins, matrix: d0.matrices[d0.metric],
        matrices: d0.matrices, shares: d0.shares, cohortNames: [...names],
      aux: chosen[0]!.map((c) => names[c]!), selection: (Array.isArray(o.auxCohorts) ? 'given' : 'divergence') as Selection | 'given',
      ...(truth ? { truth: { head: names[truth.head]!, tail: names[truth.tail]!, divergence: truth.divergence } } : {}), null: {
        permutations: d0.null.permutations, level: d0.null.level, groupField: first.groupField, groups: d0.null.groups, pValue: d0.null.pValue,
          pairPValue: d0.null.pairPValue,
        score: d0.null.score, z: d0.null.z, observed: d0.null.observed, distribution: d0.null.distribution, scores: d0.null.scores,
        zScores: d0.null.zScores, pValues: d0.null.pValues,
      },
      significant: d0.significant, level: d0.level,
      stability: { units: worlds.length * p.seeds, pairs: [...stability].map(([pair, count]) => ({ pair: pair.split(' / ') as [string, string],
        count })).sort((a, b) => b.count - a.count) },
      densities: densities(decodeFloats(baselines[0]![0]!.result.valPred), first.valid),
    },
    cohorts: summary.cohorts, overall: summary.overall, attention: summary.attention,
    curves: { baseline: baselines[0]![0]!.result.history, c2al: c2alFirst?.result.history ?? null, validation },
    inference,
    options: { batch: hyper.batch, freezeY: !!o.freezeY, rows: { train: first.trainSet.rows, valid: first.valid.rows,
      test: first.test.rows }, world: o.world ?? null },
    seeds: p.seeds, worldSeeds: worlds.length, testReads: splits.reduce((a, s) => a + s.test.reads.length, 0),
    adapter: backend.description, seconds: (performance.now() - t0) / 1000,
    ...(o.out ? { out: o.out, report: `${o.out}/report.html` } : {}),
  };
  if (o.out) {
    await writeFileAtomic(`${o.out}/metrics.json`, `${JSON.stringify(report, null, 2)}\n`);
    await writeFileAtomic(`${o.out}/report.html`, renderReport(report));
    // The first world's and seed's selected models, as checkpoints `c2al evaluate` reads.
    const baseline = await servingModel(baselines[0]![0]!.key, baselines[0]![0]!.result);
    await saveCheckpoint(`${o.out}/baseline`, baseline, { config: baseline.config });
    baseline.dispose();
    if (c2alFirst) {
      const serving = await servingModel(c2alFirst.key, c2alFirst.result);
      await saveCheckpoint(`${o.out}/c2al-inference`, serving, { config: serving.config });
      serving.dispose();
    }
  }
  return report;
}
