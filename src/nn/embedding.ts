/**
 * Embeddings: one table per categorical field, stacked into as few [rows, dim] parameters as the adapter's
 * storage-binding limit allows (`tables.0`, `tables.1`, …; fields in order, a group's fields contiguous),
 * looked up for a batch of ids [batch, fields] into X [batch, fields, dim] with one gather per group.
 * Table gradients are row-sparse (sparseGrad), so row-wise Adagrad or lazy Adam touch only the rows a
 * batch used. EmbeddingBag pools multi-hot bags (sum or mean) from one table.
 */
import { concat, embeddingBag, embeddingLookup } from '../ops.js';
import type { EmbeddingField } from '../embedding-plan.js';
import { TensorError, type Tensor } from '../tensor.js';
import { initTensor } from './init.js';
import { Module, beginBuild, endBuild } from './module.js';
import type { LayerOptions } from './layers.js';

/** Splits fields into contiguous groups of at most maxRows rows (a field larger than that is an error). */
export function groupFields(fields: readonly EmbeddingField[], maxRows: number, limit = ''): EmbeddingField[][] {
  const groups: EmbeddingField[][] = [];
  let rows = 0;
  for (const f of fields) {
    if (f.vocab > maxRows) throw new TensorError(`Embeddings: table '${f.name}' (${f.vocab} rows) exceeds the ${maxRows} rows one storage binding holds at this dim${limit}`);
    if (!groups.length || rows + f.vocab > maxRows) {
      groups.push([]);
      rows = 0;
    }
    groups[groups.length - 1]!.push(f);
    rows += f.vocab;
  }
  return groups;
}

export class Embeddings extends Module {
  readonly tables: Tensor[];
  readonly groups: EmbeddingField[][];

  constructor(readonly fields: readonly EmbeddingField[], readonly dim: number, opts: LayerOptions & { std?: number; sparse?: boolean; maxBindingBytes?: number } = {}) {
    super(opts.backend);
    const mark = beginBuild();
    let built = false;
    try {
      if (!Number.isInteger(dim) || dim < 1) throw new TensorError(`Embeddings: dim must be a positive integer, got ${dim}`);
      const limit = opts.maxBindingBytes ?? this.backend.maxStorageBytes;
      const limitName = opts.maxBindingBytes ? 'maxBindingBytes' : this.backend.limitName;
      this.groups = groupFields(fields, Math.floor(limit / (4 * dim)), ` (${limitName} ${limit} bytes / ${4 * dim} bytes per row)`);
      this.tables = this.groups.map((g, i) => {
        const rows = g.reduce((acc, f) => acc + f.vocab, 0);
        const t = this.param(`tables.${i}`, initTensor([rows, dim], { kind: 'normal', std: opts.std ?? 0.05 }, (opts.seed ?? 0) * 31 + i, this.backend));
        t.sparseGrad = opts.sparse ?? true;
        return t;
      });
      built = true;
    } finally {
      endBuild(mark, built);
    }
  }

  /** ids: [batch, fields] row-major host array. Returns X [batch, fields, dim]. */
  forward(ids: ArrayLike<number>): Tensor {
    const n = this.fields.length;
    if (!(Array.isArray(ids) || (ArrayBuffer.isView(ids) && !(ids instanceof DataView)))) throw new TensorError(`Embeddings: ids must be an array or typed array of [batch, ${n}] ids, got ${ids === null ? 'null' : typeof ids}`);
    if (ids.length % n !== 0) throw new TensorError(`Embeddings: ${ids.length} ids do not form rows of ${n} fields`);
    if (this.groups.length === 1) return embeddingLookup(this.tables[0]!, ids, this.fields);
    const batch = ids.length / n;
    let first = 0;
    const parts = this.groups.map((g, i) => {
      const cols = new Uint32Array(batch * g.length);
      for (let r = 0; r < batch; r++) for (let j = 0; j < g.length; j++) cols[r * g.length + j] = ids[r * n + first + j]!;
      first += g.length;
      return embeddingLookup(this.tables[i]!, cols, g);
    });
    return concat(parts, 1);
  }
}

/** Multi-hot bags from one table: bag b pools ids[offsets[b] .. offsets[b+1]] by sum or mean → [bags, dim]. */
export class EmbeddingBag extends Module {
  readonly table: Tensor;

  constructor(readonly name: string, readonly vocab: number, readonly dim: number, opts: LayerOptions & { mode?: 'sum' | 'mean'; std?: number; sparse?: boolean } = {}) {
    super(opts.backend);
    this.mode = opts.mode ?? 'mean';
    this.table = this.param('table', initTensor([vocab, dim], { kind: 'normal', std: opts.std ?? 0.05 }, opts.seed ?? 0, this.backend));
    this.table.sparseGrad = opts.sparse ?? true;
  }

  readonly mode: 'sum' | 'mean';

  forward(ids: ArrayLike<number>, offsets: ArrayLike<number>): Tensor {
    return embeddingBag(this.table, ids, offsets, { mode: this.mode, name: this.name });
  }
}
