/**
 * Our DHEN against the same model in PyTorch float64 (torch/model.py, as `c2al export --torch` writes it):
 * logits of every head, the C2AL loss, the gradient of every parameter and two Adam steps, for a DHEN
 * with every module type and for the experiment's default model; then a checkpoint trained 50 steps here
 * gives the same test-split NE when PyTorch evaluates it. Skips (saying why) only where torch cannot be
 * imported; .ci/run installs Debian's python3-torch.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DhenModel, type DhenConfig } from '../../../src/nn/dhen.js';
import { byModule, crosscheckTorch, disagreements, type CrosscheckReport } from '../../../src/interop/crosscheck.js';
import { pythonPath, torchWhyNot } from '../../../src/interop/python.js';
import { modelConfig } from '../../../src/train/model-config.js';
import { syntheticClicks } from '../../../src/data/synthetic.js';
import { gpu } from '../../support/gpu.js';
import { c2al, plantedCsv, run } from '../../support/cli.js';

const why = torchWhyNot();
if (why) console.warn(`torch agreement tests skipped: ${why}`);

/** A DHEN with every module type, ensemble and shortcut, dense features, and auxiliary heads of their own shape. */
export const EVERY_MODULE: DhenConfig = {
  fields: [{ name: 'user', vocab: 30 }, { name: 'item', vocab: 20 }, { name: 'ctx', vocab: 5 }], dim: 8, dense: 2, denseFields: 1, seed: 3,
  layers: [
    { modules: [{ type: 'fm', k: 2 }, { type: 'fm', k: 3, y: 'generated', y0: true, attentionHidden: [8], hidden: [8] }, { type: 'linearCompress' },
      { type: 'cross', layers: 2 }, { type: 'cross', layers: 1, rank: 3 }, { type: 'dot', hidden: [8] }, { type: 'attention', heads: 2 }],
    ensemble: 'weighted', shortcut: 'project' },
    { modules: [{ type: 'fm', k: 2, y: 'generated' }, { type: 'dot', fields: 2 }, { type: 'linearCompress', fields: 3 }], ensemble: 'concat' },
  ],
  head: { hidden: [16, 8], activation: 'gelu' }, auxHeads: ['aux0', 'aux1'], auxHead: { hidden: [8], activation: 'silu' },
};

/** One DHEN per module type (and per ensemble), so each type's differences are measured on their own. */
const ONE_TYPE: [string, DhenConfig['layers']][] = [
  ['fm (learned Y)', [{ modules: [{ type: 'fm', k: 3, hidden: [8] }] }]],
  ['fm (generated Y + Y0)', [{ modules: [{ type: 'fm', k: 3, y: 'generated', y0: true, attentionHidden: [8] }] }]],
  ['linearCompress', [{ modules: [{ type: 'linearCompress' }], shortcut: 'project' }]],
  ['cross (full)', [{ modules: [{ type: 'cross', layers: 2 }] }]],
  ['cross (low rank)', [{ modules: [{ type: 'cross', layers: 2, rank: 3 }] }]],
  ['dot', [{ modules: [{ type: 'dot', hidden: [8] }] }]],
  ['attention', [{ modules: [{ type: 'attention', heads: 2, headDim: 3 }] }]],
  ['ensemble concat', [{ modules: [{ type: 'fm', k: 2 }, { type: 'dot', fields: 2 }], ensemble: 'concat' }]],
  ['ensemble weighted', [{ modules: [{ type: 'fm', k: 2 }, { type: 'linearCompress' }], ensemble: 'weighted' }]],
];

function expectAgreement(r: CrosscheckReport, heads: string[]): void {
  expect(Object.keys(r.logits)).toEqual(heads);
  expect(r.dtype).toBe('float64');
  expect(disagreements(r)).toEqual([]);
  // The comparison is not vacuous: the gradients and logits it compared are not zero.
  expect(Math.max(...r.grads.map((g) => g.maxRef))).toBeGreaterThan(1e-3);
  expect(Math.max(...Object.values(r.logits).map((l) => l.maxRef))).toBeGreaterThan(1e-2);
  console.log(`worst per module: ${JSON.stringify(byModule(r))}; loss rel ${r.loss.relDiff.toExponential(2)}; logits ` +
    `${JSON.stringify(Object.fromEntries(Object.entries(r.logits).map(([h, l]) => [h, l.maxAbs])))}`);
}

describe.skipIf(!!why || !gpu)('PyTorch float64 agreement', () => {
  test('a DHEN with every module type: logits, loss, every gradient, two Adam steps', async () => {
    const model = new DhenModel(EVERY_MODULE, gpu!);
    try {
      const r = await crosscheckTorch(model, { batch: 16 });
      expectAgreement(r, ['primary', 'aux0', 'aux1']);
      const modules = new Set(r.grads.map((g) => g.module));
      for (const m of ['embeddings', 'dense', 'fm', 'compress', 'cross', 'dot', 'attention', 'layer', 'heads']) expect(modules).toContain(m);
      expect(r.grads.length).toBe(model.namedParameters().length);
    } finally {
      model.dispose();
    }
  });

  test.each(ONE_TYPE)('%s alone', async (name, layers) => {
    const model = new DhenModel({ ...EVERY_MODULE, layers, auxHeads: ['aux0'], auxHead: undefined }, gpu!);
    try {
      const r = await crosscheckTorch(model, { batch: 16, seed: 5 });
      expectAgreement(r, ['primary', 'aux0']);
      const worst = Math.max(...Object.values(r.logits).map((l) => l.maxAbs));
      console.log(`| ${name} | ${worst.toExponential(1)} | ${r.loss.relDiff.toExponential(1)} | ${r.worst.gradient.scaled.toExponential(1)} ` +
        `(${r.worst.gradient.name}) | ${r.worst.adam.maxAbs.toExponential(1)} |`);
    } finally {
      model.dispose();
    }
  });

  test("the experiment's default model (planted world, generated Y, C2AL heads)", async () => {
    const data = syntheticClicks({ world: 'planted', rows: 200, seed: 1 });
    const model = new DhenModel(modelConfig(data, { aux: [{ cohort: 2, lambda: 1 }, { cohort: 4, lambda: 1 }] }), gpu!);
    try {
      expectAgreement(await crosscheckTorch(model, { batch: 64, seed: 2 }), ['primary', 'aux0', 'aux1']);
    } finally {
      model.dispose();
    }
  });

  test('a checkpoint trained 50 steps here gives the same test-split NE in PyTorch (within 1e-4)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'c2al-torch-ne-'));
    const { csv, schema } = plantedCsv(dir, 4000);
    const data = ['--data', `csv:${csv}`, '--schema', schema];
    const trained = await c2al('train', '--method', 'c2al', ...data, '--aux-cohorts', 'cohort=35-44,cohort=55+', '--steps', '50', '--batch', '256',
      '--out', join(dir, 'run'), '--json');
    expect(trained.code, trained.stderr).toBe(0);
    const exported = await c2al('export', '--checkpoint', join(dir, 'run', 'c2al-train'), '--torch', join(dir, 'torch'));
    expect(exported.code, exported.stderr).toBe(0);
    const ours = await c2al('evaluate', '--checkpoint', join(dir, 'run', 'c2al-train'), ...data, '--json');
    const theirs = await run(pythonPath(), [join(dir, 'torch', 'train_c2al.py'), '--model', join(dir, 'torch'), '--data', csv, '--schema', schema,
      '--evaluate']);
    expect(theirs.code, theirs.stderr).toBe(0);
    const o = JSON.parse(ours.stdout) as { rows: number; models: { cohorts: { name: string; ne: { mean: number } }[] }[] };
    const t = JSON.parse(theirs.stdout) as { rows: number; ne: number; cohorts: { name: string; ne: number }[] };
    expect(t.rows).toBe(o.rows);
    const cohorts = o.models[0]!.cohorts;
    expect(Math.abs(t.ne - cohorts[0]!.ne.mean)).toBeLessThan(1e-4);
    for (const c of t.cohorts) expect(Math.abs(c.ne - cohorts.find((x) => x.name === c.name)!.ne.mean), c.name).toBeLessThan(1e-4);
    console.log(`test-split NE: ours ${cohorts[0]!.ne.mean}, PyTorch ${t.ne} (|diff| ${Math.abs(t.ne - cohorts[0]!.ne.mean).toExponential(2)})`);
  });
});
