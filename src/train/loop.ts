/**
 * The training loop for one DHEN (baseline, C2AL or a control): epochs over the training rows reshuffled
 * every epoch (seeded), a warmup + decay lr schedule, optional gradient clipping, AdamW on dense weights
 * and an L2 penalty on the embedding rows a batch touches, and early stopping: with `validate`, the model
 * is evaluated every `evalEvery` steps (default once per epoch), training stops after `patience`
 * evaluations without improvement or at `maxEpochs`, and the weights of the best evaluation are restored.
 * Each step is trainStep (step.ts) with the C2AL loss (loss.ts). Losses and attention statistics of the
 * logged steps are read back once at the end, so recording them never stalls the step pipeline.
 */
import type { Backend } from '../backend/index.js';
import { concat, mulScalar, reshape, sigmoid } from '../ops.js';
import { tensor, zeros } from '../create.js';
import type { CapturedStep } from '../backend/capture.js';
import type { WebGpuBackend } from '../backend/webgpu.js';
import type { EmbeddingsFeed } from '../nn/embedding.js';
import type { DhenModel } from '../nn/dhen.js';
import { CheckpointError, decodeSafetensors, encodeModule, restore } from '../nn/checkpoint.js';
import { keep, noGrad, scope, TensorError, type Tensor } from '../tensor.js';
import { subset, validateClickData, type ClickData } from '../data/schema.js';
import { mulberry32 } from '../random.js';
import { attentionStats, type AttentionStats } from '../nn/attention-stats.js';
import { FiniteGuard } from './finite-guard.js';
import { headLabels, rowWeights, type AuxHead, type Reweight } from './loss.js';
import { buildModel, type ModelOptions } from './model-config.js';
import { Adam, encodeOptimizerState, learningRate, restoreOptimizerState } from './optim.js';
import { trainStep } from './step.js';

export type { AuxHead, Reweight } from './loss.js';

export type LrSchedule = 'constant' | 'cosine' | 'step';

export interface TrainOptions extends ModelOptions {
  /** Optimizer steps without early stopping; `epochs` (passes over the training rows) wins when given. */
  steps?: number;
  epochs?: number;
  batch?: number;
  seed?: number;
  lr?: number;
  /** After `warmup` linear warmup steps: 'constant', 'cosine' to 0 over the run's step budget, or 'step' (halved every 2 epochs). */
  schedule?: LrSchedule;
  warmup?: number;
  /** Clip the global gradient norm to this value. */
  clip?: number;
  /** Decoupled weight decay (AdamW) of dense weight matrices (not biases, norms or embedding tables). */
  weightDecay?: number;
  /** L2 penalty on the embedding rows each batch touches (their gradient gains embeddingL2·row). */
  embeddingL2?: number;
  /**
   * Validation NE of the model as it is now (lower is better). With it the run early-stops: evaluated every
   * `evalEvery` steps, stopped after `patience` evaluations without improvement or at `maxEpochs`, and
   * the best evaluation's weights restored.
   */
  validate?: (model: DhenModel) => Promise<number>;
  evalEvery?: number;
  patience?: number;
  maxEpochs?: number;
  /** Auxiliary heads (C2AL, or the duplicate control): λ and the cohort whose label they learn. Empty: the baseline. */
  aux?: AuxHead[];
  /** The reweight control: the primary loss weighs rows of these cohorts by `factor`. */
  reweight?: Reweight;
  /** Keep the FM attention weights Y at their initial values (an ablation: does C2AL act through Y?). */
  freezeY?: boolean;
  /** Record the losses and the attention statistics every this many steps (default: ~50 points per run). */
  logEvery?: number;
  /** Called after every step (progress bars); `steps` is the step budget. */
  onStep?: (step: number, steps: number) => void;
  /** Called with each logged step's losses per head as soon as the device has them (live plots). */
  onLog?: (step: number, loss: Record<string, number>) => void;
  /** Called after each validation. */
  onEvaluate?: (e: Evaluation) => void;
  /**
   * Check every step on the device for NaN/Inf in layer outputs, the loss, gradients and parameters;
   * stop with a NonFiniteError naming the step, the tensor and the layer. Costs one small readback per step.
   */
  finiteGuard?: boolean;
  /**
   * Capture the training step after the first one and replay it (WebGPU only): the batch enters through
   * fixed device buffers, and each later step is one submit with no per-op JS. Gives the weights the
   * uncaptured loop gives, bit for bit. 'auto' (the default) captures where a captured step can run: a
   * WebGPU backend, no finiteGuard, no dropout (1.04-1.25x op by op on the experiment's model, parity on the
   * GPU-bound reference one: docs/benchmarks.md); true insists (an error where it cannot), false declines.
   */
  capture?: boolean | 'auto';
  /** Save a TrainState every `every` steps, or after every validation ('eval'; e.g. saveTrainState to a folder). */
  checkpoint?: { every: number | 'eval'; save: (state: TrainState) => Promise<void> };
  /**
   * Continue a run from a saved state: same data, options and seed give the weights the uninterrupted
   * run would have (bit-identical on the same adapter, without dropout).
   */
  resume?: TrainState;
}

/** One validation: after `step` steps (in epoch `epoch`, 1-based), primary NE on the validation rows. */
export interface Evaluation { step: number; epoch: number; ne: number }

/** What happened during training. */
export interface TrainingHistory {
  steps: number[];
  /** Mean BCE over the batch per head ('primary', then the auxiliary heads' names), unweighted by λ. */
  loss: Record<string, number[]>;
  /** Statistics of the FM attention weights Y at the logged steps (empty without learned Y). */
  attention: AttentionStats[];
  /** Every validation, in order (empty without `validate`). */
  validation: Evaluation[];
  /** The evaluation whose weights the model holds (null without `validate`). */
  best: Evaluation | null;
  /** Why training ended: the step budget, or patience exhausted. */
  stopped: 'budget' | 'patience';
  stepsRun: number;
  seconds: number;
  samplesPerSecond: number;
}

export interface Trained { model: DhenModel; history: TrainingHistory }

/** Early stopping's state at a validation: what a resumed run needs to continue it. */
export interface StoppingState { evaluations: Evaluation[]; best: Evaluation | null; sinceBest: number; bestWeights: Uint8Array | null }

/** Everything a run needs to continue after `step` completed steps: weights, optimizer state, early stopping (safetensors bytes). */
export interface TrainState { step: number; model: Uint8Array; optimizer: Uint8Array; stopping?: StoppingState }

/** Full batches per epoch (the last partial batch is dropped, so every step has the same shape). */
export const stepsPerEpoch = (rows: number, batch: number): number => Math.max(1, Math.floor(rows / Math.min(batch, rows)));

/** The step budget of a run: maxEpochs (with validate) or `epochs` passes over `rows`, else `steps` (default 200). */
export function stepCount(rows: number, o: TrainOptions): number {
  const perEpoch = stepsPerEpoch(rows, o.batch ?? 512);
  if (o.validate) return perEpoch * (o.maxEpochs ?? 30);
  return o.epochs !== undefined ? Math.max(1, Math.ceil(o.epochs * perEpoch)) : o.steps ?? 200;
}

function validate(data: ClickData, o: TrainOptions): void {
  validateClickData(data, 'train: data');
  const bad = (what: string): never => { throw new TensorError(`train: ${what}`); };
  for (const [name, v] of [['steps', o.steps], ['batch', o.batch], ['logEvery', o.logEvery], ['evalEvery', o.evalEvery], ['patience', o.patience],
    ['maxEpochs', o.maxEpochs]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) bad(`${name} must be a positive integer, got ${v}`);
  }
  if (o.warmup !== undefined && !(Number.isInteger(o.warmup) && o.warmup >= 0)) bad(`warmup must be an integer >= 0 (steps), got ${o.warmup}`);
  for (const [name, v] of [['lr', o.lr], ['clip', o.clip]] as const) if (v !== undefined
    && !(v > 0 && Number.isFinite(v))) bad(`${name} must be > 0, got ${v}`);
  for (const [name, v] of [['weightDecay', o.weightDecay], ['embeddingL2', o.embeddingL2]] as const) {
    if (v !== undefined && !(v >= 0 && Number.isFinite(v))) bad(`${name} must be >= 0, got ${v}`);
  }
  if (o.schedule !== undefined && !['constant', 'cosine', 'step'].includes(o.schedule)) bad(`schedule must be constant, cosine or step, got ${o.schedule}`);
  if (o.epochs !== undefined && !(o.epochs > 0 && Number.isFinite(o.epochs))) bad(`epochs must be > 0, got ${o.epochs}`);
  if (o.capture !== undefined && o.capture !== 'auto' && typeof o.capture !== 'boolean') bad(`capture must be true, false or 'auto', got ${String(o.capture)}`);
  if (o.capture === true && o.finiteGuard) bad('capture and finiteGuard do not go together: the guard reads every step back (train uncaptured to guard)');
  if (o.capture === true && o.dropout) bad('capture and dropout do not go together: a captured step replays the same masks');
  const every = o.checkpoint?.every;
  if (o.checkpoint && every !== 'eval' && !(Number.isInteger(every) && (every as number) >= 1)) bad(`checkpoint.every must be a positive ` +
    `integer or 'eval', got ${every}`);
  if (every === 'eval' && !o.validate) bad("checkpoint.every 'eval' needs validate (the evaluations are its save points)");
  if (o.resume && !(Number.isInteger(o.resume.step) && o.resume.step >= 0 && o.resume.step <= stepCount(data.rows, o))) {
    bad(`resume.step must be in 0 .. ${stepCount(data.rows, o)} (the run's steps), got ${o.resume.step}`);
  }
  for (const a of o.aux ?? []) {
    if (a.cohort !== null && !(Number.isInteger(a.cohort) && a.cohort >= 0
      && a.cohort < data.cohortNames.length)) bad(`auxiliary cohort ${a.cohort} is not one of 0 .. ${data.cohortNames.length - 1}`);
    if (!(a.lambda >= 0 && Number.isFinite(a.lambda))) bad(`λ of auxiliary head ` +
      `${a.cohort === null ? '(primary label)' : `'${data.cohortNames[a.cohort]}'`} must be a finite number >= 0, got ${a.lambda}`);
  }
  if (o.reweight) {
    if (!(o.reweight.factor >= 0 && Number.isFinite(o.reweight.factor))) bad(`reweight.factor must be a finite number >= 0, got ${o.reweight.factor}`);
    for (const c of o.reweight.cohorts) if (!(Number.isInteger(c) && c >= 0
      && c < data.cohortNames.length)) bad(`reweighted cohort ${c} is not one of 0 .. ${data.cohortNames.length - 1}`);
  }
}

interface FedInputs { ids: EmbeddingsFeed; y: Tensor; w: Tensor; dense: Tensor | null; dispose(): void }

/** The fixed device buffers a captured step reads each batch from: ids, labels and weights per head, dense features. */
function captureInputs(model: DhenModel, backend: Backend, batch: number, heads: number, denseFeatures?: number): FedInputs {
  if (!('capture' in backend)) throw new TensorError(`train: capture needs the webgpu backend (this is ${backend.name})`);
  const ids = model.embeddings.feed(batch);
  const y = keep(zeros([batch, heads], { backend })), w = keep(zeros([batch, heads], { backend }));
  const dense = denseFeatures ? keep(zeros([batch, denseFeatures], { backend })) : null;
  return { ids, y, w, dense, dispose: () => { ids.dispose(); y.dispose(); w.dispose(); dense?.dispose(); } };
}

/** A copy of every learned Y, concatenated (one tiny dispatch per FM block; read back at the end). */
function snapshotY(model: DhenModel): Tensor | null {
  const ys = model.fmBlocks().flatMap((b) => (b.y ? [b.y] : []));
  if (!ys.length) return null;
  return keep(noGrad(() => scope(() => concat(ys.map((y) => reshape(mulScalar(y, 1), [y.size])), 0))));
}

/**
 * How many steps train() lets run ahead on the device: 2 (host prepares the next step while the device runs
 * this one), but 1 on a CPU adapter, where the device's kernels run on the host's cores and lose one to the
 * host's work (lavapipe's dispatch waits for its slowest thread). There, building the reference model's next
 * lookup plan during the step cost more device time than it hid (docs/benchmarks.md).
 */
export function stepsInFlight(backend: Backend): 1 | 2 {
  return 'ctx' in backend && (backend as WebGpuBackend).ctx.adapter.cpuAdapter ? 1 : 2;
}

/** The row order of epoch `epoch` (0-based): a seeded shuffle, the same for every arm trained with this seed. */
export function epochOrder(rows: number, seed: number, epoch: number): Uint32Array {
  const order = Uint32Array.from({ length: rows }, (_, i) => i);
  const next = mulberry32((seed * 1_000_003 + epoch * 7_919 + 11) >>> 0);
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** The optimizer of a run: Adam, AdamW decay on dense weight matrices, an L2 term on embedding rows, none on biases and norms. */
export function optimizerFor(model: DhenModel, o: TrainOptions): Adam {
  const frozen = o.freezeY ? new Set(model.fmBlocks().flatMap((b) => (b.y ? [b.y] : []))) : new Set<Tensor>();
  for (const y of frozen) y.requiresGrad = false;
  const params = model.namedParameters().filter(([, p]) => !frozen.has(p));
  return new Adam(params, { lr: o.lr ?? 0.005 }, (_, p) => (p.sparseGrad ? { weightDecay: o.embeddingL2 ?? 0, decoupled: false }
    : p.rank >= 2 ? { weightDecay: o.weightDecay ?? 0, decoupled: true } : undefined));
}

/** Learning rate at `step` for this run's schedule over `budget` steps. */
export function scheduledLr(o: TrainOptions, step: number, budget: number, perEpoch: number): number {
  const base = o.lr ?? 0.005, warm = o.warmup ?? 0;
  if (o.schedule === 'step') return step < warm ? learningRate(base, step, { warmupSteps: warm }) : base * 0.5 ** Math.floor(step / perEpoch / 2);
  return learningRate(base, step, { warmupSteps: warm, totalSteps: budget, decay: o.schedule === 'cosine' ? 'cosine' : 'none' });
}

/** Trains a DHEN on `data` (baseline, C2AL when `aux` lists cohort heads, or a control). */
export async function train(data: ClickData, backend: Backend, o: TrainOptions = {}): Promise<Trained> {
  validate(data, o);
  const aux = o.aux ?? [], seed = o.seed ?? 1;
  const model = buildModel(data, o, backend);
  const opt = optimizerFor(model, o);
  let stopping: StoppingState = { evaluations: [], best: null, sinceBest: 0, bestWeights: null };
  if (o.resume) {
    try {
      restore(model.namedParameters(), decodeSafetensors(o.resume.model, 'resume state (model)').tensors, 'resume state (model)');
      restoreOptimizerState(opt, o.resume.optimizer, 'resume state (optimizer)');
      if (o.validate && !o.resume.stopping && o.resume.step > 0) throw new CheckpointError('resume state: no early-stopping state saved (the run ' +
        'was saved without validate)');
      if (o.resume.stopping) stopping = structuredClone(o.resume.stopping);
    } catch (e) {
      opt.dispose();
      model.dispose();
      throw e;
    }
  }
  const batch = Math.min(o.batch ?? 512, data.rows), perEpoch = stepsPerEpoch(data.rows, batch), budget = stepCount(data.rows, o);
  const heads = 1 + aux.length, evalEvery = o.evalEvery ?? perEpoch, patience = o.patience ?? 3;
  const logEvery = o.logEvery ?? Math.max(1, Math.round(budget / 50));
  const lambdas = keep(tensor([1, ...aux.map((a) => a.lambda)], [heads], { backend }));
  const unitWeights = new Float32Array(batch * heads).fill(1);
  const ones = keep(tensor(unitWeights, [batch, heads], { backend }));
  const names = ['primary', ...aux.map((a, i) => (a.cohort === null ? `duplicate ${i + 1}` : data.cohortNames[a.cohort]!))];
  const logged: { step: number; loss: Promise<ArrayLike<number>>; y: Tensor | null }[] = [];
  const t0 = performance.now();
  // At most stepsInFlight steps in flight: on a GPU the host prepares step s + 1 while the device runs step s,
  // on a CPU adapter after it; either way the queue and the pool's parked buffers cannot grow without bound.
  const inFlight: Promise<void>[] = [], depth = stepsInFlight(backend);
  const guard = o.finiteGuard ? new FiniteGuard(backend) : null;
  const capture = o.capture === true || ((o.capture ?? 'auto') === 'auto' && 'capture' in backend && !o.finiteGuard && !o.dropout);
  const fed = capture ? captureInputs(model, backend, batch, heads, data.denseFeatures) : null;
  let captured: { step: CapturedStep; perHead: Tensor } | null = null;
  let order = null as { epoch: number; rows: Uint32Array } | null;
  let stopped: TrainingHistory['stopped'] = 'budget', step = o.resume?.step ?? 0;
  const firstStep = step;
  const save = async (): Promise<void> => {
    await o.checkpoint!.save({ step, model: await encodeModule(model), optimizer: await encodeOptimizerState(opt),
      ...(o.validate ? { stopping: structuredClone(stopping) } : {}) });
  };
  try {
    for (; step < budget; step++) {
      while (inFlight.length >= depth) await inFlight.shift();
      const epoch = Math.floor(step / perEpoch);
      if (order?.epoch !== epoch) order = { epoch, rows: epochOrder(data.rows, seed, epoch) };
      const start = (step % perEpoch) * batch;
      const rows = subset(data, order.rows.subarray(start, start + batch));
      const y = headLabels(rows.labels, rows.cohort, aux);
      const w = o.reweight ? rowWeights(rows.cohort, heads, o.reweight) : null;
      const log = step % logEvery === 0 || step === budget - 1;
      opt.lr = scheduledLr(o, step, budget, perEpoch);
      if (fed) {
        fed.ids.set(rows.ids);
        backend.write(fed.y.storage, y);
        backend.write(fed.w.storage, w ?? unitWeights);
        if (fed.dense) backend.write(fed.dense.storage, rows.dense!);
      }
      // One training step; with `fed`, it reads the batch from the feed's buffers and always returns the losses.
      const step1 = (): Tensor | null => scope(() => trainStep(model, opt, {
        ids: fed ? fed.ids : rows.ids,
        labels: fed ? fed.y : tensor(y, [batch, heads], { backend }),
        dense: fed ? fed.dense ?? undefined : rows.dense ? tensor(rows.dense, [batch, rows.denseFeatures!], { backend }) : undefined,
        weights: fed ? fed.w : w ? tensor(w, [batch, heads], { backend }) : ones,
      }, { lambdas, guard, clip: o.clip, losses: log || !!fed }));
      let perHead: Tensor | null;
      if (captured) {
        captured.step.replay();
        perHead = captured.perHead;
      } else if (fed && step > firstStep) {
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
        const head = perHead, at = step;
        // Read without waiting: the values arrive when the device gets there, the loop goes on.
        const loss = head.read().then((v) => {
          if (owned) head.dispose();
          o.onLog?.(at, Object.fromEntries(names.map((n, h) => [n, v[h]!])));
          return v;
        });
        loss.catch(() => {}); // awaited later; a lost device must not make it an unhandled rejection meanwhile
        logged.push({ step, loss, y: snapshotY(model) });
      }
      await guard?.assertFinite(step);
      const done = backend.done();
      done.catch(() => {});
      inFlight.push(done);
      o.onStep?.(step, budget);
      if (o.validate && ((step + 1) % evalEvery === 0 || step === budget - 1)) {
        await Promise.all(inFlight.splice(0));
        const e: Evaluation = { step: step + 1, epoch: Math.floor(step / perEpoch) + 1, ne: await o.validate(model) };
        stopping.evaluations.push(e);
        if (!stopping.best || e.ne < stopping.best.ne) {
          stopping.best = e;
          stopping.sinceBest = 0;
          stopping.bestWeights = await encodeModule(model);
        } else stopping.sinceBest++;
        o.onEvaluate?.(e);
        const exhausted = stopping.sinceBest >= patience;
        if (o.checkpoint?.every === 'eval') {
          step++;
          await save();
          step--;
        }
        if (exhausted) { stopped = 'patience'; step++; break; }
      }
      if (typeof o.checkpoint?.every === 'number' && (step + 1) % o.checkpoint.every === 0) {
        step++;
        await save();
        step--;
      }
    }
    if (stopping.best && stopping.best.step !== step && stopping.bestWeights) {
      await Promise.all(inFlight.splice(0));
      restore(model.namedParameters(), decodeSafetensors(stopping.bestWeights, 'best weights').tensors, 'best weights');
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
  const history: TrainingHistory = {
    steps: [], loss: Object.fromEntries(names.map((n) => [n, []])), attention: [], validation: stopping.evaluations, best: stopping.best,
    stopped, stepsRun: step, seconds: 0, samplesPerSecond: 0,
  };
  for (const l of logged) {
    const v = await l.loss;
    history.steps.push(l.step);
    names.forEach((n, h) => history.loss[n]!.push(v[h]!));
    if (l.y) history.attention.push(attentionStats(await l.y.read()));
    l.y?.dispose();
  }
  history.seconds = (performance.now() - t0) / 1000;
  history.samplesPerSecond = ((step - firstStep) * batch) / history.seconds;
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
