/** NE (and AUC, calibration) overall and per cohort for one model's predictions, or a baseline/C2AL pair. */
import type { ClickData } from '../data/schema.js';
import { bayesNE, metrics, type Metrics } from './metrics.js';

export interface CohortMetrics { name: string; share: number; metrics: Metrics; bayes: number | null }

/** The rows metrics are computed on: labels and cohorts, and (synthetic data) the true click probabilities. */
export type Rows = Pick<ClickData, 'labels' | 'cohort' | 'cohortNames' | 'trueProb'>;

/** One model's metrics on `rows`: overall, then each cohort. */
export function cohortMetrics(rows: Rows, pred: ArrayLike<number>): { overall: CohortMetrics; cohorts: CohortMetrics[] } {
  const n = rows.labels.length, counts = new Array<number>(rows.cohortNames.length).fill(0);
  for (let i = 0; i < n; i++) counts[rows.cohort[i]!]!++;
  const row = (name: string, share: number, mask?: (i: number) => boolean): CohortMetrics => ({
    name, share, metrics: metrics(pred, rows.labels, mask), bayes: rows.trueProb ? bayesNE(rows.trueProb, rows.labels, mask) : null,
  });
  return {
    overall: row('overall', 1),
    cohorts: rows.cohortNames.map((name, c) => row(name, counts[c]! / n, (i) => rows.cohort[i] === c)),
  };
}

export interface CohortResult { name: string; share: number; baseline: Metrics; c2al: Metrics; bayes: number | null }

/** Baseline and C2AL predictions side by side. */
export function evaluate(data: Rows, base: ArrayLike<number>, c2al: ArrayLike<number>): { overall: CohortResult; cohorts: CohortResult[] } {
  const b = cohortMetrics(data, base), c = cohortMetrics(data, c2al);
  const pair = (x: CohortMetrics, y: CohortMetrics): CohortResult => ({ name: x.name, share: x.share, baseline: x.metrics, c2al: y.metrics, bayes: x.bayes });
  return { overall: pair(b.overall, c.overall), cohorts: b.cohorts.map((x, i) => pair(x, c.cohorts[i]!)) };
}
