/**
 * The legacy synthetic world (the default of wave 1, kept as `--world legacy` for comparison with older
 * results and for small fast tests): 5 fields (user, item, category, context, age), 5 age cohorts with
 * shares 60/20/10/7/3 %, each with its own base rate and its own mix of user×item, category×context, item
 * popularity and user×category terms. Its majority (user×item over 150k pairs) is the hardest cohort to
 * fit, so it does not plant C2AL's premise: planted-world.ts does.
 */
import type { EmbeddingField } from '../embedding-plan.js';
import { mulberry32, normalSampler } from '../random.js';
import type { ClickData } from './schema.js';

export interface LegacyOptions {
  rows?: number;
  seed?: number;
  /** Cohort shares (sum 1); default [0.6, 0.2, 0.1, 0.07, 0.03]. */
  shares?: number[];
  users?: number;
  items?: number;
  categories?: number;
  contexts?: number;
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

export function legacyWorld(opts: LegacyOptions = {}): ClickData {
  const rows = opts.rows ?? 60_000, seed = opts.seed ?? 1;
  const shares = opts.shares ?? [0.6, 0.2, 0.1, 0.07, 0.03];
  const U = opts.users ?? 500, I = opts.items ?? 300, C = opts.categories ?? 20, X = opts.contexts ?? 8;
  const k = shares.length;
  if (Math.abs(shares.reduce((a, b) => a + b, 0) - 1) > 1e-9) throw new Error(`legacyWorld: shares must sum to 1, got ${shares.join(' + ')}`);
  if (k > MIX.length) throw new Error(`legacyWorld: at most ${MIX.length} cohorts`);
  // The world: latent factors drawn once from the seed.
  const normal = normalSampler(mulberry32(seed * 1_000_003 + 1));
  const latent = (n: number): Float64Array => Float64Array.from({ length: n * 4 }, () => normal() * 0.8);
  const user = latent(U), item = latent(I), cat = latent(C), ctx = latent(X);
  const popularity = Float64Array.from({ length: I }, () => normal());
  const itemCategory = Uint32Array.from({ length: I }, (_, i) => i % C);
  const dot = (a: Float64Array, i: number, b: Float64Array, j: number): number =>
    a[4 * i]! * b[4 * j]! + a[4 * i + 1]! * b[4 * j + 1]! + a[4 * i + 2]! * b[4 * j + 2]! + a[4 * i + 3]! * b[4 * j + 3]!;
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
  return { fields, ids, labels, cohort, cohortNames: ['age 25-34', 'age 18-24', 'age 35-44', 'age 45-54', 'age 55+'].slice(0, k), trueProb,
    rows, cohortGroup: 'user' };
}

