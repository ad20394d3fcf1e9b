/**
 * One training step, the one every loop runs (train(), the profiler, the soak, the benchmarks): forward,
 * the C2AL loss, backward, the optimizer update, gradients zeroed. With a FiniteGuard it also queues
 * the NaN/Inf checks of layer outputs, the loss, gradients and parameters (the caller reads them back
 * once per step). Synchronous: nothing waits for the device, so the step can be captured and replayed.
 */
import type { EmbeddingsFeed } from '../nn/embedding.js';
import type { DhenModel } from '../nn/dhen.js';
import { mulScalar } from '../ops.js';
import { keep, scope, type Tensor } from '../tensor.js';
import type { FiniteGuard } from './finite-guard.js';
import { c2alLoss } from './loss.js';
import { clipGradNorm, type Optimizer } from './optim.js';

export interface StepBatch {
  /** Ids [batch, fields] (host) or a feed whose buffers hold them (captured steps). */
  ids: ArrayLike<number> | EmbeddingsFeed;
  /** Labels of every head [batch, heads] (headLabels). */
  labels: Tensor;
  dense?: Tensor;
  /** Per-row loss weights [batch, heads] (omitted: 1). */
  weights?: Tensor;
}

export interface StepOptions {
  /** λ per head [heads], the primary's first (omitted: 1 each). */
  lambdas?: Tensor;
  guard?: FiniteGuard | null;
  /** Clip the global gradient norm to this value before the update. */
  clip?: number;
  /** Return each head's mean BCE over the batch [heads] (kept: the caller disposes it); else null. */
  losses?: boolean;
}

export function trainStep(model: DhenModel, opt: Optimizer, batch: StepBatch, o: StepOptions = {}): Tensor | null {
  const guard = o.guard ?? null;
  const rows = batch.labels.shape[0]!;
  const perHead = scope(() => {
    const { logits } = model.forward(batch.ids, batch.dense, guard ? (layer, out) => guard.watch(out, 'output', layer) : undefined);
    const { loss, headSums } = c2alLoss(model, logits, batch.labels, o.lambdas, batch.weights);
    guard?.watch(loss, 'loss');
    loss.backward();
    guard?.watchParameters(model.namedParameters(), { values: false });
    return o.losses ? keep(mulScalar(headSums.detach(), 1 / rows)) : null;
  });
  if (o.clip !== undefined) clipGradNorm(opt.params, o.clip).dispose();
  opt.step();
  guard?.watchParameters(model.namedParameters(), { grads: false });
  opt.zeroGrad();
  return perHead;
}
