/**
 * The embedded default dataset: seeded synthetic click data with heterogeneous cohorts. A cohort axis
 * (5 age groups: a majority of 60% and minorities down to 3%) selects how a row's click probability is
 * made: each cohort has its own base rate and its own mix of feature interactions (user×item affinity,
 * category×context, item popularity, user×category), so one shared model fits the majority and
 * underfits the minorities. Every row keeps its true click probability, so the Bayes-optimal NE (the
 * floor no model can beat) is known.
 */
import type { EmbeddingField } from '../embedding-plan.js';
import { mulberry32, normalSampler } from '../random.js';
import { DataError } from './movielens.js';

export interface SyntheticOptions {
  rows?: number;
  seed?: number;
  /** Cohort shares (sum 1); default [0.6, 0.2, 0.1, 0.07, 0.03]. */
  shares?: number[];
  users?: number;
  items?: number;
  categories?: number;
  contexts?: number;
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
}

/** Interaction mix per cohort: weights of [user·item, category·context, item popularity, user·category]. */
const MIX = [
  [1.6, 0.1, 0.4, 0.0],
  [0.2, 1.6, 0.0, 0.3],
  [0.0, 0.3, 1.4, 0.0],
  [0.3, 0.0, 0.2, 1.8],
  [0.0, 1.2, -1.0, 0.8],
];
const BASE_RATE = [0.12, 0.30, 0.05, 0.20, 0.40];

export function syntheticClicks(opts: SyntheticOptions = {}): ClickData {
  const rows = opts.rows ?? 60_000, seed = opts.seed ?? 1;
  const shares = opts.shares ?? [0.6, 0.2, 0.1, 0.07, 0.03];
  const U = opts.users ?? 500, I = opts.items ?? 300, C = opts.categories ?? 20, X = opts.contexts ?? 8;
  const k = shares.length;
  if (Math.abs(shares.reduce((a, b) => a + b, 0) - 1) > 1e-9) throw new Error(`syntheticClicks: shares must sum to 1, got ${shares.join(' + ')}`);
  if (k > MIX.length) throw new Error(`syntheticClicks: at most ${MIX.length} cohorts`);
  // The world: latent factors drawn once from the seed.
  const normal = normalSampler(mulberry32(seed * 1_000_003 + 1));
  const latent = (n: number): Float64Array => Float64Array.from({ length: n * 4 }, () => normal() * 0.8);
  const user = latent(U), item = latent(I), cat = latent(C), ctx = latent(X);
  const popularity = Float64Array.from({ length: I }, () => normal());
  const itemCategory = Uint32Array.from({ length: I }, (_, i) => i % C);
  const dot = (a: Float64Array, i: number, b: Float64Array, j: number): number => a[4 * i]! * b[4 * j]! + a[4 * i + 1]! * b[4 * j + 1]! + a[4 * i + 2]! * b[4 * j + 2]! + a[4 * i + 3]! * b[4 * j + 3]!;
  // Users belong to one cohort (their age group); cohort sizes follow the shares.
  const next = mulberry32(seed * 7919 + 2);
  const userCohort = Uint8Array.from({ length: U }, () => {
    let u = next(), c = 0;
    while (c < k - 1 && u >= shares[c]!) { u -= shares[c]!; c++; }
    return c;
  });
  const fields: EmbeddingField[] = [
    { name: 'user', vocab: U }, { name: 'item', vocab: I }, { name: 'category', vocab: C }, { name: 'context', vocab: X }, { name: 'age', vocab: k },
  ];
  const ids = new Uint32Array(rows * fields.length), labels = new Uint8Array(rows), cohort = new Uint8Array(rows), trueProb = new Float64Array(rows);
  const logit = (p: number): number => Math.log(p / (1 - p));
  for (let r = 0; r < rows; r++) {
    const u = Math.floor(next() * U), i = Math.floor(next() * I), x = Math.floor(next() * X), c = itemCategory[i]!, g = userCohort[u]!;
    const terms = [dot(user, u, item, i), dot(cat, c, ctx, x), popularity[i]!, dot(user, u, cat, c)];
    const z = logit(BASE_RATE[g]!) + MIX[g]!.reduce((acc, w, t) => acc + w * terms[t]!, 0);
    const p = 1 / (1 + Math.exp(-z));
    ids.set([u, i, c, x, g], r * fields.length);
    trueProb[r] = p;
    labels[r] = next() < p ? 1 : 0;
    cohort[r] = g;
  }
  return { fields, ids, labels, cohort, cohortNames: ['age 25-34', 'age 18-24', 'age 35-44', 'age 45-54', 'age 55+'].slice(0, k), trueProb, rows };
}

/** Deterministic train / valid / test split of row indices by seed. */
export function splitRows(rows: number, seed: number, fractions: [number, number, number] = [0.8, 0.1, 0.1]): { train: Uint32Array; valid: Uint32Array; test: Uint32Array } {
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
  return { ...data, cohort, cohortNames: Array.from({ length: vocab }, (_, v) => `${field} ${v}`) };
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
  fields.forEach((f, i) => { if (!Number.isInteger(f?.vocab) || f.vocab < 1) fail(`fields[${i}] ('${f?.name}') needs a positive integer vocab, got ${f?.vocab}`); });
  const f = fields.length;
  const length = (name: string, arr: ArrayLike<number> | undefined, n: number): ArrayLike<number> => {
    if (!arr || typeof arr.length !== 'number') fail(`${name} is missing`);
    if (arr!.length !== n) fail(`${name} has ${arr!.length} values, expected ${n}`);
    return arr!;
  };
  const ids = length(`ids ([rows ${rows}, fields ${f}])`, data.ids, rows * f);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!, field = fields[i % f]!;
    if (!Number.isInteger(id) || id < 0 || id >= field.vocab) fail(`ids: field '${field.name}' id ${id} at row ${Math.floor(i / f)} is outside its vocabulary of ${field.vocab}`);
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
    for (let i = 0; i < dense.length; i++) if (!Number.isFinite(dense[i])) fail(`dense: row ${Math.floor(i / nd)} feature ${i % nd} is ${dense[i]}; dense features must be finite`);
  }
  if (data.trueProb) {
    const p = length('trueProb', data.trueProb, rows);
    for (let r = 0; r < rows; r++) if (!(p[r]! >= 0 && p[r]! <= 1)) fail(`trueProb: row ${r} has ${p[r]}; probabilities must be in [0, 1]`);
  }
}
