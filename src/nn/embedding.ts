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
import { LookupFeed, type LookupBatch } from '../embedding-feed.js';
import { initTensor } from './init.js';
import { Module, beginBuild, endBuild } from './module.js';
import type { LayerOptions } from './layers.js';

/** Splits fields into contiguous groups of at most maxRows rows (a field larger than that is an error). */
export function groupFields(fields: readonly EmbeddingField[], maxRows: number, limit = ''): EmbeddingField[][] {
  const groups: EmbeddingField[][] = [];
  let rows = 0;
  for (const f of fields) {
    if (f.vocab > maxRows) throw new TensorError(`Embeddings: table '${f.name}' (${f.vocab} rows) exceeds the ${maxRows} rows one storage binding ` +
      `holds at this dim${limit}`);
    if (!groups.length || rows + f.vocab > maxRows) {
      groups.push([]);
      rows = 0;
    }
    groups[groups.length - 1]!.push(f);
    rows += f.vocab;
  }
  return groups;
}

/** The columns first .. first + width of [batch, fields] row-major ids, as [batch, width]. */
function idColumns(ids: ArrayLike<number>, fields: number, first: number, width: number): Uint32Array {
  const batch = ids.length / fields;
  const cols = new Uint32Array(batch * width);
  for (let r = 0; r < batch; r++) for (let j = 0; j < width; j++) cols[r * width + j] = ids[r * fields + first + j]!;
  return cols;
}

export class Embeddings extends Module {
  readonly tables: Tensor[];
  readonly groups: EmbeddingField[][];

  constructor(readonly fields: readonly EmbeddingField[], readonly dim: number,
    opts: LayerOptions & { std?: number; sparse?: boolean; maxBindingBytes?: number } = {}) {
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

  /**
   * Fixed device buffers for batches of `batch` rows (set(ids) per batch, forward(feed)): what a
   * captured training step reads its ids from. The caller disposes the feed.
   */
  feed(batch: number): EmbeddingsFeed {
    return new EmbeddingsFeed(this, batch);
  }

  /** ids: [batch, fields] row-major host array, or a feed holding a batch. Returns X [batch, fields, dim]. */
  forward(ids: ArrayLike<number> | EmbeddingsFeed): Tensor {
    if (ids instanceof EmbeddingsFeed) {
      if (ids.embeddings !== this) throw new TensorError('Embeddings: the feed belongs to another Embeddings module');
      const parts = ids.groups.map((feed, i) => embeddingLookup(this.tables[i]!, feed, this.groups[i]!));
      return parts.length === 1 ? parts[0]! : concat(parts, 1);
    }
    const n = this.fields.length;
    if (!(Array.isArray(ids) || (ArrayBuffer.isView(ids) && !(ids instanceof DataView)))) throw new TensorError(`Embeddings: ids must be an array or ` +
      `typed array of [batch, ${n}] ids, got ${ids === null ? 'null' : typeof ids}`);
    if (ids.length % n !== 0) throw new TensorError(`Embeddings: ${ids.length} ids do not form rows of ${n} fields`);
    if (this.groups.length === 1) return embeddingLookup(this.tables[0]!, ids, this.fields);
    let first = 0;
    const parts = this.groups.map((g, i) => {
      const cols = idColumns(ids, n, first, g.length);
      first += g.length;
      return embeddingLookup(this.tables[i]!, cols, g);
    });
    return concat(parts, 1);
  }
}

/** A batch of ids planned for every group of one EmbeddingsFeed (EmbeddingsFeed.prepare). */
export interface EmbeddingsBatch {
  readonly feed: EmbeddingsFeed;
  readonly groups: readonly LookupBatch[];
}

/** One LookupFeed per table group of an Embeddings module; set(ids) takes [batch, fields] ids as forward does. */
export class EmbeddingsFeed {
  readonly groups: LookupFeed[];
  constructor(readonly embeddings: Embeddings, readonly batch: number) {
    this.groups = [];
    try {
      for (const [i, g] of embeddings.groups.entries()) this.groups.push(new LookupFeed(embeddings.backend, g, embeddings.tables[i]!.shape[0]!, batch));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Validates ids [batch, fields] and builds every group's plan on the host (LookupFeed.prepare), for set() later. */
  prepare(ids: ArrayLike<number>): EmbeddingsBatch {
    const n = this.embeddings.fields.length;
    if (ids.length !== this.batch * n) throw new TensorError(`EmbeddingsFeed: ${ids.length} ids for a feed of batch ${this.batch} × ${n} fields`);
    if (this.groups.length === 1) return { feed: this, groups: [this.groups[0]!.prepare(ids)] };
    let first = 0;
    const groups = this.groups.map((feed) => {
      const batch = feed.prepare(idColumns(ids, n, first, feed.fields.length));
      first += feed.fields.length;
      return batch;
    });
    return { feed: this, groups };
  }

  /** Writes a batch into the feeds' buffers: ids, or a batch prepare() built (while the previous step ran). */
  set(batch: ArrayLike<number> | EmbeddingsBatch): void {
    const b = (batch as EmbeddingsBatch).feed instanceof EmbeddingsFeed ? (batch as EmbeddingsBatch) : this.prepare(batch as ArrayLike<number>);
    if (b.feed !== this) throw new TensorError('EmbeddingsFeed.set: the batch was prepared for another feed');
    b.groups.forEach((g, i) => this.groups[i]!.set(g));
  }

  dispose(): void {
    for (const feed of this.groups) feed.dispose();
  }
}

/** Multi-hot bags from one table: bag b pools ids[offsets[b] .. offsets[b+1]] by sum or mean → [bags, dim]. */
export class EmbeddingBag extends Module {
  readonly table: Tensor;

  constructor(readonly name: string, readonly vocab: number, readonly dim: number,
    opts: LayerOptions & { mode?: 'sum' | 'mean'; std?: number; sparse?: boolean } = {}) {
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
