/**
 * Cohort discovery: per-cohort histograms of a model's predictions and the pairwise divergence matrices
 * (GPU kernels), then the choice of the cohorts that get auxiliary heads.
 */
import type { Backend } from '../backend/index.js';
import { divergences, histogram } from '../ops.js';
import { tensor } from '../create.js';
import { noGrad, scope, TensorError } from '../tensor.js';
import { withPhase } from '../backend/profile-tags.js';
import { mulberry32 } from '../random.js';

export const METRICS = ['symmetricKL', 'jsDistance', 'wasserstein1', 'cosine'] as const;
export type DivergenceMetric = (typeof METRICS)[number];

export interface Discovery {
  metric: DivergenceMetric;
  /** The most divergent eligible pair: head is the larger cohort of the two. */
  head: number;
  tail: number;
  /** The C×C matrix of each metric (NaN where a cohort has no rows). */
  matrices: Record<DivergenceMetric, number[][]>;
  shares: number[];
  minShare: number;
}

/** Per-cohort histograms of predictions and the pairwise divergences; picks the most divergent eligible pair. */
export async function discover(pred: ArrayLike<number>, cohorts: ArrayLike<number>, numCohorts: number, backend: Backend,
  o: { metric?: DivergenceMetric; bins?: number; minShare?: number } = {}): Promise<Discovery> {
  const metric = o.metric ?? 'jsDistance', minShare = o.minShare ?? 0.01;
  if (!METRICS.includes(metric)) throw new TensorError(`discover: metric must be one of ${METRICS.join(', ')}, got '${metric}'`);
  if (!(minShare >= 0 && minShare < 1)) throw new TensorError(`discover: minShare must be in [0, 1), got ${minShare}`);
  if (pred.length !== cohorts.length) throw new TensorError(`discover: ${pred.length} predictions for ${cohorts.length} cohort ids`);
  if (pred.length === 0) throw new TensorError('discover: no predictions (the validation split is empty)');
  const flat = withPhase('metrics', () => noGrad(() => scope(() => divergences(histogram(tensor(Float32Array.from(pred), [pred.length], { backend }), cohorts, numCohorts, o.bins ?? 50)))));
  const d = Array.from(await flat.read());
  flat.dispose();
  const matrices = Object.fromEntries(METRICS.map((m, k) => [m, Array.from({ length: numCohorts }, (_, i) =>
    Array.from({ length: numCohorts }, (__, j) => d[k * numCohorts * numCohorts + i * numCohorts + j]!))])) as Record<DivergenceMetric, number[][]>;
  const counts = new Array<number>(numCohorts).fill(0);
  for (let i = 0; i < cohorts.length; i++) counts[cohorts[i]!]!++;
  const shares = counts.map((c) => c / cohorts.length);
  let best = -1, head = -1, tail = -1;
  for (let i = 0; i < numCohorts; i++) {
    for (let j = i + 1; j < numCohorts; j++) {
      const v = matrices[metric][i]![j]!;
      if (shares[i]! >= minShare && shares[j]! >= minShare && v > best) { best = v; head = i; tail = j; }
    }
  }
  if (head < 0) throw new TensorError(`discover: no pair of cohorts holds at least ${minShare} of the rows each (shares: ${shares.map((s) => s.toFixed(4)).join(', ')})`);
  if (shares[tail]! > shares[head]!) [head, tail] = [tail, head];
  return { metric, head, tail, matrices, shares, minShare };
}

export type Selection = 'divergence' | 'random';

/**
 * The `count` cohorts that get auxiliary heads. 'divergence': the discovered (head, tail) pair, then
 * greedily the eligible cohort with the largest summed divergence to those already chosen. 'random': a
 * seeded draw among the eligible cohorts, redrawn while it equals the divergence choice (the control
 * that separates "these cohorts" from "any auxiliary head").
 */
export function selectCohorts(d: Discovery, count: number, how: Selection = 'divergence', seed = 1): number[] {
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
  const m = d.matrices[d.metric];
  const chosen = [d.head, d.tail].slice(0, count);
  while (chosen.length < count) {
    let best = -1, pick = -1;
    for (const c of eligible) {
      if (chosen.includes(c)) continue;
      const v = chosen.reduce((acc, o) => acc + m[c]![o]!, 0);
      if (v > best) { best = v; pick = c; }
    }
    chosen.push(pick);
  }
  return chosen;
}
