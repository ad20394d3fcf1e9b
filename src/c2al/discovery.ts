/**
 * Cohort discovery that noise cannot fool. A baseline's validation predictions are binned on pooled
 * quantiles (or logit-spaced bins), histogrammed per cohort and compared pairwise by four divergences on
 * the GPU. Raw divergences grow as cohorts shrink (two samples of one distribution still differ), so
 * each pair is judged against a permutation null: cohort labels shuffled K times at the level the cohort
 * is defined (across users when it is a user attribute, else across rows), all K labellings histogrammed
 * and compared in one dispatch each. A pair's score is its divergence beyond its null mean (the bias a
 * pair of that size shows by chance removed); its z, the score over the null std, is reported beside it.
 * The chosen pair has the largest score among pairs whose cohorts hold at least `minShare` of the rows,
 * and its family-wise p-value compares that score with the largest score of each permuted labelling (so
 * choosing the best of many pairs is accounted for).
 */
import type { Backend } from '../backend/index.js';
import { divergences, histogram } from '../ops.js';
import { tensor } from '../create.js';
import { noGrad, scope, TensorError } from '../tensor.js';
import { withPhase } from '../backend/profile-tags.js';
import { mulberry32 } from '../random.js';

export const METRICS = ['symmetricKL', 'jsDistance', 'wasserstein1', 'cosine'] as const;
export type DivergenceMetric = (typeof METRICS)[number];
export const BINNINGS = ['quantile', 'logit'] as const;
export type Binning = (typeof BINNINGS)[number];

export interface DiscoveryOptions {
  metric?: DivergenceMetric;
  /** How predictions are binned: quantiles of the pooled predictions (default) or equal widths in logit. */
  binning?: Binning;
  bins?: number;
  minShare?: number;
  /** Permuted labellings of the null (default 200). */
  permutations?: number;
  /** Group of each row (e.g. its user) when the cohort is constant within groups: labels are shuffled across groups. */
  groups?: ArrayLike<number>;
  /** Family-wise level at which the chosen pair counts as significant (default 0.05). */
  level?: number;
  seed?: number;
}

export interface DiscoveryNull {
  permutations: number;
  /** 'group': cohorts shuffled across groups (rows of a group move together); 'row': across rows. */
  level: 'group' | 'row';
  groups: number;
  /** The chosen pair's family-wise p-value (max score over eligible pairs), its own p-value, its score and z (score / null std). */
  pValue: number;
  pairPValue: number;
  score: number;
  z: number;
  /** The chosen pair's null distribution (the chosen metric), and its observed value. */
  distribution: number[];
  observed: number;
  /** Per pair: null mean, null std, score (observed − null mean), z (score / null std), own p-value (chosen metric; NaN on the diagonal). */
  mean: number[][];
  std: number[][];
  scores: number[][];
  zScores: number[][];
  pValues: number[][];
}

export interface Discovery {
  metric: DivergenceMetric;
  binning: Binning;
  bins: number;
  /** The eligible pair with the largest score: head is the larger cohort of the two. */
  head: number;
  tail: number;
  /** Observed C×C matrices of every metric (NaN where a cohort has no rows). */
  matrices: Record<DivergenceMetric, number[][]>;
  shares: number[];
  minShare: number;
  null: DiscoveryNull;
  /** Whether the chosen pair beats its null at the declared family-wise level. */
  significant: boolean;
  level: number;
}

/**
 * Predictions mapped to [0, 1] so that equal-width bins of the histogram kernel are the wanted bins:
 * for 'quantile', the mid-rank of each prediction among all of them (ties share their rank), so every
 * bin holds about the same number of pooled rows; for 'logit', the logit rescaled from its range.
 */
export function binPositions(pred: ArrayLike<number>, binning: Binning): Float32Array {
  const n = pred.length, out = new Float32Array(n);
  if (binning === 'logit') {
    const z = Array.from(pred, (p) => Math.log(Math.min(Math.max(p, 1e-7), 1 - 1e-7) / (1 - Math.min(Math.max(p, 1e-7), 1 - 1e-7))));
    const lo = z.reduce((a, v) => Math.min(a, v), Infinity), hi = z.reduce((a, v) => Math.max(a, v), -Infinity); // no spread: 10⁵ rows overflow the stack
    z.forEach((v, i) => { out[i] = hi > lo ? (v - lo) / (hi - lo) : 0.5; });
    return out;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => pred[a]! - pred[b]!);
  for (let i = 0; i < n;) {
    let j = i;
    while (j < n && pred[order[j]!] === pred[order[i]!]) j++;
    const mid = (i + j) / 2 / n; // the tie block's middle, in (0, 1)
    for (let t = i; t < j; t++) out[order[t]!] = mid;
    i = j;
  }
  return out;
}

/**
 * Cohort ids of `blocks` labellings of the rows, block b's cohorts offset by b·C: block 0 the observed
 * labels, then permutations. With `groups`, each permutation reassigns the groups' cohorts (a group's
 * rows move together), else the rows' cohorts.
 */
export function permutedCohorts(cohorts: ArrayLike<number>, numCohorts: number, permutations: number, seed: number, groups?: ArrayLike<number>): Uint32Array {
  const n = cohorts.length, out = new Uint32Array(n * (permutations + 1));
  for (let i = 0; i < n; i++) out[i] = cohorts[i]!;
  const next = mulberry32(seed * 2_654_435_761 + 97);
  const shuffle = (xs: Uint32Array): void => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
  };
  let ids: Uint32Array | null = null, groupCohort: Uint32Array | null = null;
  if (groups) {
    // Dense group ids, and each group's cohort (constant within a group: checked by the caller's data).
    const dense = new Map<number, number>();
    ids = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let g = dense.get(groups[i]!);
      if (g === undefined) dense.set(groups[i]!, (g = dense.size));
      ids[i] = g;
    }
    groupCohort = new Uint32Array(dense.size);
    for (let i = 0; i < n; i++) groupCohort[ids[i]!] = cohorts[i]!;
  }
  for (let b = 1; b <= permutations; b++) {
    const base = b * n, offset = b * numCohorts;
    if (ids && groupCohort) {
      const shuffled = groupCohort.slice();
      shuffle(shuffled);
      for (let i = 0; i < n; i++) out[base + i] = shuffled[ids[i]!]! + offset;
    } else {
      const shuffled = Uint32Array.from(cohorts);
      shuffle(shuffled);
      for (let i = 0; i < n; i++) out[base + i] = shuffled[i]! + offset;
    }
  }
  return out;
}

function checkOptions(pred: ArrayLike<number>, cohorts: ArrayLike<number>, numCohorts: number, o: DiscoveryOptions): void {
  const bad = (what: string): never => { throw new TensorError(`discover: ${what}`); };
  if (o.metric !== undefined && !METRICS.includes(o.metric)) bad(`metric must be one of ${METRICS.join(', ')}, got '${o.metric}'`);
  if (o.binning !== undefined && !BINNINGS.includes(o.binning)) bad(`binning must be one of ${BINNINGS.join(', ')}, got '${o.binning}'`);
  const minShare = o.minShare ?? 0.01;
  if (!(minShare >= 0 && minShare < 1)) bad(`minShare must be in [0, 1), got ${minShare}`);
  if (o.permutations !== undefined && !(Number.isInteger(o.permutations)
    && o.permutations >= 1)) bad(`permutations must be a positive integer, got ${o.permutations}`);
  if (o.bins !== undefined && !(Number.isInteger(o.bins) && o.bins >= 2)) bad(`bins must be an integer >= 2, got ${o.bins}`);
  if (pred.length !== cohorts.length) bad(`${pred.length} predictions for ${cohorts.length} cohort ids`);
  if (pred.length === 0) bad('no predictions (the validation split is empty)');
  if (numCohorts < 2) bad(`the cohort axis has ${numCohorts} cohort; discovery needs at least two`);
  if (o.groups && o.groups.length !== pred.length) bad(`${o.groups.length} group ids for ${pred.length} predictions`);
}

/** Binned per-cohort histograms of the observed and permuted labellings, their divergences, and the choice. */
export async function discover(pred: ArrayLike<number>, cohorts: ArrayLike<number>, numCohorts: number, backend: Backend,
  o: DiscoveryOptions = {}): Promise<Discovery> {
  checkOptions(pred, cohorts, numCohorts, o);
  const metric = o.metric ?? 'jsDistance', binning = o.binning ?? 'quantile', bins = o.bins ?? 20, minShare = o.minShare ?? 0.01;
  const K = o.permutations ?? 200, level = o.level ?? 0.05, C = numCohorts, n = pred.length;
  const labels = permutedCohorts(cohorts, C, K, o.seed ?? 1, o.groups);
  const positions = binPositions(pred, binning);
  const values = new Float32Array(n * (K + 1));
  for (let b = 0; b <= K; b++) values.set(positions, b * n);
  const flat = withPhase('metrics', () => noGrad(() => scope(() => {
    const counts = histogram(tensor(values, [values.length], { backend }), tensor(labels, [labels.length], { backend, dtype: 'u32' }), (K + 1) * C, bins);
    return divergences(counts.view([K + 1, C, bins]));
  })));
  const d = await flat.read();
  flat.dispose();
  const at = (b: number, m: number, i: number, j: number): number => d[b * 4 * C * C + m * C * C + i * C + j]!;
  const matrices = Object.fromEntries(METRICS.map((name, m) => [name, Array.from({ length: C },
    (_, i) => Array.from({ length: C }, (__, j) => at(0, m, i, j)))])) as Record<DivergenceMetric, number[][]>;
  const counts = new Array<number>(C).fill(0);
  for (let i = 0; i < n; i++) counts[cohorts[i]!]!++;
  const shares = counts.map((c) => c / n);
  const m = METRICS.indexOf(metric);
  const grid = (): number[][] => Array.from({ length: C }, () => new Array<number>(C).fill(NaN));
  const mean = grid(), std = grid(), scores = grid(), zScores = grid(), pValues = grid();
  const pairs: [number, number][] = [];
  for (let i = 0; i < C; i++) for (let j = i + 1; j < C; j++) if (shares[i]! >= minShare && shares[j]! >= minShare) pairs.push([i, j]);
  if (!pairs.length) throw new TensorError(`discover: no pair of cohorts holds at least ${minShare} of the rows each (shares: ` +
    `${shares.map((s) => s.toFixed(4)).join(', ')})`);
  // The score is the divergence beyond what chance gives at these cohorts' sizes (observed − null mean):
  // plug-in divergences of small samples are biased upward, and this removes the bias. Not the z-score
  // (over the null std): with thousands of rows every real difference is many null stds away, and the
  // z-score then grows with the cohorts' rows, choosing the largest cohorts rather than the most different.
  const score = (v: number, i: number, j: number): number => v - mean[i]![j]!;
  for (const [i, j] of pairs) {
    const nul = Array.from({ length: K }, (_, b) => at(b + 1, m, i, j)).filter(Number.isFinite);
    const mu = nul.reduce((a, b) => a + b, 0) / nul.length;
    const sd = Math.sqrt(nul.reduce((a, b) => a + (b - mu) ** 2, 0) / Math.max(1, nul.length - 1));
    const obs = at(0, m, i, j);
    mean[i]![j] = mean[j]![i] = mu;
    std[i]![j] = std[j]![i] = sd;
    scores[i]![j] = scores[j]![i] = score(obs, i, j);
    zScores[i]![j] = zScores[j]![i] = sd > 0 ? (obs - mu) / sd : 0;
    pValues[i]![j] = pValues[j]![i] = (1 + nul.filter((v) => v >= obs).length) / (1 + nul.length);
  }
  let [head, tail] = pairs.reduce((best, p) => (scores[p[0]]![p[1]]! > scores[best[0]]![best[1]]! ? p : best));
  const best = scores[head]![tail]!;
  // The family-wise null: the largest score over the eligible pairs of each permuted labelling (a max-statistic
  // test on the statistic the choice maximizes, so the p-value accounts for choosing the best pair).
  const maxNull = Array.from({ length: K }, (_, b) => Math.max(...pairs.map(([i, j]) => {
    const v = at(b + 1, m, i, j);
    return Number.isFinite(v) ? score(v, i, j) : -Infinity;
  })));
  const pValue = (1 + maxNull.filter((v) => v >= best).length) / (1 + K);
  const distribution = Array.from({ length: K }, (_, b) => at(b + 1, m, head, tail));
  const observed = at(0, m, head, tail);
  if (shares[tail]! > shares[head]!) [head, tail] = [tail, head];
  return {
    metric, binning, bins, head, tail, matrices, shares, minShare, level,
    null: { permutations: K, level: o.groups ? 'group' : 'row', groups: o.groups ? new Set(Array.from(o.groups)).size : n, pValue,
      pairPValue: pValues[head]![tail]!, score: best, z: zScores[head]![tail]!, distribution, observed, mean, std, scores, zScores, pValues },
    significant: pValue < level,
  };
}

export type Selection = 'divergence' | 'random';

/**
 * The `count` cohorts that get auxiliary heads. 'divergence': the discovered (head, tail) pair, then
 * greedily the eligible cohort with the largest summed score to those already chosen. 'random': a
 * seeded draw among the eligible cohorts, redrawn while it equals the divergence choice (the control
 * that separates "these cohorts" from "any auxiliary head").
 */
export function selectCohorts(d: Pick<Discovery, 'head' | 'tail' | 'shares' | 'minShare' | 'null'>, count: number,
  how: Selection = 'divergence', seed = 1): number[] {
  const eligible = d.shares.map((s, i) => [s, i] as const).filter(([s]) => s >= d.minShare).map(([, i]) => i);
  if (!(Number.isInteger(count) && count >= 1)) throw new TensorError(`selectCohorts: count must be a positive integer, got ${count}`);
  if (count > eligible.length) {
    throw new TensorError(`selectCohorts: ${count} auxiliary cohorts asked, but only ${eligible.length} cohorts hold at least ${d.minShare} of the rows`);
  }
  if (how === 'random') {
    // A control must differ from the method's choice: redraw (seeded) while the set equals it.
    const method = new Set(selectCohorts(d, count, 'divergence'));
    const next = mulberry32(seed);
    let pick: number[] = [];
    for (let attempt = 0; attempt < 100; attempt++) {
      const pool = [...eligible];
      for (let i = pool.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      pick = pool.slice(0, count);
      if (pick.some((c) => !method.has(c))) break;
    }
    return pick;
  }
  const s = d.null.scores;
  const chosen = [d.head, d.tail].slice(0, count);
  while (chosen.length < count) {
    let best = -Infinity, pick = -1;
    for (const c of eligible) {
      if (chosen.includes(c)) continue;
      const v = chosen.reduce((acc, o) => acc + (Number.isFinite(s[c]![o]!) ? s[c]![o]! : 0), 0);
      if (v > best) { best = v; pick = c; }
    }
    chosen.push(pick);
  }
  return chosen;
}
