/**
 * In-place parameter updates that run one fused kernel each: Adam / AdamW on a dense gradient or on the
 * rows of a row-sparse one (embedding tables), and row-wise Adagrad. They are not ops (nothing to
 * differentiate); the optimizers of the model library call them. State tensors are created by the caller
 * (zeros of the parameter's shape, or [rows] for row-wise Adagrad) and updated in place.
 */
import { fmt, sameShape } from './shape.js';
import { RowSparse, Tensor, TensorError } from './tensor.js';
import type { AdamHyper } from './reference.js';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW: decay the weights directly (p ← p·(1 − lr·wd)) instead of adding wd·p to the gradient. */
  decoupled?: boolean;
}

export interface AdamState {
  m: Tensor;
  v: Tensor;
  /** Steps taken so far; adamUpdate increments it. */
  step: number;
}

function positive(what: string, name: string, v: number, allowZero = false): number {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new TensorError(`${what}: ${name} must be a ` +
    `${allowZero ? 'non-negative' : 'positive'} finite number, got ${v}`);
  return v;
}

function sameTensor(what: string, name: string, t: Tensor, like: Tensor, shape = like.shape): void {
  t.assertUsable(`${what}: ${name}`);
  if (t.dtype !== 'f32' || !sameShape(t.shape, shape) || t.backend !== like.backend) {
    throw new TensorError(`${what}: ${name} ${t.describe()} must be f32 ${fmt(shape)} on the parameter's backend`);
  }
}

/** One Adam / AdamW step on `param` in place, from a dense gradient or a row-sparse one (lazy: only its rows). */
export function adamUpdate(param: Tensor, grad: Tensor | RowSparse, state: AdamState, opts: AdamOptions): void {
  const what = `adamUpdate of ${param.describe()}`;
  const beta1 = opts.beta1 ?? 0.9, beta2 = opts.beta2 ?? 0.999;
  if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) throw new TensorError(`${what}: betas must be in [0, 1), got ${beta1}, ${beta2}`);
  sameTensor(what, 'state.m', state.m, param);
  sameTensor(what, 'state.v', state.v, param);
  const hyper = (t: number): AdamHyper => ({
    lr: positive(what, 'lr', opts.lr), beta1, beta2, eps: positive(what, 'eps', opts.eps ?? 1e-8),
    wd: positive(what, 'weightDecay', opts.weightDecay ?? 0, true), decoupled: !!opts.decoupled,
    bc1: 1 - beta1 ** t, bc2: 1 - beta2 ** t,
  });
  const t = state.step + 1;
  const h = hyper(t);
  const outs = [param.storage, state.m.storage, state.v.storage];
  // A replay of a captured step counts the step and reads `opts` again (a schedule may change lr).
  if (grad instanceof RowSparse) {
    if (param.rank < 1 || !sameShape(grad.shape, param.shape)) throw new TensorError(`${what}: row-sparse gradient of shape ${fmt(grad.shape)} does not match`);
    const dim = param.size / Math.max(param.shape[0]!, 1), n = grad.values.size;
    param.backend.run('adam_rows', [grad.values.storage, grad.rows.storage], outs, { n, dim, h }, () => ({ n, dim, h: hyper(++state.step) }));
  } else {
    sameTensor(what, 'gradient', grad, param);
    const n = param.size;
    param.backend.run('adam', [grad.storage], outs, { n, h }, () => ({ n, h: hyper(++state.step) }));
  }
  state.step = t;
}

/** One SGD-with-momentum step on `param` in place; `velocity` has the parameter's shape (zeros at start). */
export function sgdUpdate(param: Tensor, grad: Tensor, velocity: Tensor, opts: { lr: number; momentum?: number; weightDecay?: number }): void {
  const what = `sgdUpdate of ${param.describe()}`;
  sameTensor(what, 'gradient', grad, param);
  sameTensor(what, 'velocity', velocity, param);
  const momentum = opts.momentum ?? 0;
  if (!(momentum >= 0 && momentum < 1)) throw new TensorError(`${what}: momentum must be in [0, 1), got ${momentum}`);
  const args = () => ({ n: param.size, lr: positive(what, 'lr', opts.lr), momentum, wd: positive(what, 'weightDecay', opts.weightDecay ?? 0, true) });
  param.backend.run('sgd', [grad.storage], [param.storage, velocity.storage], args(), args);
}

/** Row-wise Adagrad on the rows of a row-sparse gradient; `state` holds one accumulator per row ([rows]). */
export function adagradRowsUpdate(param: Tensor, grad: RowSparse, state: Tensor, opts: { lr: number; eps?: number }): void {
  const what = `adagradRowsUpdate of ${param.describe()}`;
  if (param.rank !== 2 || !sameShape(grad.shape, param.shape)) throw new TensorError(`${what}: needs a [rows, dim] parameter and its row-sparse gradient`);
  sameTensor(what, 'state', state, param, [param.shape[0]!]);
  const args = () => ({ unique: grad.rows.size, dim: param.shape[1]!, lr: positive(what, 'lr', opts.lr), eps: positive(what, 'eps', opts.eps ?? 1e-10) });
  param.backend.run('adagrad_rows', [grad.values.storage, grad.rows.storage], [param.storage, state.storage], args(), args);
}
