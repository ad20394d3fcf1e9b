/**
 * The PyTorch interop commands: export (a checkpoint as a PyTorch project), import (weights trained by
 * train_c2al.py back into a checkpoint folder) and crosscheck (our logits, loss, gradients and Adam steps
 * against PyTorch in float64 on the user's model). Node only.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CpuBackend } from '../backend/cpu.js';
import type { WebGpuBackend } from '../backend/webgpu.js';
import { DataError } from '../data/schema.js';
import { CheckpointError } from '../nn/checkpoint.js';
import { DhenModel, type DhenConfig } from '../nn/dhen.js';
import { byModule, crosscheckTorch, disagreements, TOLERANCES } from '../interop/crosscheck.js';
import { torchWhyNot } from '../interop/python.js';
import { exportTorch } from '../interop/torch-export.js';
import { importTorch } from '../interop/torch-import.js';
import { loadModel } from './c2al.js';

export function exportCommand(o: { checkpoint?: string; torch?: string; json: boolean }): number {
  if (!o.checkpoint) throw new DataError('export needs --checkpoint DIR (a checkpoint folder: config.json + model.safetensors)');
  if (!o.torch) throw new DataError('export needs --torch OUT_DIR (where to write model.py, train_c2al.py and the checkpoint)');
  const r = exportTorch(o.checkpoint, o.torch);
  if (o.json) console.log(JSON.stringify({ out: r.out, files: r.files, tensors: r.tensors }));
  else {
    console.log(`exported ${o.checkpoint} (${r.tensors} tensors) to ${r.out}: ${r.files.join(', ')}`);
    console.log(`  python3 ${join(r.out, 'train_c2al.py')} --data FILE.csv --schema schema.json --out trained/` +
      `${r.config.auxHeads?.length ? ' --cohorts HEAD,TAIL' : ''}   (torchrun --nproc_per_node N … for DDP; ${join(r.out, 'README.md')})`);
  }
  return 0;
}

export async function importCommand(o: { torch?: string; config?: string; out?: string; json: boolean }): Promise<number> {
  if (!o.torch) throw new DataError('import needs --torch FILE.safetensors (weights written by train_c2al.py)');
  if (!o.config) throw new DataError('import needs --config config.json (the model the weights belong to)');
  const out = o.out ?? `runs/import-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  // Checking names and shapes and re-saving needs no GPU: the CPU backend holds the weights.
  const r = await importTorch(o.torch, o.config, out, new CpuBackend('f32'));
  if (o.json) console.log(JSON.stringify(r));
  else console.log(`imported ${o.torch}: ${r.tensors} tensors (${r.parameters} parameters) match ${o.config}; checkpoint folder ${out}`);
  return 0;
}

export async function crosscheckCommand(gpu: WebGpuBackend, o: { checkpoint?: string; config?: string; batch?: number; json: boolean }): Promise<number> {
  const why = torchWhyNot();
  if (why) throw new DataError(`crosscheck --torch: ${why}`);
  let model: DhenModel;
  if (o.checkpoint) model = await loadModel(o.checkpoint, gpu);
  else if (o.config) {
    let config: DhenConfig;
    try {
      config = JSON.parse(readFileSync(o.config, 'utf8')) as DhenConfig;
    } catch (e) {
      throw new CheckpointError(`${o.config}: ${(e as Error).message.split('\n')[0]}`);
    }
    model = new DhenModel(config, gpu);
  } else throw new DataError('crosscheck --torch needs --checkpoint DIR or --config config.json (the model to check)');
  try {
    const r = await crosscheckTorch(model, { batch: o.batch });
    const failed = disagreements(r);
    if (o.json) console.log(JSON.stringify({ ...r, byModule: byModule(r), tolerances: TOLERANCES, agree: failed.length === 0, failed }));
    else {
      console.log(`${model.backend === gpu ? gpu.description : 'cpu'} (float32) against PyTorch ${r.torch} (float64), two training steps on ` +
        `batches of ${o.batch ?? 16}:`);
      for (const [h, l] of Object.entries(r.logits)) {
        console.log(`  logits ${h.padEnd(10)} worst ${l.maxAbs.toExponential(2)} (largest |logit| ${l.maxRef.toFixed(3)})`);
      }
      console.log(`  loss              ${r.loss.ours.toPrecision(9)} vs ${r.loss.ref.toPrecision(9)} (relative ${r.loss.relDiff.toExponential(2)})`);
      console.log('  per module type:  worst gradient (scaled by its tensor\'s largest), worst weight after two Adam steps');
      for (const [m, d] of Object.entries(byModule(r))) console.log(`    ${m.padEnd(12)} ${d.gradScaled.toExponential(2)}  ${d.adamAbs.toExponential(2)}`);
      const w = r.worst.gradient;
      console.log(`  worst parameter: ${w.name} (gradient ${w.scaled.toExponential(2)} scaled, ${w.maxAbs.toExponential(2)} absolute)`);
      console.log(failed.length ? `DISAGREE beyond the tolerances (${JSON.stringify(TOLERANCES)}):\n  ${failed.join('\n  ')}`
        : `agree within the tolerances (logits ${TOLERANCES.logits}, loss ${TOLERANCES.loss}, gradients ${TOLERANCES.gradient}, Adam ${TOLERANCES.adam})`);
    }
    return failed.length ? 1 : 0;
  } finally {
    model.dispose();
  }
}
