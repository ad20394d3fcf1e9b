/**
 * The training objective, written once: C2AL's
 *   L = BCE(z_p, y) + Σ_h λ_h·BCE(z_h, y·1[x∈cohort_h]),
 * each term averaged over the whole batch (rows outside a cohort carry label 0, the paper's "partial
 * conflict"), every head in one fused bceWithLogits dispatch. A model without auxiliary heads gives
 * the plain BCE of its primary head. The heads are the model's own (`primary`, then config.auxHeads), so
 * no caller names them.
 */
import { bceWithLogits, concat, mul, mulScalar, reshape, sum } from '../ops.js';
import type { DhenModel } from '../nn/dhen.js';
import type { Tensor } from '../tensor.js';

/** The heads a model trains, in loss order: 'primary', then its auxiliary heads. */
export function headNames(model: DhenModel): string[] {
  return ['primary', ...(model.config.auxHeads ?? [])];
}

/** An auxiliary head: its λ, and the cohort whose clicks it learns (null: every row's label, the duplicate control). */
export interface AuxHead { cohort: number | null; lambda: number }

/** The reweight control: the primary loss weighs rows of `cohorts` by `factor` (1 + λ), no extra heads. */
export interface Reweight { cohorts: number[]; factor: number }

/**
 * Labels of every head for `rows` rows, [rows, 1 + aux.length] row-major: column 0 the label, column 1 + h
 * the label where the row is in auxiliary cohort h, else 0 (a head without a cohort: the label).
 */
export function headLabels(labels: ArrayLike<number>, cohort: ArrayLike<number>, aux: readonly AuxHead[], rows = labels.length): Float32Array {
  const heads = 1 + aux.length, y = new Float32Array(rows * heads);
  for (let j = 0; j < rows; j++) {
    y[j * heads] = labels[j]!;
    aux.forEach((a, h) => { y[j * heads + 1 + h] = a.cohort === null || cohort[j] === a.cohort ? labels[j]! : 0; });
  }
  return y;
}

/** Per-row loss weights [rows, heads]: `factor` on the primary column of the reweighted cohorts' rows, 1 elsewhere. */
export function rowWeights(cohort: ArrayLike<number>, heads: number, r: Reweight): Float32Array {
  const w = new Float32Array(cohort.length * heads).fill(1);
  for (let j = 0; j < cohort.length; j++) if (r.cohorts.includes(cohort[j]!)) w[j * heads] = r.factor;
  return w;
}

export interface Loss {
  /** The scalar objective L. */
  loss: Tensor;
  /** Each head's BCE summed over the batch [heads], before λ: divide by the batch for the mean. */
  headSums: Tensor;
}

/**
 * L from the model's logits: `labels` [batch, heads] as headLabels gives them, `lambdas` [heads] (the
 * primary's 1 first; omitted: every head weighs 1), `rowWeights` [batch, heads] (omitted: 1).
 */
export function c2alLoss(model: DhenModel, logits: Record<string, Tensor>, labels: Tensor, lambdas?: Tensor, rowWeights?: Tensor): Loss {
  const heads = headNames(model), batch = labels.shape[0]!;
  const z = heads.length === 1 ? reshape(logits.primary!, [batch, 1]) : concat(heads.map((h) => reshape(logits[h]!, [batch, 1])), 1);
  const headSums = bceWithLogits(z, labels, rowWeights);
  return { loss: mulScalar(sum(lambdas ? mul(headSums, lambdas) : headSums), 1 / batch), headSums };
}
