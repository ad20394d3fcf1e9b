/**
 * Optimizers over a module's named parameters, each step one fused in-place kernel per parameter:
 * SGD (momentum), Adam / AdamW, and row-wise Adagrad for embedding tables (row-sparse gradients update only
 * the touched rows). Plus global-norm gradient clipping and a warmup + decay learning-rate schedule.
 * Optimizer state tensors are named `<param>.<slot>` for checkpoints.
 */
import { withPhase } from '../backend/profile-tags.js';
import { add, densifyRows, div, maximum, mul, sqrt, sum } from '../ops.js';
import { full } from '../create.js';
import { adagradRowsUpdate, adamUpdate, sgdUpdate, type AdamState } from '../updates.js';
import { keep, noGrad, scope, RowSparse, Tensor, TensorError } from '../tensor.js';
import { CheckpointError, decodeSafetensors, encodeSafetensors, restore, snapshot } from '../nn/checkpoint.js';

export type NamedParams = readonly (readonly [string, Tensor])[];

/** The gradient of a parameter as one tensor or one row-sparse part (several sparse parts are summed densely). */
export function gradientOf(p: Tensor): Tensor | RowSparse | null {
  if (p.rowGrads.length === 1 && !p.grad) return p.rowGrads[0]!;
  if (p.rowGrads.length === 0) return p.grad;
  return noGrad(() => {
    let g = p.grad ? p.grad : null;
    for (const part of p.rowGrads) {
      const dense = densifyRows(part);
      g = g ? add(g, dense) : dense;
    }
    return g;
  });
}

export abstract class Optimizer {
  /** Steps taken. */
  steps = 0;
  constructor(readonly params: NamedParams, public lr: number) {
    if (!(lr > 0)) throw new TensorError(`${this.constructor.name}: lr must be > 0, got ${lr}`);
  }

  /** Applies every parameter's gradient (dense or row-sparse); parameters without one are skipped. */
  step(): void {
    withPhase('optimizer', () => scope(() => {
      for (const [name, p] of this.params) {
        const g = gradientOf(p);
        if (g) this.update(name, p, g);
      }
    }));
    this.steps++;
    this.params[0]?.[1].backend.onReplay?.(() => { this.steps++; });
  }

  /** Options whose lr is read when used, so replays of a captured step follow a schedule that sets `lr`. */
  protected withLiveLr<T extends object>(opts: T): T & { lr: number } {
    const optimizer = this;
    return { ...opts, get lr() { return optimizer.lr; } };
  }

  zeroGrad(): void {
    for (const [, p] of this.params) p.zeroGrad();
  }

  protected abstract update(name: string, p: Tensor, g: Tensor | RowSparse): void;

  /** Creates a parameter's state (zeros) if it has none yet. */
  protected abstract ensureState(name: string, p: Tensor): void;

  /** Creates every parameter's state now (state is otherwise created at a parameter's first update). */
  initState(): void {
    for (const [name, p] of this.params) this.ensureState(name, p);
  }

  /** State tensors by name (`<param>.<slot>`), for checkpoints. */
  abstract state(): [string, Tensor][];

  /** Scalars to save beside the state tensors. */
  stateMetadata(): Record<string, string> {
    return { optimizer: this.constructor.name, steps: String(this.steps) };
  }

  /** Restores what stateMetadata() saved (restoreOptimizerState validates it first). */
  restoreMetadata(meta: Record<string, string>): void {
    this.steps = Number(meta.steps ?? 0);
  }

  dispose(): void {
    for (const [, t] of this.state()) t.dispose();
  }
}

const zerosLike = (p: Tensor, shape = p.shape): Tensor => keep(full(shape, 0, { backend: p.backend }));

export class SGD extends Optimizer {
  private velocity = new Map<string, Tensor>();
  constructor(params: NamedParams, opts: { lr: number; momentum?: number; weightDecay?: number }) {
    super(params, opts.lr);
    this.momentum = opts.momentum ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
  }
  readonly momentum: number;
  readonly weightDecay: number;

  protected ensureState(name: string, p: Tensor): void {
    if (!this.velocity.has(name)) this.velocity.set(name, zerosLike(p));
  }

  protected update(name: string, p: Tensor, g: Tensor | RowSparse): void {
    const dense = g instanceof RowSparse ? densifyRows(g) : g;
    this.ensureState(name, p);
    sgdUpdate(p, dense, this.velocity.get(name)!, this.withLiveLr({ momentum: this.momentum, weightDecay: this.weightDecay }));
  }

  state(): [string, Tensor][] {
    return [...this.velocity].map(([n, t]) => [`${n}.velocity`, t]);
  }
}

/** Weight decay for one parameter: coupled (an L2 term in its gradient) or decoupled (AdamW). */
export interface DecayOptions { weightDecay?: number; decoupled?: boolean }

export class Adam extends Optimizer {
  private moments = new Map<string, AdamState>();
  /**
   * `perParameter` overrides the decay of single parameters by name (AdamW on dense weights, an L2 penalty
   * on embedding rows, none on biases); the other options apply to every parameter.
   */
  constructor(params: NamedParams, readonly opts: { lr: number; beta1?: number; beta2?: number; eps?: number } & DecayOptions,
    readonly perParameter?: (name: string, p: Tensor) => DecayOptions | undefined) {
    super(params, opts.lr);
  }

  protected ensureState(name: string, p: Tensor): void {
    if (!this.moments.has(name)) this.moments.set(name, { m: zerosLike(p), v: zerosLike(p), step: 0 });
  }

  protected update(name: string, p: Tensor, g: Tensor | RowSparse): void {
    this.ensureState(name, p);
    adamUpdate(p, g, this.moments.get(name)!, this.withLiveLr({ ...this.opts, ...this.perParameter?.(name, p) }));
  }

  override stateMetadata(): Record<string, string> {
    return { ...super.stateMetadata(), stepCounts: JSON.stringify(Object.fromEntries([...this.moments].map(([n, s]) => [n, s.step]))) };
  }

  override restoreMetadata(meta: Record<string, string>): void {
    super.restoreMetadata(meta);
    const counts = JSON.parse(meta.stepCounts ?? '{}') as Record<string, number>;
    for (const [n, s] of this.moments) s.step = counts[n] ?? 0;
  }

  state(): [string, Tensor][] {
    return [...this.moments].flatMap(([n, s]) => [[`${n}.m`, s.m], [`${n}.v`, s.v]] as [string, Tensor][]);
  }

}

/** AdamW: Adam with decoupled weight decay (default 0.01). */
export class AdamW extends Adam {
  constructor(params: NamedParams, opts: { lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number }) {
    super(params, { ...opts, weightDecay: opts.weightDecay ?? 0.01, decoupled: true });
  }
}

/** Row-wise Adagrad (one accumulator per row) for [rows, dim] parameters such as embedding tables. */
export class RowWiseAdagrad extends Optimizer {
  private accumulators = new Map<string, Tensor>();
  constructor(params: NamedParams, readonly opts: { lr: number; eps?: number; initialAccumulator?: number }) {
    super(params, opts.lr);
    for (const [name, p] of params) if (p.rank !== 2) throw new TensorError(`RowWiseAdagrad: parameter '${name}' ${p.describe()} is not [rows, dim]`);
  }

  protected ensureState(name: string, p: Tensor): void {
    if (!this.accumulators.has(name)) this.accumulators.set(name, keep(full([p.shape[0]!], this.opts.initialAccumulator ?? 0, { backend: p.backend })));
  }

  protected update(name: string, p: Tensor, g: Tensor | RowSparse): void {
    this.ensureState(name, p);
    const s = this.accumulators.get(name)!;
    // A dense gradient updates every row.
    const rows = g instanceof RowSparse ? g
      : new RowSparse(Tensor.fromData(p.backend, Uint32Array.from({ length: p.shape[0]! }, (_, i) => i), [p.shape[0]!], 'u32'), g, p.shape);
    adagradRowsUpdate(p, rows, s, this.withLiveLr({ eps: this.opts.eps }));
  }

  state(): [string, Tensor][] {
    return [...this.accumulators].map(([n, t]) => [`${n}.accumulator`, t]);
  }
}

/**
 * Scales every gradient so the global L2 norm is at most maxNorm (PyTorch's clip_grad_norm_), on the
 * device (no readback). Returns the norm before clipping as a scalar tensor (the caller disposes it).
 */
export function clipGradNorm(params: NamedParams, maxNorm: number): Tensor {
  if (!(maxNorm > 0)) throw new TensorError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const grads = params.map(([name, p]) => {
    if (p.rowGrads.length > 1) throw new TensorError(`clipGradNorm: '${name}' holds ${p.rowGrads.length} row-sparse parts; clip after each backward`);
    return { p, g: p.grad ?? p.rowGrads[0]?.values ?? null };
  }).filter((x) => x.g);
  if (grads.length === 0) return keep(full([], 0, { backend: params[0]?.[1].backend }));
  return noGrad(() => {
    const norm = scope(() => sqrt(grads.map(({ g }) => sum(mul(g!, g!))).reduce((a, b) => add(a, b))));
    scope(() => {
      // scale = maxNorm / max(norm, maxNorm): 1 when already inside the ball.
      const limit = full([], maxNorm, { backend: norm.backend });
      const scale = div(limit, maximum(norm, limit));
      for (const { p } of grads) {
        if (p.grad) p.setGrad(mul(p.grad, scale));
        else {
          const part = p.rowGrads[0]!;
          const values = keep(mul(part.values, scale));
          part.values.dispose();
          p.rowGrads[0] = new RowSparse(part.rows, values, part.shape);
        }
      }
    });
    return keep(norm);
  });
}

/** The optimizer's state tensors and step counts as safetensors bytes (optimizer.safetensors). */
export async function encodeOptimizerState(opt: Optimizer): Promise<Uint8Array> {
  return encodeSafetensors(await snapshot(opt.state()), opt.stateMetadata());
}

/** Restores state saved by encodeOptimizerState into `opt` (validated first; unchanged on any mismatch). */
export function restoreOptimizerState(opt: Optimizer, bytes: Uint8Array, what = 'optimizer state'): void {
  const { tensors, metadata } = decodeSafetensors(bytes, what);
  opt.initState();
  if (metadata.optimizer !== opt.constructor.name) throw new CheckpointError(`${what}: saved by ${metadata.optimizer}, not ${opt.constructor.name}`);
  restore(opt.state(), tensors, what);
  opt.restoreMetadata(metadata);
}

export interface Schedule { warmupSteps?: number; totalSteps?: number; decay?: 'none' | 'linear' | 'cosine'; minFactor?: number }

/** Learning rate at `step` (0-based): linear warmup to `base`, then linear or cosine decay to base·minFactor. */
export function learningRate(base: number, step: number, s: Schedule = {}): number {
  const warm = s.warmupSteps ?? 0;
  if (step < warm) return (base * (step + 1)) / warm;
  if (!s.decay || s.decay === 'none' || !s.totalSteps || s.totalSteps <= warm) return base;
  const t = Math.min(1, (step - warm) / (s.totalSteps - warm));
  const floor = s.minFactor ?? 0;
  const f = s.decay === 'linear' ? 1 - t : 0.5 * (1 + Math.cos(Math.PI * t));
  return base * (floor + (1 - floor) * f);
}
