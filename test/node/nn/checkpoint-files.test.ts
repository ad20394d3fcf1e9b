/** Checkpoints on a file system (Node): atomic writes, bit-exact restores, refused damage. */
import { expect, test } from 'vitest';
import * as c from '../../../src/index.js';
import { CheckpointError, CpuBackend } from '../../../src/index.js';
import { gpu } from '../../support/gpu.js';
import { weightsOf } from '../../support/util.js';

const backend = gpu ?? new CpuBackend('f32');
const model = (seed: number) => new c.MLP([3, 4, 2], { backend, seed, layerNorm: true });

  test('saveCheckpoint writes atomically; loadCheckpoint restores bit-exactly', async () => {
    const { mkdtemp, readdir, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/c2al-ckpt-`);
    const a = model(1), b = model(2);
    await c.saveCheckpoint(dir, a, { config: { sizes: [3, 4, 2] } });
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors']);
    await c.loadCheckpoint(dir, b);
    expect(new Float32Array(await weightsOf(b))).toEqual(new Float32Array(await weightsOf(a)));
    await writeFile(`${dir}/model.safetensors`, new Uint8Array([1, 2, 3]));
    await expect(c.loadCheckpoint(dir, b)).rejects.toThrow(/too short/);
    await expect(c.loadCheckpoint(`${dir}/nope`, b)).rejects.toThrow(CheckpointError);
    a.dispose();
    b.dispose();
  });
