/**
 * `c2al export --torch` and `c2al import --torch` as users run them: what export writes, and the bad
 * inputs both refuse with one line naming the path, module or tensor (exit 2), writing nothing.
 * Runs without torch (only the last test needs it).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { CpuBackend } from '../../../src/backend/cpu.js';
import { decodeSafetensors, encodeSafetensors, saveCheckpoint, type TensorData } from '../../../src/nn/checkpoint.js';
import { DhenModel, type DhenConfig } from '../../../src/nn/dhen.js';
import { pythonPath, torchWhyNot } from '../../../src/interop/python.js';
import { c2al, run } from '../../support/cli.js';

const CONFIG: DhenConfig = {
  fields: [{ name: 'user', vocab: 12 }, { name: 'item', vocab: 7 }], dim: 4, seed: 2,
  layers: [{ modules: [{ type: 'fm', k: 2 }, { type: 'cross', layers: 1 }] }], head: { hidden: [8] }, auxHeads: ['aux0'],
};

let dir = '', checkpoint = '';
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'c2al-torch-files-'));
  checkpoint = join(dir, 'ckpt');
  const model = new DhenModel(CONFIG, new CpuBackend('f32'));
  await saveCheckpoint(checkpoint, model, { config: CONFIG });
  model.dispose();
});

const oneLine = (stderr: string): void => {
  expect(stderr.split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\s+at\s/);
};

describe('c2al export --torch', () => {
  test('writes model.py, train_c2al.py, crosscheck.py, the checkpoint and a README', async () => {
    const out = join(dir, 'exported');
    const r = await c2al('export', '--checkpoint', checkpoint, '--torch', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['README.md', 'config.json', 'crosscheck.py', 'model.py', 'model.safetensors', 'train_c2al.py']);
    expect(readFileSync(join(out, 'model.safetensors'))).toEqual(readFileSync(join(checkpoint, 'model.safetensors')));
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(/torchrun --standalone --nproc_per_node N train_c2al\.py/);
    expect(JSON.parse(r.stdout).tensors).toBe(decodeSafetensors(readFileSync(join(checkpoint, 'model.safetensors'))).tensors.size);
  });

  test('a folder that is not a checkpoint, or an unknown module type, is refused and nothing is written', async () => {
    const out = join(dir, 'never');
    const notCheckpoint = join(dir, 'empty');
    mkdirSync(notCheckpoint);
    const a = await c2al('export', '--checkpoint', notCheckpoint, '--torch', out);
    expect(a.code).toBe(2);
    oneLine(a.stderr);
    expect(a.stderr).toContain(`${notCheckpoint}: not a checkpoint folder (no config.json`);
    const b = await c2al('export', '--checkpoint', join(dir, 'missing'), '--torch', out);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('no such folder');
    const odd = join(dir, 'odd');
    mkdirSync(odd);
    writeFileSync(join(odd, 'config.json'), JSON.stringify({ ...CONFIG, layers: [{ modules: [{ type: 'moe', experts: 4 }] }] }));
    writeFileSync(join(odd, 'model.safetensors'), readFileSync(join(checkpoint, 'model.safetensors')));
    const c = await c2al('export', '--checkpoint', odd, '--torch', out);
    expect(c.code).toBe(2);
    oneLine(c.stderr);
    expect(c.stderr).toMatch(/config\.json: layers\[0\]\.modules\[0\]\.type 'moe' is not one of fm, linearCompress, cross, dot, attention/);
    writeFileSync(join(odd, 'config.json'), JSON.stringify(CONFIG));
    writeFileSync(join(odd, 'model.safetensors'), 'not safetensors at all');
    const d = await c2al('export', '--checkpoint', odd, '--torch', out);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain(join(odd, 'model.safetensors'));
    expect(existsSync(out)).toBe(false);
    const e = await c2al('export', '--checkpoint', checkpoint);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain('--torch OUT_DIR');
  });
});

describe('c2al import --torch', () => {
  const tensorsOf = (): Map<string, TensorData> => decodeSafetensors(readFileSync(join(checkpoint, 'model.safetensors'))).tensors;
  const write = (name: string, tensors: Map<string, TensorData>): string => {
    const path = join(dir, name);
    writeFileSync(path, encodeSafetensors(tensors));
    return path;
  };

  test('matching weights become a checkpoint folder; missing, extra, mis-shaped tensors and non-safetensors files are named', async () => {
    const config = join(checkpoint, 'config.json');
    const ok = await c2al('import', '--torch', write('ok.safetensors', tensorsOf()), '--config', config, '--out', join(dir, 'imported'), '--json');
    expect(ok.code, ok.stderr).toBe(0);
    expect(readdirSync(join(dir, 'imported')).sort()).toEqual(['config.json', 'model.safetensors']);
    const back = decodeSafetensors(readFileSync(join(dir, 'imported', 'model.safetensors'))).tensors;
    for (const [name, t] of tensorsOf()) expect(back.get(name)!.data, name).toEqual(t.data);

    const missing = tensorsOf();
    missing.delete('layers.0.modules.0.fm.y');
    const extra = tensorsOf();
    extra.set('heads.aux9.layers.0.bias', { shape: [1], data: new Float32Array(1) });
    const misShaped = tensorsOf();
    misShaped.set('heads.primary.layers.0.bias', { shape: [9], data: new Float32Array(9) });
    const cases: [string, string][] = [
      [write('missing.safetensors', missing), "missing tensor 'layers.0.modules.0.fm.y' (expected [2, 2])"],
      [write('extra.safetensors', extra), "unexpected tensor 'heads.aux9.layers.0.bias'"],
      [write('shape.safetensors', misShaped), "tensor 'heads.primary.layers.0.bias' has shape [9], expected [8]"],
    ];
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'PK\u0003\u0004 a zip file');
    cases.push([junk, 'exceeds the file']);
    for (const [i, [file, message]] of cases.entries()) {
      const out = join(dir, `never-${i}`);
      const r = await c2al('import', '--torch', file, '--config', config, '--out', out);
      expect(r.code, file).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain(file);
      expect(existsSync(out)).toBe(false);
    }
  });

  test.skipIf(!!torchWhyNot())('weights written by PyTorch (model.py) import and keep their values', async () => {
    const out = join(dir, 'from-torch');
    const torchDir = join(dir, 'exported-for-import');
    expect((await c2al('export', '--checkpoint', checkpoint, '--torch', torchDir)).code).toBe(0);
    const script = ['import json, sys, torch', `sys.path.insert(0, ${JSON.stringify(torchDir)})`, 'from model import DhenModel',
      `m = DhenModel(json.load(open(${JSON.stringify(join(torchDir, 'config.json'))})))`, 'torch.manual_seed(5)',
      `m.save_safetensors(${JSON.stringify(join(torchDir, 'fresh.safetensors'))})`].join('\n');
    const py = await run(pythonPath(), ['-c', script]);
    expect(py.code, py.stderr).toBe(0);
    const r = await c2al('import', '--torch', join(torchDir, 'fresh.safetensors'), '--config', join(torchDir, 'config.json'), '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const theirs = decodeSafetensors(readFileSync(join(torchDir, 'fresh.safetensors'))).tensors;
    const ours = decodeSafetensors(readFileSync(join(out, 'model.safetensors'))).tensors;
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [name, t] of theirs) expect(ours.get(name)!.data, name).toEqual(t.data);
  });
});

describe('c2al crosscheck --torch', () => {
  test.skipIf(!!torchWhyNot())("prints the worst parameter and agrees on a user's config", async () => {
    const r = await c2al('crosscheck', '--torch', '--config', join(checkpoint, 'config.json'), '--batch', '8');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/worst parameter: \S+ \(gradient [\d.e+-]+ scaled/);
    expect(r.stdout).toMatch(/per module type:[\s\S]*fm[\s\S]*cross/);
    expect(r.stdout).toContain('agree within the tolerances');
  });

  test('refuses a run without --torch, a value after it, or no model', async () => {
    for (const [args, message] of [
      [['--config', join(checkpoint, 'config.json')], 'crosscheck needs --torch'],
      [['--torch', 'x', '--config', join(checkpoint, 'config.json')], "--torch takes no value, got 'x'"],
    ] as const) {
      const r = await c2al('crosscheck', ...args);
      expect(r.code).toBe(2);
      oneLine(r.stderr);
      expect(r.stderr).toContain(message);
    }
  });
});
