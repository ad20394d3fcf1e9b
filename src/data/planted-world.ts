/**
 * Synthetic worlds for C2AL, generated from a seed, in which the paper's premise holds (planted) or is
 * false by construction (null). Both have the same 14 categorical fields, the same users (2,000, each in
 * one of 5 age cohorts with shares 60/20/10/7/3 %: 1,200/400/200/140/60 users) and the same row sampling;
 * they differ only in how a click happens.
 *
 *   z = logit(base_c) + pop_item + pos_position + Σ_{(A,B,w) ∈ M_c} w·⟨a_AB[x_A], b_AB[x_B]⟩,  p = σ(z)
 *
 * x_A is the row's value of field A; every (A, B) pair has its own 4-dim latent tables a_AB, b_AB
 * (N(0, 0.7²) entries), pop_item ~ N(0, 0.5²), pos_p = −0.15·p. planted gives each cohort c its own
 * mechanism M_c (the table in docs/c2al.md): the majority (age 25-34) clicks on category×context and
 * device×position, low-cardinality interactions a model learns quickly; the minorities depend on
 * interactions the majority does not use (brand×channel, region×weekday, price×device, brand×region),
 * and age 35-44 and age 55+ reverse the majority's category×context. age 55+ differs most from the
 * majority (the reversed interaction at full weight, and base rate 0.25 against 0.08). null gives every
 * cohort the majority's mechanism and base rate: the cohort only names rows. Every row keeps its true
 * click probability (the floor is the expected cross-entropy under it). The distractor fields noise_a and
 * noise_b never enter z.
 */
import type { EmbeddingField } from '../embedding-plan.js';
import { mulberry32, normalSampler } from '../random.js';
import type { ClickData } from './schema.js';

export const PLANTED_FIELDS: readonly EmbeddingField[] = [
  { name: 'user', vocab: 2000 }, { name: 'item', vocab: 400 }, { name: 'age', vocab: 5 }, { name: 'category', vocab: 20 },
  { name: 'brand', vocab: 25 }, { name: 'price', vocab: 6 }, { name: 'context', vocab: 8 }, { name: 'device', vocab: 4 },
  { name: 'region', vocab: 12 }, { name: 'channel', vocab: 6 }, { name: 'position', vocab: 8 }, { name: 'weekday', vocab: 7 },
  { name: 'noise_a', vocab: 16 }, { name: 'noise_b', vocab: 16 },
];

export const COHORT_NAMES = ['age 25-34', 'age 18-24', 'age 35-44', 'age 45-54', 'age 55+'] as const;
const USERS_PER_COHORT = [1200, 400, 200, 140, 60];

type FieldName = 'category' | 'brand' | 'price' | 'context' | 'device' | 'region' | 'channel' | 'position' | 'weekday';
interface Mechanism { base: number; pairs: readonly [FieldName, FieldName, number][] }

/** Each cohort's click mechanism in the planted world (docs/c2al.md shows the same table). */
export const PLANTED_MECHANISMS: readonly Mechanism[] = [
  { base: 0.08, pairs: [['category', 'context', 1.0], ['device', 'position', 0.8]] },
  { base: 0.15, pairs: [['brand', 'channel', 1.3], ['category', 'context', 0.3]] },
  { base: 0.07, pairs: [['region', 'weekday', 1.4], ['category', 'context', -0.8]] },
  { base: 0.10, pairs: [['price', 'device', 1.4], ['device', 'position', 0.4]] },
  { base: 0.25, pairs: [['category', 'context', -1.3], ['brand', 'region', 1.3]] },
];

/** The cohorts the planted generator made most different from the majority (for the discovery check). */
export const PLANTED_MOST_DIFFERENT: readonly string[] = ['age 55+', 'age 35-44'];

export type World = 'planted' | 'null';

export function plantedWorld(world: World, rows: number, seed: number): ClickData {
  const fieldIndex = new Map(PLANTED_FIELDS.map((f, i) => [f.name, i]));
  const vocab = (name: string): number => PLANTED_FIELDS[fieldIndex.get(name)!]!.vocab;
  // The world (latent tables, item attributes, users' cohorts and regions) comes from the seed alone.
  const normal = normalSampler(mulberry32(seed * 1_000_003 + 17));
  const latent = (n: number): Float64Array => Float64Array.from({ length: n * 4 }, () => normal() * 0.7);
  const mechanisms = world === 'planted' ? PLANTED_MECHANISMS : PLANTED_MECHANISMS.map(() => PLANTED_MECHANISMS[0]!);
  const pairKeys = [...new Set(PLANTED_MECHANISMS.flatMap((m) => m.pairs.map(([a, b]) => `${a}×${b}`)))];
  const tables = new Map(pairKeys.map((key) => {
    const [a, b] = key.split('×') as [FieldName, FieldName];
    return [key, { a: latent(vocab(a)), b: latent(vocab(b)) }];
  }));
  const pop = Float64Array.from({ length: vocab('item') }, () => 0.5 * normal());
  const next = mulberry32(seed * 7919 + 23);
  const pick = (n: number): number => Math.floor(next() * n);
  const itemAttr = Array.from({ length: vocab('item') }, () => [pick(vocab('category')), pick(vocab('brand')), pick(vocab('price'))] as const);
  const userCohort = new Uint8Array(vocab('user')), userRegion = new Uint8Array(vocab('user'));
  // Exact cohort sizes, users in a seeded order (cohort is not readable from the user id).
  const users = Array.from({ length: vocab('user') }, (_, i) => i);
  for (let i = users.length - 1; i > 0; i--) { const j = pick(i + 1); [users[i], users[j]] = [users[j]!, users[i]!]; }
  let at = 0;
  USERS_PER_COHORT.forEach((count, c) => { for (let k = 0; k < count; k++) userCohort[users[at++]!] = c; });
  for (let u = 0; u < userRegion.length; u++) userRegion[u] = pick(vocab('region'));
  const dot = (x: Float64Array, i: number, y: Float64Array, j: number): number =>
    x[4 * i]! * y[4 * j]! + x[4 * i + 1]! * y[4 * j + 1]! + x[4 * i + 2]! * y[4 * j + 2]! + x[4 * i + 3]! * y[4 * j + 3]!;
  const logit = (p: number): number => Math.log(p / (1 - p));
  const f = PLANTED_FIELDS.length;
  const ids = new Uint32Array(rows * f), labels = new Uint8Array(rows), cohort = new Uint8Array(rows), trueProb = new Float64Array(rows);
  const value: Record<FieldName, number> = { category: 0, brand: 0, price: 0, context: 0, device: 0, region: 0, channel: 0, position: 0, weekday: 0 };
  for (let r = 0; r < rows; r++) {
    const u = pick(vocab('user')), i = pick(vocab('item')), c = userCohort[u]!;
    [value.category, value.brand, value.price] = itemAttr[i]!;
    value.region = userRegion[u]!;
    value.context = pick(vocab('context'));
    value.device = pick(vocab('device'));
    value.channel = pick(vocab('channel'));
    value.position = pick(vocab('position'));
    value.weekday = pick(vocab('weekday'));
    const m = mechanisms[c]!;
    let z = logit(m.base) + pop[i]! - 0.15 * value.position;
    for (const [a, b, w] of m.pairs) {
      const t = tables.get(`${a}×${b}`)!;
      z += w * dot(t.a, value[a], t.b, value[b]);
    }
    const p = 1 / (1 + Math.exp(-z));
    ids.set([u, i, c, value.category, value.brand, value.price, value.context, value.device, value.region, value.channel, value.position, value.weekday,
      pick(vocab('noise_a')), pick(vocab('noise_b'))], r * f);
    trueProb[r] = p;
    labels[r] = next() < p ? 1 : 0;
    cohort[r] = c;
  }
  return { fields: PLANTED_FIELDS.map((x) => ({ ...x })), ids, labels, cohort, cohortNames: [...COHORT_NAMES], trueProb, rows, cohortGroup: 'user' };
}
