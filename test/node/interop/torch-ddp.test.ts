/**
 * DDP is real: train_c2al.py under `torchrun --nproc_per_node 2` (gloo, CPU) for a few steps on a small
 * CSV ends with identical parameters on both ranks, and its loss at every step matches a single process
 * on the same global batches. In float64, so "matches" can be tight (1e-10 per step).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { CpuBackend } from '../../../src/backend/cpu.js';
import { loadCsv } from '../../../src/data/csv.js';
import { decodeSafetensors, saveCheckpoint } from '../../../src/nn/checkpoint.js';
import { DhenModel } from '../../../src/nn/dhen.js';
import { exportTorch } from '../../../src/interop/torch-export.js';
import { pythonPath, torchWhyNot } from '../../../src/interop/python.js';
import { modelConfig } from '../../../src/train/model-config.js';
import { plantedCsv, run } from '../../support/cli.js';

const why = torchWhyNot();
if (why) console.warn(`torchrun DDP test skipped: ${why}`);

interface Summary { steps: number; world: number; losses: number[]; rankMaxDiff: number; aux: string[] }

test.skipIf(!!why)('torchrun --nproc_per_node 2 (gloo): identical ranks, the loss of one process on the same global batches', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'c2al-ddp-'));
  const { csv, schema } = plantedCsv(dir, 2000);
  const data = await loadCsv(csv, schema);
  const config = modelConfig(data, { dim: 8, aux: [{ cohort: 2, lambda: 1 }, { cohort: 4, lambda: 1 }] });
  const model = new DhenModel(config, new CpuBackend('f32'));
  await saveCheckpoint(join(dir, 'ckpt'), model, { config });
  model.dispose();
  const torchDir = join(dir, 'torch');
  exportTorch(join(dir, 'ckpt'), torchDir);
  const script = join(torchDir, 'train_c2al.py');
  const args = (out: string) => [script, '--data', csv, '--schema', schema, '--cohorts', '35-44,55+', '--steps', '5', '--batch', '64', '--lr', '0.01',
    '--weight-decay', '0.01', '--embedding-l2', '1e-4', '--dtype', 'float64', '--threads', '1', '--log-every', '0', '--out', join(dir, out)];
  const single = await run(pythonPath(), args('single'));
  expect(single.code, single.stderr).toBe(0);
  // --redirects/--tee 2: torch 1.13's launcher cannot parse its default "0" on Python 3.11 (Debian bookworm's pairing).
  const ddp = await run(pythonPath(), ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '--redirects', '2', '--tee', '2',
    ...args('ddp')]);
  expect(ddp.code, ddp.stderr).toBe(0);
  const read = (out: string): Summary => JSON.parse(readFileSync(join(dir, out, 'train.json'), 'utf8')) as Summary;
  const one = read('single'), two = read('ddp');
  expect(one.world).toBe(1);
  expect(two.world).toBe(2);
  expect(two.steps).toBe(5);
  expect(two.aux).toEqual(['cohort=35-44', 'cohort=55+']);
  expect(two.rankMaxDiff).toBe(0);
  const worst = Math.max(...one.losses.map((l, i) => Math.abs(l - two.losses[i]!)));
  expect(worst).toBeLessThan(1e-10);
  expect(one.losses[0]).not.toBe(one.losses[4]); // the weights moved
  const weights = (out: string) => decodeSafetensors(readFileSync(join(dir, out, 'model.safetensors'))).tensors;
  const a = weights('single'), b = weights('ddp');
  let paramWorst = 0;
  for (const [name, t] of a) t.data.forEach((v, i) => { paramWorst = Math.max(paramWorst, Math.abs(v - b.get(name)!.data[i]!)); });
  expect(paramWorst).toBeLessThan(1e-6);
  console.log(`DDP (2 ranks) vs one process over 5 steps: worst loss difference ${worst.toExponential(2)}, worst weight difference ` +
    `${paramWorst.toExponential(2)}, ranks differ by ${two.rankMaxDiff}; losses ${two.losses.map((l) => l.toFixed(6)).join(', ')}`);
});
