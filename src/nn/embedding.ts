/**
 * Embeddings: one table per categorical field, stacked in one [Σ vocab, dim] parameter `tables` (field 0's
 * rows first), looked up for a batch of ids [batch, fields] into X [batch, fields, dim]. The table's
 * gradient is row-sparse (sparseGrad), so row-wise Adagrad or lazy Adam update only the touched rows.
 */
import { embeddingLookup } from '../ops.js';
import type { EmbeddingField } from '../embedding-plan.js';
import type { Tensor } from '../tensor.js';
import { initTensor } from './init.js';
import { Module } from './module.js';
import type { LayerOptions } from './layers.js';

export class Embeddings extends Module {
  readonly tables: Tensor;

  constructor(readonly fields: readonly EmbeddingField[], readonly dim: number, opts: LayerOptions & { std?: number; sparse?: boolean } = {}) {
    super(opts.backend);
    const rows = fields.reduce((acc, f) => acc + f.vocab, 0);
    this.tables = this.param('tables', initTensor([rows, dim], { kind: 'normal', std: opts.std ?? 0.05 }, opts.seed ?? 0, this.backend));
    this.tables.sparseGrad = opts.sparse ?? true;
  }

  /** ids: [batch, fields] row-major host array. Returns X [batch, fields, dim]. */
  forward(ids: ArrayLike<number>): Tensor {
    return embeddingLookup(this.tables, ids, this.fields);
  }
}
