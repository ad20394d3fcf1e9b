/**
 * Embedding ids fed through fixed device buffers. A captured step cannot upload a batch's lookup plan,
 * and its sizes must not change from batch to batch; a LookupFeed keeps the plan of a [batch, fields]
 * lookup in tensors of fixed size and rewrites them for each batch (set). The sorted plan of the
 * deterministic backward is padded to one segment per entry: padding segments are empty (zero
 * gradient rows) and point one row past the table, which every row-sparse kernel skips. So a fed
 * lookup gives the same forward values, gradient rows and optimizer updates as a host lookup.
 * prepare(ids) does the host half (validation, plan, padding) without touching the device, so a loop can
 * build batch t+1's plan while batch t runs and set() it afterwards.
 */
import type { Backend } from './backend/index.js';
import { lookupPlan, sortedPlan, type BagPlan, type EmbeddingField } from './embedding-plan.js';
import { keep, Tensor, TensorError } from './tensor.js';

/** `values`, then `fill` up to `length`. */
function padded(values: ArrayLike<number>, length: number, fill: number): Uint32Array {
  const out = new Uint32Array(length).fill(fill);
  out.set(values);
  return out;
}

/** A batch's lookup plan built for one feed, ready to write (LookupFeed.prepare). */
export interface LookupBatch {
  readonly feed: LookupFeed;
  readonly plan: BagPlan;
  /** The feed's buffers' contents: rows, then the sorted plan padded to the feed's fixed sizes. */
  readonly seg: Uint32Array;
  readonly entryBag: Uint32Array;
  readonly uniqueRows: Uint32Array;
}

export class LookupFeed {
  /** Lookups per batch (batch · fields): the padded number of gradient rows. */
  readonly entries: number;
  /** Stacked-table row of every entry, the CSR offsets (one entry per bag), the sorted plan. */
  readonly rows: Tensor;
  readonly offsets: Tensor;
  readonly seg: Tensor;
  readonly entryBag: Tensor;
  /** Touched rows ascending, then `tableRows` (past the table) as padding. */
  readonly uniqueRows: Tensor;
  /** The host plan of the last batch set (null before the first). */
  plan: BagPlan | null = null;
  private disposed = false;

  constructor(readonly backend: Backend, readonly fields: readonly EmbeddingField[], readonly tableRows: number, readonly batch: number) {
    if (!Number.isInteger(batch) || batch < 1) throw new TensorError(`LookupFeed: batch must be a positive integer, got ${batch}`);
    this.entries = batch * fields.length;
    const n = this.entries;
    const u32 = (data: Uint32Array): Tensor => keep(Tensor.fromData(backend, data, [data.length], 'u32'));
    this.rows = u32(new Uint32Array(n));
    this.offsets = u32(Uint32Array.from({ length: n + 1 }, (_, i) => i));
    this.seg = u32(padded([], n + 1, n));
    this.entryBag = u32(new Uint32Array(n));
    this.uniqueRows = u32(padded([], n, tableRows));
  }

  /** Validates a batch of ids [batch, fields] (the errors of embeddingLookup) and builds its padded plan; the device is not touched. */
  prepare(ids: ArrayLike<number>): LookupBatch {
    if (this.disposed) throw new TensorError('LookupFeed.prepare: the feed was disposed');
    if (ids.length !== this.entries) throw new TensorError(`LookupFeed: ${ids.length} ids for a feed of batch ${this.batch} × ` +
      `${this.fields.length} fields (${this.entries})`);
    const plan = lookupPlan(ids, this.fields, this.tableRows);
    const { uniqueRows, seg, entryBag } = sortedPlan(plan);
    const n = this.entries;
    return { feed: this, plan, seg: padded(seg, n + 1, n), entryBag, uniqueRows: padded(uniqueRows, n, this.tableRows) };
  }

  /** Writes a batch into the feed's buffers: ids (validated and planned now) or a batch prepare() built. */
  set(batch: ArrayLike<number> | LookupBatch): void {
    if (this.disposed) throw new TensorError('LookupFeed.set: the feed was disposed');
    const b = isBatch(batch) ? batch : this.prepare(batch);
    if (b.feed !== this) throw new TensorError('LookupFeed.set: the batch was prepared for another feed');
    this.backend.write(this.rows.storage, b.plan.rows);
    this.backend.write(this.seg.storage, b.seg);
    this.backend.write(this.entryBag.storage, b.entryBag);
    this.backend.write(this.uniqueRows.storage, b.uniqueRows);
    this.plan = b.plan;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [this.rows, this.offsets, this.seg, this.entryBag, this.uniqueRows]) t.dispose();
  }
}

function isBatch(x: ArrayLike<number> | LookupBatch): x is LookupBatch {
  return (x as LookupBatch).feed instanceof LookupFeed;
}
