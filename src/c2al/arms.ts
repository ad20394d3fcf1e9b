/**
 * The arms of a C2AL experiment, each trained the same way (validation-selected, early-stopped) and
 * compared with the baseline on the same seeds:
 *   baseline   the primary head alone
 *   c2al       auxiliary heads for the discovered cohorts, λ·BCE(z_c, y·1[x∈c])
 *   random     heads on a random eligible pair instead (one arm per draw; ≥ 5 draws in the full protocol)
 *   reweight   no extra heads; the primary loss weighs the chosen cohorts' rows by 1 + λ (is C2AL just upweighting?)
 *   duplicate  as many extra heads as C2AL, trained on the primary label y (the same parameters and extra
 *              gradient, no cohort signal: does any extra head help?)
 */
import type { AuxHead, Reweight } from '../train/loss.js';
import { TensorError } from '../tensor.js';
import { selectCohorts, type Discovery } from './discovery.js';

export const ARM_KINDS = ['baseline', 'c2al', 'random', 'reweight', 'duplicate'] as const;
export type ArmKind = (typeof ARM_KINDS)[number];

export interface Arm {
  /** 'baseline', 'c2al', 'random 1'…, 'reweight', 'duplicate'. */
  name: string;
  kind: ArmKind;
  /** The cohorts it targets (heads or reweighting); none for the baseline and the duplicate heads. */
  cohorts: number[];
  aux: AuxHead[];
  reweight?: Reweight;
}

/** The arms of one world: `kinds` in order, random expanded into `draws` arms. */
export function armsFor(kinds: readonly ArmKind[], chosen: readonly number[], d: Pick<Discovery, 'head' | 'tail' | 'shares' | 'minShare' | 'null'>,
  lambda: number, draws: number): Arm[] {
  for (const k of kinds) if (!ARM_KINDS.includes(k)) throw new TensorError(`unknown arm '${k}'; the arms are ${ARM_KINDS.join(', ')}`);
  const heads = (cohorts: readonly (number | null)[]): AuxHead[] => cohorts.map((cohort) => ({ cohort, lambda }));
  return kinds.flatMap((kind): Arm[] => {
    switch (kind) {
      case 'baseline': return [{ name: 'baseline', kind, cohorts: [], aux: [] }];
      case 'c2al': return [{ name: 'c2al', kind, cohorts: [...chosen], aux: heads(chosen) }];
      case 'random': return Array.from({ length: draws }, (_, i) => {
        const cohorts = selectCohorts(d, chosen.length, 'random', i + 1);
        return { name: `random ${i + 1}`, kind, cohorts, aux: heads(cohorts) };
      });
      case 'reweight': return [{ name: 'reweight', kind, cohorts: [...chosen], aux: [], reweight: { cohorts: [...chosen], factor: 1 + lambda } }];
      case 'duplicate': return [{ name: 'duplicate', kind, cohorts: [], aux: heads(chosen.map(() => null)) }];
      default: return kind satisfies never;
    }
  });
}
