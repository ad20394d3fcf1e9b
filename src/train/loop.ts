/**
 * Training and prediction for one DHEN, baseline or C2AL:
 *   L = BCE(z_p, y) + Σ_h λ_h·BCE(z_h, y·1[x∈cohort_h]), each term averaged over the whole batch (rows
 *   outside a cohort carry label 0), all heads in one fused BCE dispatch.
 * The history (per-head loss, FM attention statistics over training) is captured on the GPU at logged
 * steps and read back once at the end, so recording it never stalls the step pipeline.
 */
import type { Backend } from '../backend/index.js';
import { concat, mulScalar, reshape, sigmoid } from '../ops.js';
import { tensor, zeros } from '../create.js';
import type { CapturedStep } from '../backend/capture.js';
import type { WebGpuBackend } from '../backend/webgpu.js';
import type { EmbeddingsFeed } from '../nn/embedding.js';
import { DhenModel, type DhenConfig, type DhenLayerConfig } from '../nn/dhen.js';
import { Adam, encodeOptimizerState, restoreOptimizerState } from './optim.js';
import { decodeSafetensors, encodeModule, restore } from '../nn/checkpoint.js';
import { keep, noGrad, scope, TensorError, type Tensor } from '../tensor.js';
import { splitRows, subset, validateClickData, type ClickData } from '../data/schema.js';
import { FiniteGuard } from './finite-guard.js';
import { headLabels } from './loss.js';
import { trainStep } from './step.js';
import { attentionStats, type AttentionStats } from '../nn/attention-stats.js';

export interface AuxCohort { cohort: number; lambda: number }

/** Auxiliary cohorts with their λ: `lambda` for each, except the head (first) and tail (second) when given. */
export function auxWeights(cohorts: readonly number[], lambda: number, head?: number, tail?: number): AuxCohort[] {
  return cohorts.map((cohort, i) => ({ cohort, lambda: (i === 0 ? head : i === 1 ? tail : undefined) ?? lambda }));
}

export interface TrainOptions {
  dim?: number;
  layers?: DhenLayerConfig[];
  headHidden?: number[];
  /** Hidden sizes of the auxiliary heads' MLPs (default: the primary head's); [] makes them linear. */
  auxHidden?: number[];
  /** Optimizer steps; `epochs` (passes over the training rows) wins when given. */
  steps?: number;
  epochs?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  /** Auxiliary cohorts (C2AL): their indices and λ weights. Empty: the baseline. */
  aux?: AuxCohort[];
  /** Keep the FM attention weights Y at their initial values (an ablation: does C2AL act through Y?). */
  freezeY?: boolean;
  /** Record the losses and the attention statistics every this many steps (default: ~50 points per run). */
  logEvery?: number;
  /** Called after every step (progress bars); `steps` is the total. */
  onStep?: (step: number, steps: number) => void;
  /** Called with each logged step's losses per head as soon as the device has them (live plots). */
  onLog?: (step: number, loss: Record<string, number>) => void;
  /**
   * Check every step on the device for NaN/Inf in layer outputs, the loss, gradients and parameters;
   * stop with a NonFiniteError naming the step, the tensor and the layer. Costs one small readback per step.
   */
  finiteGuard?: boolean;
  /**
   * Capture the training step after the first one and replay it (WebGPU only): the batch enters through
   * fixed device buffers, and each later step is one submit with no per-op JS. Gives the weights the
   * uncaptured loop gives, bit for bit. Not with finiteGuard or dropout.
   */
  capture?: boolean;
  /** Save a TrainState every `every` steps (e.g. saveTrainState to a folder in Node). */
  checkpoint?: { every: number; save: (state: TrainState) => Promise<void> };
  /**
   * Continue a run from a saved state: same data, options and seed give the weights the uninterrupted
   * run would have (bit-identical on the same adapter, without dropout).
   */
  resume?: TrainState;
}

/** What happened during training, at the logged steps. */
export interface TrainingHistory {
  steps: number[];
  /** Mean BCE over the batch per head ('primary', then the auxiliary cohorts' names), unweighted by λ. */
  loss: Record<string, number[]>;
  /** Statistics of the FM attention weights Y at the logged steps (empty without learned Y). */
  attention: AttentionStats[];
  seconds: number;
  samplesPerSecond: number;
}

export interface Trained { model: DhenModel; history: TrainingHistory }

/** Everything a run needs to continue after `step` completed steps: weights and optimizer state (safetensors bytes). */
export interface TrainState { step: number; model: Uint8Array; optimizer: Uint8Array }

export function modelConfig(data: ClickData, o: TrainOptions): DhenConfig {
  return {
    fields: data.fields, dim: o.dim ?? 16, seed: o.seed ?? 1,
    ...(data.denseFeatures ? { dense: data.denseFeatures, denseFields: 1 } : {}),
    layers: o.layers ?? [{ modules: [{ type: 'fm', k: 8, hidden: [64] }, { type: 'linearCompress' }], ensemble: 'sum' }],
    head: { hidden: o.headHidden ?? [64, 32] },
    auxHeads: (o.aux ?? []).map((_, i) => `aux${i}`),
    ...(o.auxHidden && o.aux?.length ? { auxHead: { hidden: o.auxHidden } } : {}),
  };
}

/** Steps a run takes: `epochs` passes over `rows` in batches of `batch`, else `steps` (default 200). */
export function stepCount(rows: number, o: TrainOptions): number {
  const batch = o.batch ?? 512;
  return o.epochs !== undefined ? Math.max(1, Math.ceil((o.epochs * rows) / batch)) : o.steps ?? 200;
}

function validate(data: ClickData, o: TrainOptions): void {
  validateClickData(data, 'train: data');
  const bad = (what: string): never => { throw new TensorError(`train: ${what}`); };
  if (data.rows < 1) bad('the training data has no rows');
  for (const [name, v] of [['steps', o.steps], ['batch', o.batch], ['logEvery', o.logEvery]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) bad(`${name} must be a positive integer, got ${v}`);
  }
  if (o.epochs !== undefined && !(o.epochs > 0 && Number.isFinite(o.epochs))) bad(`epochs must be > 0, got ${o.epochs}`);
  if (o.capture && o.finiteGuard) bad('capture and finiteGuard do not go together: the guard reads every step back (train uncaptured to guard)');
  if (o.checkpoint && !(Number.isInteger(o.checkpoint.every) && o.checkpoint.every >= 1)) bad(`checkpoint.every must be a positive integer, got ${o.checkpoint.every}`);
  if (o.resume && !(Number.isInteger(o.resume.step) && o.resume.step >= 0 && o.resume.step <= stepCount(data.rows, o))) {
    bad(`resume.step must be in 0 .. ${stepCount(data.rows, o)} (the run's steps), got ${o.resume.step}`);
  }
  for (const a of o.aux ?? []) {
    if (!(Number.isInteger(a.cohort) && a.cohort >= 0 && a.cohort < data.cohortNames.length)) bad(`auxiliary cohort ${a.cohort} is not one of 0 .. ${data.cohortNames.length - 1}`);
    if (!(a.lambda >= 0 && Number.isFinite(a.lambda))) bad(`λ of cohort '${data.cohortNames[a.cohort]}' must be a finite number >= 0, got ${a.lambda}`);
  }
}

interface FedInputs { ids: EmbeddingsFeed; y: Tensor; dense: Tensor | null; dispose(): void }

/** The fixed device buffers a captured step reads each batch from: ids, labels per head, dense features. */
function captureInputs(model: DhenModel, backend: Backend, batch: number, heads: number, denseFeatures?: number): FedInputs {
  if (!('capture' in backend)) throw new TensorError(`train: capture needs the webgpu backend (this is ${backend.name})`);
  const ids = model.embeddings.feed(batch);
  const y = keep(zeros([batch, heads], { backend }));
  const dense = denseFeatures ? keep(zeros([batch, denseFeatures], { backend })) : null;
  return { ids, y, dense, dispose: () => { ids.dispose(); y.dispose(); dense?.dispose(); } };
}

/** A copy of every learned Y, concatenated (one tiny dispatch per FM block; read back at the end). */
function snapshotY(model: DhenModel): Tensor | null {
  const ys = model.fmBlocks().flatMap((b) => (b.y ? [b.y] : []));
  if (!ys.length) return null;
  return keep(noGrad(() => scope(() => concat(ys.map((y) => reshape(mulScalar(y, 1), [y.size])), 0))));
}

/** Trains a DHEN on `data` (baseline, or C2AL when `aux` lists cohorts). */
export async function train(data: ClickData, backend: Backend, o: TrainOptions = {}): Promise<Trained> {
  validate(data, o);
  const aux = o.aux ?? [];
  const model = new DhenModel(modelConfig(data, o), backend);
  const frozen = o.freezeY ? new Set(model.fmBlocks().flatMap((b) => (b.y ? [b.y] : []))) : new Set<Tensor>();
  for (const y of frozen) y.requiresGrad = false;
  const opt = new Adam(model.namedParameters().filter(([, p]) => !frozen.has(p)), { lr: o.lr ?? 0.005 });
  if (o.resume) {
    try {
      restore(model.namedParameters(), decodeSafetensors(o.resume.model, 'resume state (model)').tensors, 'resume state (model)');
      restoreOptimizerState(opt, o.resume.optimizer, 'resume state (optimizer)');
    } catch (e) {
      opt.dispose();
      model.dispose();
      throw e;
    }
  }
  const batch = Math.min(o.batch ?? 512, data.rows), steps = stepCount(data.rows, o), heads = 1 + aux.length;
  const logEvery = o.logEvery ?? Math.max(1, Math.round(steps / 50));
  const order = splitRows(data.rows, o.seed ?? 1, [1, 0, 0]).train;
  const lambdas = keep(tensor([1, ...aux.map((a) => a.lambda)], [heads], { backend }));
  const ones = keep(tensor(new Float32Array(batch * heads).fill(1), [batch, heads], { backend }));
  const names = ['primary', ...aux.map((a) => data.cohortNames[a.cohort]!)];
  const logged: { step: number; loss: Promise<ArrayLike<number>>; y: Tensor | null }[] = [];
  const t0 = performance.now();
  const epochRows = Math.max(1, data.rows - batch + 1);
  // At most two steps in flight: the host prepares step s + 1 while the device runs step s, and the
  // queue (and the pool's parked buffers) cannot grow without bound; progress rates stay true.
  const inFlight: Promise<void>[] = [];
  const guard = o.finiteGuard ? new FiniteGuard(backend) : null;
  const fed = o.capture ? captureInputs(model, backend, batch, heads, data.denseFeatures) : null;
  let captured: { step: CapturedStep; perHead: Tensor } | null = null;
  try {
    for (let step = o.resume?.step ?? 0; step < steps; step++) {
      if (inFlight.length >= 2) await inFlight.shift();
      const start = (step * batch) % epochRows;
      const rows = subset(data, order.subarray(start, start + batch));
      const b = rows.rows;
      const y = headLabels(rows.labels, rows.cohort, aux);
      const log = step % logEvery === 0 || step === steps - 1;
      if (fed) {
        fed.ids.set(rows.ids);
        backend.write(fed.y.storage, y);
        if (fed.dense) backend.write(fed.dense.storage, rows.dense!);
      }
      // One training step; with `fed`, it reads the batch from the feed's buffers and always returns the losses.
      const step1 = (): Tensor | null => scope(() => trainStep(model, opt, {
        ids: fed ? fed.ids : rows.ids,
        labels: fed ? fed.y : tensor(y, [b, heads], { backend }),
        dense: fed ? fed.dense ?? undefined : rows.dense ? tensor(rows.dense, [b, rows.denseFeatures!], { backend }) : undefined,
        weights: b === batch ? ones : undefined,
      }, { lambdas, guard, losses: log || !!fed }));
      let perHead: Tensor | null;
      if (captured) {
        captured.step.replay();
        perHead = captured.perHead;
      } else if (fed && step > (o.resume?.step ?? 0)) {
        // The first step ran uncaptured (it created the optimizer state); this one is recorded.
        const { step: recorded, result } = (backend as WebGpuBackend).capture(step1);
        captured = { step: recorded, perHead: result! };
        perHead = result;
      } else {
        perHead = step1();
      }
      const owned = perHead !== captured?.perHead;
      if (perHead && !log && owned) perHead.dispose();
      if (perHead && log) {
        const head = perHead;
        // Read without waiting: the values arrive when the device gets there, the loop goes on.
        const loss = head.read().then((v) => {
          if (owned) head.dispose();
          o.onLog?.(step, Object.fromEntries(names.map((n, h) => [n, v[h]!])));
          return v;
        });
        loss.catch(() => {}); // awaited later; a lost device must not make it an unhandled rejection meanwhile
        logged.push({ step, loss, y: snapshotY(model) });
      }
      await guard?.assertFinite(step);
      if (o.checkpoint && (step + 1) % o.checkpoint.every === 0) {
        await o.checkpoint.save({ step: step + 1, model: await encodeModule(model), optimizer: await encodeOptimizerState(opt) });
      }
      const done = backend.done();
      done.catch(() => {});
      inFlight.push(done);
      o.onStep?.(step, steps);
    }
  } catch (e) {
    await Promise.allSettled(logged.map((l) => l.loss));
    for (const l of logged) l.y?.dispose();
    model.dispose();
    throw e;
  } finally {
    guard?.dispose();
    captured?.step.dispose();
    captured?.perHead.dispose();
    fed?.dispose();
    lambdas.dispose();
    ones.dispose();
    opt.dispose();
  }
  const history: TrainingHistory = { steps: [], loss: Object.fromEntries(names.map((n) => [n, []])), attention: [], seconds: 0, samplesPerSecond: 0 };
  for (const l of logged) {
    const v = await l.loss;
    history.steps.push(l.step);
    names.forEach((n, h) => history.loss[n]!.push(v[h]!));
    if (l.y) history.attention.push(attentionStats(await l.y.read()));
    l.y?.dispose();
  }
  history.seconds = (performance.now() - t0) / 1000;
  history.samplesPerSecond = ((steps - (o.resume?.step ?? 0)) * batch) / history.seconds;
  return { model, history };
}

/** Click probabilities of the primary head for every row (float64 on the host). */
export async function predict(model: DhenModel, data: ClickData, batch = 2048): Promise<Float64Array> {
  const f = data.fields.length, out = new Float64Array(data.rows);
  const wasTraining = model.training;
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
  model.train(wasTraining);
  return out;
}

/** The learned FM attention weights Y of every block, flattened. */
export async function fmWeights(model: DhenModel): Promise<number[]> {
  const parts = await Promise.all(model.fmBlocks().filter((b) => b.y).map(async (b) => Array.from(await b.y!.read())));
  return parts.flat();
}
