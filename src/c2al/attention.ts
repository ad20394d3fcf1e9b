/**
 * Attention diagnostics as the paper draws them. For generated Y (the attention MLP's output), the
 * weights are every entry of Y for every validation row; for a learned Y, its entries. Each is summarized
 * by attentionStats (entropy, Gini, share near zero below NEAR_ZERO·max|Y|, kurtosis, histogram). The
 * layer-by-layer view of the paper's Figure 7 summarizes the weights of the layers before the attention
 * MLP (embedding tables, the LayerNorm feeding it), the attention MLP, and after it (the FM block's
 * LayerNorm and output MLP). Measured at initialization, after the baseline and after C2AL, per seed, so
 * every statistic comes with an interval over seeds (see experiment.ts).
 */
import type { ClickData } from '../data/schema.js';
import type { DhenModel } from '../nn/dhen.js';
import { attentionStats, type AttentionStats } from '../nn/attention-stats.js';
import { noGrad, scope, type Tensor } from '../tensor.js';
import { tensor } from '../create.js';

export const LAYER_GROUPS = ['before', 'attention', 'after'] as const;
export type LayerGroup = (typeof LAYER_GROUPS)[number];

export interface AttentionSnapshot {
  /** 'generated' (Y per validation row) or 'learned' (the parameter's entries). */
  kind: 'generated' | 'learned';
  weights: AttentionStats;
  layers: Record<LayerGroup, AttentionStats>;
}

/** Every entry of every FM block's Y over `data`'s rows (at most `maxRows`), in eval mode. */
export async function attentionWeights(model: DhenModel, data: ClickData, maxRows = 4096,
  batch = 1024): Promise<{ kind: 'generated' | 'learned'; values: Float32Array }> {
  const blocks = model.fmBlocks();
  const generated = blocks.some((b) => b.attention);
  if (!generated) {
    const parts = await Promise.all(blocks.filter((b) => b.y).map(async (b) => Float32Array.from(await b.y!.read())));
    return { kind: 'learned', values: concatFloats(parts) };
  }
  const wasTraining = model.training, f = data.fields.length, rows = Math.min(maxRows, data.rows);
  model.eval();
  const parts: Float32Array[] = [];
  try {
    for (let start = 0; start < rows; start += batch) {
      const end = Math.min(rows, start + batch);
      const nd = data.denseFeatures ?? 0;
      const ys = noGrad(() => scope(() => {
        const dense = nd ? tensor(data.dense!.subarray(start * nd, end * nd), [end - start, nd], { backend: model.backend }) : undefined;
        model.forward(data.ids.subarray(start * f, end * f), dense);
        return blocks.filter((b) => b.attention).map((b) => b.lastY!) as Tensor[];
      }));
      for (const y of ys) {
        parts.push(Float32Array.from(await y.read()));
        y.dispose();
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return { kind: 'generated', values: concatFloats(parts) };
}

function concatFloats(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Which group of Figure 7 a parameter belongs to (null: outside the FM blocks' path). */
export function layerGroup(name: string): LayerGroup | null {
  if (name.startsWith('embeddings.') || /\.fm\.attention_norm\./.test(name)) return 'before';
  if (/\.fm\.attention\./.test(name)) return 'attention';
  if (/\.fm\.(norm|mlp)\./.test(name)) return 'after';
  return null;
}

/** The weights of the three groups, summarized. */
export async function layerWeights(model: DhenModel): Promise<Record<LayerGroup, AttentionStats>> {
  const values: Record<LayerGroup, number[]> = { before: [], attention: [], after: [] };
  for (const [name, p] of model.namedParameters()) {
    const g = layerGroup(name);
    if (g) for (const v of await p.read()) values[g].push(v);
  }
  return { before: attentionStats(values.before), attention: attentionStats(values.attention), after: attentionStats(values.after) };
}

export async function attentionSnapshot(model: DhenModel, valid: ClickData): Promise<AttentionSnapshot> {
  const w = await attentionWeights(model, valid);
  return { kind: w.kind, weights: attentionStats(w.values), layers: await layerWeights(model) };
}
