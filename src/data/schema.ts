/**
 * The data layer's shared vocabulary: ClickData (the rows every loader produces and training reads),
 * DataError (a bad file, row or value, reported with where it is), the seeded train / valid / test
 * split, row subsets, cohort axes from a categorical field, and validateClickData (the check where
 * data enters training or evaluation).
 */
import type { EmbeddingField } from '../embedding-plan.js';
import { mulberry32 } from '../random.js';

export class DataError extends Error {
  override name = 'DataError';
}

export interface ClickData {
  fields: EmbeddingField[];
  /** [rows, fields] row-major. */
  ids: Uint32Array;
  labels: Uint8Array;
  /** Cohort of each row (an index into cohortNames). */
  cohort: Uint8Array;
  cohortNames: string[];
  /** The true click probability of each row (synthetic data only). */
  trueProb?: Float64Array;
  /** Dense (numeric) features, [rows, denseFeatures] row-major, when the data has them. */
  dense?: Float32Array;
  denseFeatures?: number;
  rows: number;
  /**
   * The field along which the cohort is constant (a user attribute such as age: 'user'), when known:
   * discovery's permutation null shuffles cohorts across its values instead of across rows.
   */
  cohortGroup?: string;
}

/** Deterministic train / valid / test split of row indices by seed. */
export function splitRows(rows: number, seed: number, fractions: [number, number, number] = [0.8, 0.1,
  0.1]): { train: Uint32Array; valid: Uint32Array; test: Uint32Array } {
  const order = Uint32Array.from({ length: rows }, (_, i) => i);
  const next = mulberry32(seed * 104_729 + 3);
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const a = Math.round(rows * fractions[0]), b = a + Math.round(rows * fractions[1]);
  return { train: order.slice(0, a), valid: order.slice(a, b), test: order.slice(b) };
}

/** The rows `index` of a dataset, as a new dataset. */
export function subset(data: ClickData, index: ArrayLike<number>): ClickData {
  const f = data.fields.length, n = index.length;
  const ids = new Uint32Array(n * f), labels = new Uint8Array(n), cohort = new Uint8Array(n);
  const trueProb = data.trueProb ? new Float64Array(n) : undefined;
  const nd = data.denseFeatures ?? 0, dense = data.dense ? new Float32Array(n * nd) : undefined;
  for (let j = 0; j < n; j++) {
    const r = index[j]!;
    ids.set(data.ids.subarray(r * f, r * f + f), j * f);
    if (dense) dense.set(data.dense!.subarray(r * nd, r * nd + nd), j * nd);
    labels[j] = data.labels[r]!;
    cohort[j] = data.cohort[r]!;
    if (trueProb) trueProb[j] = data.trueProb![r]!;
  }
  return { ...data, ids, labels, cohort, trueProb, dense, rows: n };
}

/**
 * The same rows with another cohort axis: each value of categorical `field` becomes a cohort (e.g.
 * 'context' or 'category' of the synthetic data instead of its age groups).
 */
export function cohortsByField(data: ClickData, field: string): ClickData {
  const f = data.fields.findIndex((x) => x.name === field);
  if (f < 0) throw new DataError(`cohortsByField: no field '${field}'; the fields are ${data.fields.map((x) => x.name).join(', ')}`);
  const vocab = data.fields[f]!.vocab;
  if (vocab > 255) throw new DataError(`cohortsByField: field '${field}' has ${vocab} values; at most 255 cohorts`);
  const cohort = new Uint8Array(data.rows);
  for (let r = 0; r < data.rows; r++) cohort[r] = data.ids[r * data.fields.length + f]!;
  return { ...data, cohort, cohortNames: Array.from({ length: vocab }, (_, v) => `${field} ${v}`), cohortGroup: undefined };
}

/** The values of field `name` for every row, or a DataError naming the fields. */
export function fieldValues(data: ClickData, name: string): Uint32Array {
  const f = data.fields.findIndex((x) => x.name === name);
  if (f < 0) throw new DataError(`no field '${name}'; the fields are ${data.fields.map((x) => x.name).join(', ')}`);
  const n = data.fields.length;
  return Uint32Array.from({ length: data.rows }, (_, r) => data.ids[r * n + f]!);
}

/** The first row of `values` whose cohort differs from an earlier row with the same value, or -1. */
function notConstantAt(data: ClickData, values: ArrayLike<number>): number {
  const seen = new Map<number, number>();
  for (let r = 0; r < data.rows; r++) {
    const c = seen.get(values[r]!);
    if (c === undefined) seen.set(values[r]!, data.cohort[r]!);
    else if (c !== data.cohort[r]) return r;
  }
  return -1;
}

/**
 * The field the cohort is defined on (a user attribute is constant within 'user'): data.cohortGroup when
 * given, else the field with the most values among those along which the cohort is constant and that
 * have more values than there are cohorts; null when there is none (cohorts are properties of rows).
 */
export function cohortGroupField(data: ClickData): string | null {
  if (data.cohortGroup !== undefined) return data.cohortGroup;
  let best: { name: string; values: number } | null = null;
  for (const f of data.fields) {
    if (f.vocab <= data.cohortNames.length || (best && f.vocab <= best.values)) continue;
    const values = fieldValues(data, f.name);
    if (notConstantAt(data, values) < 0) best = { name: f.name, values: new Set(values).size };
  }
  return best?.name ?? null;
}

/**
 * Checks click data where it enters training or evaluation (a loader's output, or data a user built):
 * lengths agree with rows × fields, ids lie inside their field's vocabulary, labels are 0 or 1, cohorts
 * index cohortNames, dense features and true probabilities are finite (probabilities in [0, 1]).
 * Throws a DataError naming `what`, the array, the row and the value; O(rows · fields), no GPU work.
 */
export function validateClickData(data: ClickData, what = 'data'): void {
  const fail = (msg: string): never => { throw new DataError(`${what}: ${msg}`); };
  if (!data || typeof data !== 'object') fail('click data must be an object');
  const { rows, fields } = data;
  if (!Number.isInteger(rows) || rows < 1) fail(`rows must be a positive integer, got ${rows}`);
  if (!Array.isArray(fields) || fields.length === 0) fail('fields must list at least one {name, vocab}');
  fields.forEach((f, i) => { if (!Number.isInteger(f?.vocab) || f.vocab < 1) fail(`fields[${i}] ('${f?.name}') needs a positive integer vocab, got ` +
    `${f?.vocab}`); });
  const f = fields.length;
  const length = (name: string, arr: ArrayLike<number> | undefined, n: number): ArrayLike<number> => {
    if (!arr || typeof arr.length !== 'number') fail(`${name} is missing`);
    if (arr!.length !== n) fail(`${name} has ${arr!.length} values, expected ${n}`);
    return arr!;
  };
  const ids = length(`ids ([rows ${rows}, fields ${f}])`, data.ids, rows * f);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!, field = fields[i % f]!;
    if (!Number.isInteger(id) || id < 0 || id >= field.vocab) fail(`ids: field '${field.name}' id ${id} at row ${Math.floor(i / f)} is outside its ` +
      `vocabulary of ${field.vocab}`);
  }
  const labels = length('labels', data.labels, rows);
  for (let r = 0; r < rows; r++) if (labels[r] !== 0 && labels[r] !== 1) fail(`labels: row ${r} has ${labels[r]}; labels must be 0 or 1`);
  if (!Array.isArray(data.cohortNames) || data.cohortNames.length === 0) fail('cohortNames must list at least one cohort');
  const cohort = length('cohort', data.cohort, rows);
  for (let r = 0; r < rows; r++) {
    const c = cohort[r]!;
    if (!Number.isInteger(c) || c < 0 || c >= data.cohortNames.length) fail(`cohort: row ${r} has ${c}, outside the ${data.cohortNames.length} cohorts`);
  }
  if (data.dense || data.denseFeatures) {
    const nd = data.denseFeatures ?? 0;
    if (!Number.isInteger(nd) || nd < 1) fail(`denseFeatures must be a positive integer with dense, got ${data.denseFeatures}`);
    const dense = length(`dense ([rows ${rows}, denseFeatures ${nd}])`, data.dense, rows * nd);
    for (let i = 0; i < dense.length; i++) if (!Number.isFinite(dense[i])) fail(`dense: row ${Math.floor(i / nd)} feature ${i % nd} is ${dense[i]}; ` +
      `dense features must be finite`);
  }
  if (data.cohortGroup !== undefined) {
    if (!fields.some((x) => x.name === data.cohortGroup)) fail(`cohortGroup '${data.cohortGroup}' names no field; the fields are ` +
      `${fields.map((x) => x.name).join(', ')}`);
    const at = notConstantAt(data, fieldValues(data, data.cohortGroup));
    if (at >= 0) fail(`the cohort is not constant along cohortGroup '${data.cohortGroup}': row ${at} has cohort ${data.cohortNames[data.cohort[at]!]}, an ` +
      `earlier row with the same ${data.cohortGroup} another`);
  }
  if (data.trueProb) {
    const p = length('trueProb', data.trueProb, rows);
    for (let r = 0; r < rows; r++) if (!(p[r]! >= 0 && p[r]! <= 1)) fail(`trueProb: row ${r} has ${p[r]}; probabilities must be in [0, 1]`);
  }
}
