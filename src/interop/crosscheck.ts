/**
 * The engine against PyTorch in float64 on one model: c2al runs two training steps (forward, the C2AL
 * loss, backward, Adam) on two seeded batches on its backend; torch/crosscheck.py rebuilds the same model
 * from the same config and weights in float64 and reports, per head, the worst logit difference, the loss
 * difference, per parameter the worst gradient difference (scaled by the tensor's largest gradient), and
 * per parameter the worst difference after the two Adam steps (PyTorch's optimizer fed our gradients).
 * `c2al crosscheck --torch` and the agreement test both call crosscheckTorch.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor } from '../create.js';
import { densifyRows } from '../ops.js';
import { encodeSafetensors, encodeModule, type TensorData } from '../nn/checkpoint.js';
import type { DhenModel } from '../nn/dhen.js';
import { mulberry32 } from '../random.js';
import { RowSparse, scope } from '../tensor.js';
import { c2alLoss, headNames } from '../train/loss.js';
import { gradientOf } from '../train/optim.js';
import { optimizerFor } from '../train/loop.js';
import { pythonPath, torchSourceDir } from './python.js';

export interface CrosscheckOptions {
  batch?: number;
  seed?: number;
  /** λ of every auxiliary head (the primary's is 1). */
  lambda?: number;
  lr?: number;
  weightDecay?: number;
  embeddingL2?: number;
  python?: string;
}

export interface ParameterDiff { name: string; module: string; maxAbs: number; maxRef: number; scaled: number }

export interface CrosscheckReport {
  torch: string;
  dtype: 'float64';
  logits: Record<string, { maxAbs: number; maxRef: number }>;
  loss: { ours: number; ref: number; absDiff: number; relDiff: number };
  grads: ParameterDiff[];
  adam: { name: string; module: string; maxAbs: number }[];
  worst: { gradient: ParameterDiff; adam: { name: string; module: string; maxAbs: number } };
}

/**
 * What "agree" means (float32 on the device against float64): the measured worst cases are 10–100×
 * below these (docs/interop.md lists them per module type).
 */
export const TOLERANCES = {
  /** |logit − ref| ≤ logits·(1 + max |ref|) for every head. */
  logits: 1e-5,
  /** |loss − ref| / |ref|. */
  loss: 1e-6,
  /** max |grad − ref| / max |ref| per parameter tensor. */
  gradient: 1e-4,
  /** max |param − ref| after two Adam steps fed our gradients. */
  adam: 1e-6,
} as const;

/** The checks that failed, one line each (empty: the engines agree within TOLERANCES). */
export function disagreements(r: CrosscheckReport): string[] {
  const out: string[] = [];
  for (const [h, l] of Object.entries(r.logits)) {
    if (!(l.maxAbs <= TOLERANCES.logits * (1 + l.maxRef))) out.push(`head ${h}: logits differ by ${l.maxAbs.toExponential(2)}`);
  }
  if (!(r.loss.relDiff <= TOLERANCES.loss)) out.push(`loss differs by ${r.loss.relDiff.toExponential(2)} (relative)`);
  for (const g of r.grads) if (!(g.scaled <= TOLERANCES.gradient)) out.push(`gradient of ${g.name} differs by ${g.scaled.toExponential(2)} (scaled)`);
  for (const a of r.adam) if (!(a.maxAbs <= TOLERANCES.adam)) out.push(`${a.name} after two Adam steps differs by ${a.maxAbs.toExponential(2)}`);
  return out;
}

/** Per module type (fm, cross, embeddings, heads, …): the worst scaled and absolute gradient differences and the worst weight after the Adam steps. */
export function byModule(r: CrosscheckReport): Record<string, { gradScaled: number; gradAbs: number; adamAbs: number }> {
  const out: Record<string, { gradScaled: number; gradAbs: number; adamAbs: number }> = {};
  for (const g of r.grads) {
    const m = (out[g.module] ??= { gradScaled: 0, gradAbs: 0, adamAbs: 0 });
    m.gradScaled = Math.max(m.gradScaled, g.scaled);
    m.gradAbs = Math.max(m.gradAbs, g.maxAbs);
  }
  for (const a of r.adam) out[a.module]!.adamAbs = Math.max(out[a.module]!.adamAbs, a.maxAbs);
  return out;
}

interface Batch { ids: number[][]; dense: number[][] | null; labels: number[][] }

function makeBatch(model: DhenModel, rows: number, next: () => number): Batch {
  const heads = headNames(model).length;
  const ids = Array.from({ length: rows }, () => model.config.fields.map((f) => Math.floor(next() * f.vocab)));
  const dense = model.config.dense ? Array.from({ length: rows }, () => Array.from({ length: model.config.dense! }, () => 2 * next() - 1)) : null;
  // Auxiliary labels are the primary label where the row is "in" the head's cohort (a coin flip here), else 0: C2AL's y·1[x∈c].
  const labels = Array.from({ length: rows }, () => {
    const y = next() < 0.3 ? 1 : 0;
    return [y, ...Array.from({ length: heads - 1 }, () => (next() < 0.5 ? y : 0))];
  });
  return { ids, dense, labels };
}

/**
 * Runs the check on `model` (its weights are changed by the two Adam steps: pass a model you can spare).
 * Throws with PyTorch's stderr when the Python side fails.
 */
export async function crosscheckTorch(model: DhenModel, o: CrosscheckOptions = {}): Promise<CrosscheckReport> {
  const rows = o.batch ?? 16, next = mulberry32(o.seed ?? 1);
  const heads = headNames(model);
  const lambdas = [1, ...heads.slice(1).map(() => o.lambda ?? 1)];
  const adam = { lr: o.lr ?? 0.01, weightDecay: o.weightDecay ?? 0.01, embeddingL2: o.embeddingL2 ?? 1e-3 };
  const batches = [makeBatch(model, rows, next), makeBatch(model, rows, next)];
  const dir = mkdtempSync(join(tmpdir(), 'c2al-crosscheck-'));
  try {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(model.config));
    writeFileSync(join(dir, 'model.safetensors'), await encodeModule(model));
    writeFileSync(join(dir, 'batch.json'), JSON.stringify({ batches, lambdas, adam }));
    const ours = new Map<string, TensorData>();
    const opt = optimizerFor(model, { lr: adam.lr, weightDecay: adam.weightDecay, embeddingL2: adam.embeddingL2 });
    const backend = model.backend, params = model.namedParameters();
    model.eval();
    try {
      for (const [i, b] of batches.entries()) {
        const grads = scope(() => {
          const labels = tensor(b.labels.flat(), [rows, heads.length], { backend });
          const dense = b.dense ? tensor(b.dense.flat(), [rows, b.dense[0]!.length], { backend }) : undefined;
          const { logits } = model.forward(b.ids.flat(), dense);
          const { loss } = c2alLoss(model, logits, labels, tensor(lambdas, [heads.length], { backend }));
          loss.backward();
          return { logits, loss, grads: params.map(([name, p]) => {
            const g = gradientOf(p);
            return [name, g instanceof RowSparse ? densifyRows(g) : g] as const;
          }) };
        });
        const own = new Set(params.map(([, p]) => p.grad));
        if (i === 0) {
          for (const h of heads) ours.set(`logits.${h}`, { shape: [rows], data: Float32Array.from(await grads.logits[h]!.read()) });
          ours.set('loss', { shape: [1], data: Float32Array.from(await grads.loss.read()) });
        }
        for (const [name, g] of grads.grads) {
          const p = params.find(([n]) => n === name)![1];
          ours.set(`grad${i}.${name}`, { shape: [...p.shape], data: g ? Float32Array.from(await g.read()) : new Float32Array(p.size) });
        }
        for (const t of [...Object.values(grads.logits), grads.loss, ...grads.grads.map(([, g]) => g)]) if (t && !own.has(t)) t.dispose();
        opt.step();
        opt.zeroGrad();
      }
      for (const [name, p] of params) ours.set(`after.${name}`, { shape: [...p.shape], data: Float32Array.from(await p.read()) });
    } finally {
      opt.dispose();
      model.train();
    }
    writeFileSync(join(dir, 'ours.safetensors'), encodeSafetensors(ours));
    const r = spawnSync(o.python ?? pythonPath(), [join(torchSourceDir(), 'crosscheck.py'), dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`crosscheck.py failed (exit ${r.status ?? r.error?.message}):\n${r.stderr.trim()}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as CrosscheckReport;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
