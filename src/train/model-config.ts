/**
 * The DHEN the training loop builds from a dataset and a few options: the data's fields (and dense
 * features), `layers` (default: one DHEN layer of FM attention beside a linear compress, summed), a
 * primary head and one auxiliary head per `aux` entry. The experiment's default FM block generates its
 * attention weights per sample (y: 'generated', C2AL's attention MLP, plus a learned Y₀) with k < n.
 */
import type { Backend } from '../backend/index.js';
import type { ClickData } from '../data/schema.js';
import { DhenModel, type DhenConfig, type DhenLayerConfig } from '../nn/dhen.js';
import type { AuxHead } from './loss.js';

export interface ModelOptions {
  dim?: number;
  /** The DHEN layers (default: FM attention with `k` and `y`, and a linear compress, summed). */
  layers?: DhenLayerConfig[];
  /** Columns of the FM attention weights Y (default 4), and whether Y is a learned parameter or generated per sample (default generated). */
  k?: number;
  y?: 'learned' | 'generated';
  headHidden?: number[];
  /** Hidden sizes of the auxiliary heads' MLPs (default: the primary head's); [] makes them linear. */
  auxHidden?: number[];
  /** Dropout after each hidden layer of the heads while training. */
  dropout?: number;
  seed?: number;
  aux?: AuxHead[];
}

export function modelConfig(data: Pick<ClickData, 'fields' | 'denseFeatures'>, o: ModelOptions): DhenConfig {
  const fm = o.y === 'learned' ? { type: 'fm' as const, k: o.k ?? 4, hidden: [64] } : { type: 'fm' as const, k: o.k ?? 4, y: 'generated' as const,
    y0: true, hidden: [64], attentionHidden: [64] };
  return {
    fields: data.fields, dim: o.dim ?? 16, seed: o.seed ?? 1,
    ...(data.denseFeatures ? { dense: data.denseFeatures, denseFields: 1 } : {}),
    layers: o.layers ?? [{ modules: [fm, { type: 'linearCompress' }], ensemble: 'sum' }],
    head: { hidden: o.headHidden ?? [64, 32], ...(o.dropout ? { dropout: o.dropout } : {}) },
    auxHeads: (o.aux ?? []).map((_, i) => `aux${i}`),
    ...(o.aux?.length && (o.auxHidden || o.dropout) ? { auxHead: { hidden: o.auxHidden ?? o.headHidden ?? [64, 32],
      ...(o.dropout ? { dropout: o.dropout } : {}) } } : {}),
  };
}

export function buildModel(data: ClickData, o: ModelOptions, backend: Backend): DhenModel {
  return new DhenModel(modelConfig(data, o), backend);
}
