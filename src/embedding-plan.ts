/**
 * Host-side plans for embedding lookups. Ids come from the host (the data loader), so they are validated
 * here, before any dispatch, with errors that name the table, the id and the row; then flattened to CSR
 * bags (a single-hot lookup is a bag of one) over one stacked parameter of every table's rows. For the
 * backward, the entries are sorted once by (table row, position): the segments of that order give each
 * touched row's contributions in a fixed order, which keeps the gradient bit-identical across runs.
 */
import { TensorError } from './tensor.js';

export interface EmbeddingField {
  /** Table name, used in error messages. */
  name: string;
  /** Rows in this field's table. */
  vocab: number;
}

export interface BagPlan {
  /** Stacked-table row of every entry. */
  rows: Uint32Array;
  /** CSR: bag i holds entries offsets[i] .. offsets[i+1]. */
  offsets: Uint32Array;
  bags: number;
  mean: boolean;
  /** Filled by sortedPlan() on first backward. */
  sorted?: SortedPlan;
}

export interface SortedPlan {
  /** The distinct table rows touched by the batch, ascending. */
  uniqueRows: Uint32Array;
  /** Segment u of the sorted entries is seg[u] .. seg[u+1]. */
  seg: Uint32Array;
  /** Bag of each sorted entry. */
  entryBag: Uint32Array;
}

/** Refuses an id outside [0, vocab); the message (naming the field where one is given) is built only then. */
function checkId(what: string, table: string, id: number, row: number, vocab: number, field?: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocab) {
    const where = field === undefined ? '' : ` (field ${field})`;
    throw new TensorError(`${what}: table '${table}'${where}: id ${id} at row ${row} is outside its vocabulary of ${vocab} rows`);
  }
}

/** ids: [batch, fields] row-major, one id per (row, field); fields stack in order in the table. */
export function lookupPlan(ids: ArrayLike<number>, fields: readonly EmbeddingField[], tableRows: number): BagPlan {
  const f = fields.length;
  if (f === 0) throw new TensorError('embeddingLookup: needs at least one field');
  const total = fields.reduce((acc, x) => acc + x.vocab, 0);
  if (total !== tableRows) {
    throw new TensorError(`embeddingLookup: the table has ${tableRows} rows but the fields' vocabularies add up to ${total} ` +
      `(${fields.map((x) => `${x.name} ${x.vocab}`).join(', ')})`);
  }
  if (ids.length % f !== 0) throw new TensorError(`embeddingLookup: ${ids.length} ids do not form rows of ${f} fields`);
  const base = new Uint32Array(f);
  for (let i = 1; i < f; i++) base[i] = base[i - 1]! + fields[i - 1]!.vocab;
  const rows = new Uint32Array(ids.length);
  for (let i = 0, field = 0; i < ids.length; i++, field = field + 1 === f ? 0 : field + 1) {
    checkId('embeddingLookup', fields[field]!.name, ids[i]!, Math.floor(i / f), fields[field]!.vocab, field);
    rows[i] = base[field]! + ids[i]!;
  }
  const offsets = new Uint32Array(ids.length + 1);
  for (let i = 0; i <= ids.length; i++) offsets[i] = i;
  return { rows, offsets, bags: ids.length, mean: false };
}

/** Multi-hot bags over one table: bag b pools ids[offsets[b] .. offsets[b+1]]; the table starts at rowOffset. */
export function bagPlan(ids: ArrayLike<number>, offsets: ArrayLike<number>, table: { name: string; vocab: number; rowOffset: number }, mean: boolean): BagPlan {
  if (offsets.length < 1 || offsets[0] !== 0 || offsets[offsets.length - 1] !== ids.length) {
    throw new TensorError(`embeddingBag: offsets must start at 0 and end at ${ids.length} (the number of ids), got ` +
      `[${Array.from(offsets).slice(0, 4).join(', ')}${offsets.length > 4 ? ', …' : ''}]`);
  }
  const offs = Uint32Array.from(offsets);
  for (let b = 0; b + 1 < offs.length; b++) {
    if (offs[b + 1]! < offs[b]!) throw new TensorError(`embeddingBag: offsets decrease at bag ${b} (${offs[b]} then ${offs[b + 1]})`);
  }
  const rows = new Uint32Array(ids.length);
  let bag = 0;
  for (let i = 0; i < ids.length; i++) {
    while (offs[bag + 1]! <= i) bag++;
    checkId('embeddingBag', table.name, ids[i]!, bag, table.vocab);
    rows[i] = table.rowOffset + ids[i]!;
  }
  return { rows, offsets: offs, bags: offs.length - 1, mean };
}

/**
 * Sorts entries by (row, position) — a stable order that fixes the summation order of the backward. Built
 * on the host for every batch, in linear time by stable counting sorts from position order: one pass with a
 * bucket per row where the table is not much larger than the batch (the experiment's 2,533 rows by 7,168
 * entries), else least-significant-digit radix passes of at most 11 bits (the reference model's 2.6·10⁶ rows
 * by 53,248 entries: two passes, 2,048 counts each, which stay in L1). Every way gives the same order.
 */
export function sortedPlan(plan: BagPlan): SortedPlan {
  if (plan.sorted) return plan.sorted;
  const n = plan.rows.length;
  let maxRow = 0;
  for (let e = 0; e < n; e++) maxRow = Math.max(maxRow, plan.rows[e]!);
  const order = rowOrder(plan.rows, maxRow);
  // A lookup's bags hold one entry each (entry e is bag e): the order is already every entry's bag.
  let oneEntryBags = plan.bags === n;
  for (let b = 0; oneEntryBags && b <= n; b++) oneEntryBags = plan.offsets[b] === b;
  let entryBag = order;
  if (!oneEntryBags) {
    const entryBagOf = new Uint32Array(n);
    for (let b = 0; b < plan.bags; b++) for (let e = plan.offsets[b]!; e < plan.offsets[b + 1]!; e++) entryBagOf[e] = b;
    entryBag = order.map((e) => entryBagOf[e]!);
  }
  const unique = new Uint32Array(n);
  const seg = new Uint32Array(n + 1);
  let touched = 0;
  for (let i = 0; i < n; i++) {
    const row = plan.rows[order[i]!]!;
    if (touched === 0 || unique[touched - 1] !== row) {
      unique[touched] = row;
      seg[touched++] = i;
    }
  }
  seg[touched] = n;
  plan.sorted = { uniqueRows: unique.slice(0, touched), seg: seg.slice(0, touched + 1), entryBag };
  return plan.sorted;
}

/** The count array may hold this many rows per entry (beyond a fixed 1,024) before one bucket per row is too many to scan. */
const ROWS_PER_ENTRY_IN_ONE_ROW_BUCKETS = 8;
/** The widest radix digit: 2^11 counts (8 KiB) stay in L1 while a pass scatters. */
const RADIX_BITS = 11;

/** Entry positions by (row, position). */
function rowOrder(rows: Uint32Array, maxRow: number): Uint32Array {
  const n = rows.length;
  if (maxRow < ROWS_PER_ENTRY_IN_ONE_ROW_BUCKETS * n + 1024) return countingOrder(rows, maxRow);
  const bits = 32 - Math.clz32(maxRow), passes = Math.ceil(bits / RADIX_BITS), width = Math.ceil(bits / passes);
  const radix = 1 << width, mask = radix - 1;
  // Every pass's histogram in one read of the rows.
  const counts = new Uint32Array(passes * radix);
  for (let e = 0; e < n; e++) {
    const row = rows[e]!;
    for (let p = 0; p < passes; p++) counts[p * radix + ((row >>> (p * width)) & mask)]!++;
  }
  // Keys travel with the positions, so a pass reads them in order instead of gathering rows[order[i]].
  let order = new Uint32Array(n), keys = rows.slice(), nextOrder = new Uint32Array(n), nextKeys = new Uint32Array(n);
  for (let e = 0; e < n; e++) order[e] = e;
  for (let p = 0; p < passes; p++) {
    const next = counts.subarray(p * radix, (p + 1) * radix), shift = p * width;
    for (let d = 0, sum = 0; d < radix; d++) { const c = next[d]!; next[d] = sum; sum += c; }
    // Stable: entries keep their current order within a digit, so earlier digits (and positions) stay sorted.
    for (let i = 0; i < n; i++) {
      const key = keys[i]!, slot = next[(key >>> shift) & mask]!++;
      nextOrder[slot] = order[i]!;
      nextKeys[slot] = key;
    }
    [order, nextOrder] = [nextOrder, order];
    [keys, nextKeys] = [nextKeys, keys];
  }
  return order;
}

/** One stable counting pass with a bucket per row: positions ascend within each row. */
function countingOrder(rows: Uint32Array, maxRow: number): Uint32Array {
  const n = rows.length;
  const next = new Uint32Array(maxRow + 1);
  for (let e = 0; e < n; e++) next[rows[e]!]!++;
  for (let r = 0, sum = 0; r <= maxRow; r++) { const c = next[r]!; next[r] = sum; sum += c; }
  const order = new Uint32Array(n);
  for (let e = 0; e < n; e++) order[next[rows[e]!]!++] = e;
  return order;
}
