/** NE (and AUC, calibration) overall and per cohort for one model's predictions, or a baseline/C2AL pair. */
import type { ClickData } from '../data/schema.js';
import { bayesNE, metrics, type Metrics } from './metrics.js';

export interface CohortMetrics { name: string; share: number; metrics: Metrics; bayes: number | null }

/** One model's metrics on `data`: overall, then each cohort. */
export function cohortMetrics(data: ClickData, pred: ArrayLike<number>): { overall: CohortMetrics; cohorts: CohortMetrics[] } {
  const counts = new Array<number>(data.cohortNames.length).fill(0);
  for (let i = 0; i < data.rows; i++) counts[data.cohort[i]!]!++;
  const row = (name: string, share: number, mask?: (i: number) => boolean): CohortMetrics => ({
    name, share, metrics: metrics(pred, data.labels, mask), bayes: data.trueProb ? bayesNE(data.trueProb, data.labels, mask) : null,
  });
  return {
    overall: row('overall', 1),
    cohorts: data.cohortNames.map((n, c) => row(n, counts[c]! / data.rows, (i) => data.cohort[i] === c)),
  };
}

export interface CohortResult { name: string; share: number; baseline: Metrics; c2al: Metrics; bayes: number | null }

/** Baseline and C2AL predictions side by side. */
export function evaluate(data: ClickData, base: ArrayLike<number>, c2al: ArrayLike<number>): { overall: CohortResult; cohorts: CohortResult[] } {
  const b = cohortMetrics(data, base), c = cohortMetrics(data, c2al);
  const pair = (x: CohortMetrics, y: CohortMetrics): CohortResult => ({ name: x.name, share: x.share, baseline: x.metrics, c2al: y.metrics, bayes: x.bayes });
  return { overall: pair(b.overall, c.overall), cohorts: b.cohorts.map((x, i) => pair(x, c.cohorts[i]!)) };
}
