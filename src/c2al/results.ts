/**
 * What `runExperiment` returns and `c2al experiment --json` prints (metrics.json in the run folder), and
 * what report.html draws. Types only: experiment.ts fills them, report.ts and the CLI read them.
 */
import type { AttentionStats } from '../nn/attention-stats.js';
import type { Evaluation, TrainingHistory } from '../train/loop.js';
import type { ArmKind } from './arms.js';
import type { LayerGroup } from './attention.js';
import type { Binning, DivergenceMetric, Selection } from './discovery.js';

export interface Stat { mean: number; std: number }
/** A mean with its 95% interval: a paired t-interval over the (world, seed) units. */
export interface IntervalStat { mean: number; ci95: [number, number] }

/** One arm against the baseline on one cohort (or overall), paired by world and seed. */
export interface ArmDelta {
  /** NE_arm − NE_baseline and (NE_arm − NE_baseline) / NE_baseline, with 95% paired t-intervals over seeds. */
  abs: IntervalStat;
  rel: IntervalStat;
  /** 95% paired bootstrap intervals over test rows (one resample shared by both arms): relative, absolute. */
  bootstrap95: [number, number];
  bootstrapAbs95: [number, number];
  /** Both 95% intervals of the relative change exclude 0. */
  significant: boolean;
  /** The same with Bonferroni intervals over this arm's rows (overall and every cohort). */
  significantFamilywise: boolean;
  /** The smallest relative change the t-interval resolves (its half-width). */
  resolution: number;
  /** Mean ± std of the relative change over units (today's `change`). */
  change: Stat;
}

export interface CohortSummary {
  name: string;
  share: number;
  /** NE per arm (mean ± std over units); bayes: the expected-cross-entropy floor (synthetic data). */
  ne: Record<string, Stat> & { bayes: number | null };
  auc: Record<string, Stat>;
  /** NE − floor per arm (synthetic data). */
  excess: Record<string, Stat> | null;
  /** Every arm but the baseline against it (random draws pooled as 'random'). */
  delta: Record<string, ArmDelta>;
  /** AUC_arm − AUC_baseline with its paired t-interval. */
  aucDelta: Record<string, IntervalStat>;
  /** C2AL's relative NE change (mean ± std), as reported before the protocol. */
  change: Stat;
  /** C2AL against each control on the same units (random draws pooled as 'random'); empty without a c2al arm. */
  vsC2al: Record<string, C2alContrast>;
}

/**
 * (NE_c2al − NE_control) / NE_control per unit: negative means C2AL did better than the control. The
 * 95% paired t-interval over units and the paired bootstrap over test rows; significant when both exclude 0.
 */
export interface C2alContrast {
  rel: IntervalStat;
  bootstrap95: [number, number];
  significant: boolean;
  resolution: number;
}

export interface ArmRun { seed: number; worldSeed: number; bestStep: number; bestEpoch: number; valNE: number; stopped: 'budget' | 'patience';
  steps: number; seconds: number }

export interface ArmReport {
  name: string;
  kind: ArmKind;
  /** Auxiliary heads: the cohorts they learn ('y' for the duplicate heads' primary label). */
  heads: string[];
  reweighted: string[];
  lambda: number | null;
  perSeed: ArmRun[];
}

export interface DiscoveryReport {
  head: string;
  tail: string;
  metric: DivergenceMetric;
  binning: Binning;
  bins: number;
  matrix: number[][];
  matrices: Record<DivergenceMetric, number[][]>;
  shares: number[];
  cohortNames: string[];
  /** The cohorts that got auxiliary heads and how they were chosen. */
  aux: string[];
  selection: Selection | 'given';
  /** The generator's most different pair: the largest divergence of true click probabilities over the world's rows (synthetic data). */
  truth?: { head: string; tail: string; divergence: number };
  null: {
    permutations: number; level: 'group' | 'row'; groupField: string | null; groups: number;
    /** Family-wise p-value of the chosen pair, its own p-value, its score (observed − null mean) and z (score / null std). */
    pValue: number; pairPValue: number; score: number; z: number; observed: number; distribution: number[];
    scores: number[][]; zScores: number[][]; pValues: number[][];
  };
  significant: boolean;
  level: number;
  /** How often each pair was chosen by the baselines of every (world, seed) unit. */
  stability: { units: number; pairs: { pair: [string, string]; count: number }[] };
  /** Per cohort, a 20-bin histogram (share of rows) of seed 1's baseline validation predictions (the paper's Figure 3). */
  densities: { cohort: string; histogram: number[] }[];
}

export type AttentionStatName = 'normalizedEntropy' | 'gini' | 'nearZero' | 'kurtosis';
export type AttentionBlock = Record<AttentionStatName, IntervalStat>;

export interface AttentionReport {
  kind: 'generated' | 'learned';
  /** Attention weights at initialization, after the baseline and after C2AL: every statistic with its interval over units. */
  init: AttentionBlock;
  baseline: AttentionBlock;
  c2al: AttentionBlock;
  /** C2AL − baseline, paired by unit. */
  delta: AttentionBlock;
  /** Mean 20-bin histograms of |Y| / max|Y| (shares). */
  histograms: { init: number[]; baseline: number[]; c2al: number[] };
  /** The paper's Figure 7: the same statistics of the weights before, of and after the attention MLP. */
  layers: Record<LayerGroup, { init: AttentionBlock; baseline: AttentionBlock; c2al: AttentionBlock }>;
  /** The same statistics of seed 1's runs (kept for today's readers). */
  first: { baseline: AttentionStats; c2al: AttentionStats };
}

export interface ExperimentReport {
  protocol: {
    name: 'quick' | 'full'; seeds: number; worldSeeds: number; maxEpochs: number; patience: number; evalEvery: number | 'epoch';
    selection: 'validation';
    tuned: {
      lr: number; dim: number; embeddingL2: number; weightDecay: number; lambda: number | null; criterion: string; lambdaReason: string;
      tuned: boolean; trials: { lr: number; embeddingL2: number; dim: number; valNE: number }[]; lambdaTrials: { lambda: number; overall: number;
        targeted: number }[];
    };
    multiplicity: string;
    bootstrap: number;
  };
  arms: ArmReport[];
  discovery: DiscoveryReport;
  cohorts: CohortSummary[];
  overall: Omit<CohortSummary, 'name' | 'share'>;
  attention: AttentionReport;
  /** World 1, seed 1: the training histories of the baseline and C2AL, and every arm's validation curve (early stopping). */
  curves: { baseline: TrainingHistory; c2al: TrainingHistory | null; validation: Record<string, Evaluation[]> };
  /** The serving model against the baseline: same tensors, and the measured cost of a forward pass over the validation split. */
  inference: { sameParameters: boolean; baselineMs: number; c2alMs: number; ratio: number };
  options: { batch: number; freezeY: boolean; rows: { train: number; valid: number; test: number }; world: string | null };
  seeds: number;
  worldSeeds: number;
  /** Reads of the test split: one per arm and unit, each after that run was selected. */
  testReads: number;
  adapter: string;
  seconds: number;
  out?: string;
  report?: string;
}
