/**
 * Choices made on validation, never on test: the baseline's hyperparameters (the grid point with the best
 * validation NE of the baseline, first world and first seed; every arm then trains with them) and λ by
 * a declared criterion. Pure functions: experiment.ts runs the trials.
 */
import { TensorError } from '../tensor.js';
import type { Hyper, TuningGrid } from './protocol.js';

/** Every point of the grid, lr fastest. An empty axis is refused. */
export function gridPoints(grid: TuningGrid): Pick<Hyper, 'lr' | 'embeddingL2' | 'dim'>[] {
  for (const [axis, values] of Object.entries(grid) as [keyof TuningGrid, number[]][]) {
    if (!values.length) throw new TensorError(`the tuning grid's ${axis} axis is empty`);
  }
  return grid.dim.flatMap((dim) => grid.embeddingL2.flatMap((embeddingL2) => grid.lr.map((lr) => ({ lr, embeddingL2, dim }))));
}

/** The grid point whose baseline reached the lowest validation NE (the first on ties). */
export function bestTrial<T extends { valNE: number }>(trials: readonly T[]): T {
  return trials.reduce((best, t) => (t.valNE < best.valNE ? t : best));
}

export const LAMBDA_CRITERION = 'the λ with the lowest mean validation NE over the targeted cohorts, among those whose overall validation NE ' +
  'is not worse than the baseline\'s (if none is, the λ with the lowest overall validation NE)';

export interface LambdaTrial { lambda: number; overall: number; targeted: number }

/** λ by LAMBDA_CRITERION, and why. */
export function chooseLambda(trials: readonly LambdaTrial[], baselineOverall: number): { lambda: number; reason: string } {
  if (trials.length === 1) return { lambda: trials[0]!.lambda, reason: 'the only candidate' };
  const fine = trials.filter((t) => t.overall <= baselineOverall);
  if (fine.length) {
    const t = fine.reduce((a, b) => (b.targeted < a.targeted ? b : a));
    return { lambda: t.lambda, reason: `targeted cohorts' validation NE ${t.targeted.toFixed(4)} (overall ${t.overall.toFixed(4)} ≤ baseline ` +
      `${baselineOverall.toFixed(4)})` };
  }
  const t = trials.reduce((a, b) => (b.overall < a.overall ? b : a));
  return { lambda: t.lambda, reason: `no λ kept overall validation NE at the baseline's ${baselineOverall.toFixed(4)}; lowest overall ` +
    `${t.overall.toFixed(4)}` };
}
