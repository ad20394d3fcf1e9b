/**
 * From every arm's test predictions per (world, seed) unit to the tables of the report: NE and AUC per
 * arm, the excess over the floor, and each arm's change against the baseline of the same unit — absolute
 * and relative, a 95% paired t-interval over units, a 95% paired bootstrap interval over test rows, a
 * Bonferroni version over the arm's rows, and the half-width as the smallest change the interval resolves.
 * Random-pair draws are reported one by one and pooled as 'random' (the mean over draws per unit). Also the
 * attention statistics with intervals over units.
 */
import { attentionStats, type AttentionStats } from '../nn/attention-stats.js';
import { LAYER_GROUPS, type AttentionSnapshot } from './attention.js';
import { cohortMetrics, type CohortMetrics } from './evaluate.js';
import type { Protocol } from './protocol.js';
import type { ArmDelta, AttentionBlock, AttentionReport, AttentionStatName, C2alContrast, CohortSummary, IntervalStat, Stat } from './results.js';
import { bonferroniLevel, meanStd, pairedBootstrap, pairedTInterval, percentileInterval, rowLogLoss, type BootstrapWorld } from './stats.js';

/** The test rows' labels, cohorts and true probabilities, kept from the first read of each world's split. */
export interface TestRows { labels: ArrayLike<number>; cohort: ArrayLike<number>; trueProb?: ArrayLike<number> }

/** One (world, seed) unit: the test rows of its world and every arm's predictions on them. */
export interface UnitTest { world: number; seed: number; rows: TestRows; testOf: Map<string, Float64Array> }

const interval = (xs: readonly number[], level = 0.95): IntervalStat => {
  const t = pairedTInterval(xs, level);
  return { mean: t.mean, ci95: t.ci };
};
const excludesZero = ([lo, hi]: [number, number]): boolean => lo > 0 || hi < 0;

const STAT_NAMES: AttentionStatName[] = ['normalizedEntropy', 'gini', 'nearZero', 'kurtosis'];

function attentionBlock(stats: readonly AttentionStats[]): AttentionBlock {
  return Object.fromEntries(STAT_NAMES.map((k) => [k, interval(stats.map((s) => s[k]))])) as AttentionBlock;
}

function meanHistogram(stats: readonly AttentionStats[]): number[] {
  return stats[0] ? stats[0].histogram.map((_, i) => stats.reduce((a, s) => a + s.histogram[i]! / s.entries, 0) / stats.length) : [];
}

export function summarizeAttention(s: { init: AttentionSnapshot[]; baseline: AttentionSnapshot[]; c2al: AttentionSnapshot[] }): AttentionReport {
  const w = (xs: AttentionSnapshot[]) => xs.map((x) => x.weights);
  const paired = s.c2al.length === s.baseline.length;
  const empty = attentionStats([0]);
  return {
    kind: s.baseline[0]?.kind ?? 'learned',
    init: attentionBlock(w(s.init)), baseline: attentionBlock(w(s.baseline)), c2al: attentionBlock(w(s.c2al)),
    delta: Object.fromEntries(STAT_NAMES.map((k) => [k, paired ? interval(s.c2al.map((c, i) => c.weights[k] - s.baseline[i]!.weights[k])) : { mean: NaN,
      ci95: [NaN, NaN] }])) as AttentionBlock,
    histograms: { init: meanHistogram(w(s.init)), baseline: meanHistogram(w(s.baseline)), c2al: meanHistogram(w(s.c2al)) },
    layers: Object.fromEntries(LAYER_GROUPS.map((g) => [g, {
      init: attentionBlock(s.init.map((x) => x.layers[g])), baseline: attentionBlock(s.baseline.map((x) => x.layers[g])),
        c2al: attentionBlock(s.c2al.map((x) => x.layers[g])),
    }])) as AttentionReport['layers'],
    first: { baseline: s.baseline[0]?.weights ?? empty, c2al: s.c2al[0]?.weights ?? empty },
  };
}

export function summarize(units: readonly UnitTest[], cohortNames: readonly string[], p: Protocol,
  snapshots: { init: AttentionSnapshot[]; baseline: AttentionSnapshot[]; c2al: AttentionSnapshot[] }):
  { cohorts: CohortSummary[]; overall: Omit<CohortSummary, 'name' | 'share'>; attention: AttentionReport; multiplicity: string } {
  const C = cohortNames.length, groups = [-1, ...cohortNames.map((_, c) => c)];
  const armNames = [...units[0]!.testOf.keys()];
  const draws = armNames.filter((a) => a.startsWith('random '));
  const compared = [...armNames.filter((a) => a !== 'baseline'), ...(draws.length > 1 ? ['random'] : [])];
  // Metrics of every arm on every unit: [unit][arm] → overall and cohorts.
  const metricsOf = units.map((u) => {
    const rows = { ...u.rows, cohortNames: [...cohortNames] } as Parameters<typeof cohortMetrics>[0];
    return new Map([...u.testOf].map(([arm, pred]) => [arm, cohortMetrics(rows, pred)]));
  });
  const pick = (m: { overall: CohortMetrics; cohorts: CohortMetrics[] }, g: number): CohortMetrics => (g < 0 ? m.overall : m.cohorts[g]!);
  // A pooled arm's value per unit: the mean over its draws.
  const members = (arm: string): string[] => (arm === 'random' && draws.length > 1 ? draws : [arm]);
  const valueOf = (u: number, arm: string, g: number, get: (c: CohortMetrics) => number): number =>
    members(arm).reduce((a, m) => a + get(pick(metricsOf[u]!.get(m)!, g)), 0) / members(arm).length;
  const level = bonferroniLevel(0.95, groups.length);
  // Bootstrap: per world, every seed's (and draw's) log losses of `arm` against `against`'s on the same unit.
  const bootstrap = (arm: string, against: string) => {
    const worlds: BootstrapWorld[] = [...new Set(units.map((u) => u.world))].map((w) => {
      const mine = units.filter((u) => u.world === w);
      const lossBase: Float64Array[] = [], lossArm: Float64Array[] = [];
      for (const u of mine) {
        // A pooled control meets C2AL once per draw, as a pooled arm meets the baseline once per draw.
        const pairs = against === 'baseline' ? members(arm).map((m) => [m, 'baseline']) : members(against).map((m) => [arm, m]);
        for (const [ours, theirs] of pairs) {
          lossArm.push(rowLogLoss(u.testOf.get(ours!)!, u.rows.labels));
          lossBase.push(rowLogLoss(u.testOf.get(theirs!)!, u.rows.labels));
        }
      }
      return { labels: mine[0]!.rows.labels, cohort: mine[0]!.rows.cohort, lossBase, lossArm };
    });
    return pairedBootstrap(worlds, groups, { replicates: p.bootstrap });
  };
  const boot = new Map(compared.map((arm) => [arm, bootstrap(arm, 'baseline')]));
  const controls = compared.includes('c2al') ? compared.filter((a) => a !== 'c2al') : [];
  const bootVs = new Map(controls.map((arm) => [arm, bootstrap('c2al', arm)]));
  const row = (g: number): Omit<CohortSummary, 'name' | 'share'> => {
    const stat = (arm: string, get: (c: CohortMetrics) => number): Stat => meanStd(units.map((_, u) => valueOf(u, arm, g, get)));
    const floors = units.map((_, u) => pick(metricsOf[u]!.get('baseline')!, g).bayes);
    const hasFloor = floors.every((f) => f !== null);
    const delta: Record<string, ArmDelta> = {}, aucDelta: Record<string, IntervalStat> = {};
    for (const arm of compared) {
      const abs = units.map((_, u) => valueOf(u, arm, g, (c) => c.metrics.ne) - valueOf(u, 'baseline', g, (c) => c.metrics.ne));
      const rel = units.map((_, u) => abs[u]! / valueOf(u, 'baseline', g, (c) => c.metrics.ne));
      const b = boot.get(arm)![groups.indexOf(g)]!;
      const t = pairedTInterval(rel), tf = pairedTInterval(rel, level);
      const bootstrap95 = percentileInterval(b.rel);
      delta[arm] = {
        abs: interval(abs), rel: { mean: t.mean, ci95: t.ci }, bootstrap95, bootstrapAbs95: percentileInterval(b.abs),
        significant: excludesZero(t.ci) && excludesZero(bootstrap95),
        significantFamilywise: excludesZero(tf.ci) && excludesZero(percentileInterval(b.rel, level)),
        resolution: t.halfWidth, change: meanStd(rel),
      };
      aucDelta[arm] = interval(units.map((_, u) => valueOf(u, arm, g, (c) => c.metrics.auc) - valueOf(u, 'baseline', g, (c) => c.metrics.auc)));
    }
    const vsC2al: Record<string, C2alContrast> = {};
    for (const arm of controls) {
      const ne = (u: number, a: string): number => valueOf(u, a, g, (c) => c.metrics.ne);
      const t = pairedTInterval(units.map((_, u) => (ne(u, 'c2al') - ne(u, arm)) / ne(u, arm)));
      const bootstrap95 = percentileInterval(bootVs.get(arm)![groups.indexOf(g)]!.rel);
      vsC2al[arm] = { rel: { mean: t.mean, ci95: t.ci }, bootstrap95, significant: excludesZero(t.ci) && excludesZero(bootstrap95), resolution: t.halfWidth };
    }
    const arms = ['baseline', ...compared];
    return {
      ne: { ...Object.fromEntries(arms.map((a) => [a, stat(a, (c) => c.metrics.ne)])),
        bayes: hasFloor ? floors.reduce((a, f) => a + f!, 0) / floors.length : null } as CohortSummary['ne'],
      auc: Object.fromEntries(arms.map((a) => [a, stat(a, (c) => c.metrics.auc)])),
      excess: hasFloor ? Object.fromEntries(arms.map((a) => [a, meanStd(units.map((_, u) => valueOf(u, a, g, (c) => c.metrics.ne) - floors[u]!))])) : null,
      delta, aucDelta, change: delta.c2al?.change ?? { mean: NaN, std: NaN }, vsC2al,
    };
  };
  const shares = cohortNames.map((_, c) => pick(metricsOf[0]!.get('baseline')!, c).share);
  return {
    overall: row(-1),
    cohorts: cohortNames.map((name, c) => ({ name, share: shares[c]!, ...row(c) })),
    attention: summarizeAttention(snapshots),
    multiplicity: `95% intervals. A change is significant when both the paired t-interval over the ${units.length} (world, seed) units and the paired ` +
      `bootstrap over test rows (${p.bootstrap} replicates) exclude 0; significantFamilywise applies Bonferroni over an arm's ${C + 1} rows ` +
      `(overall and each cohort: ${(100 * level).toFixed(2)}% intervals). Arms are not corrected against each other.`,
  };
}
