import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { CheckpointError, CpuBackend } from '../../src/index.js';
import { gpu } from '../support/gpu.js';
import { weightsOf } from '../support/util.js';

const backend = gpu ?? new CpuBackend('f32');
const model = (seed: number) => new c.MLP([3, 4, 2], { backend, seed, layerNorm: true });

describe('safetensors', () => {
  test('encode → decode → restore is bit-exact; the header follows the safetensors layout', async () => {
    const a = model(1), b = model(2);
    const bytes = await c.encodeModule(a, { note: 'test' });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
    expect(header['layers.0.weight']).toEqual({ dtype: 'F32', shape: [3, 4], data_offsets: [0, 48] });
    expect(header.__metadata__).toMatchObject({ note: 'test', format: 'c2al', version: '1' });
    const { tensors } = c.decodeSafetensors(bytes);
    c.restore(b.namedParameters(), tensors);
    expect(new Float32Array(await weightsOf(b))).toEqual(new Float32Array(await weightsOf(a)));
    a.dispose();
    b.dispose();
  });

  test('truncated, bit-flipped, wrong-version, mis-shaped and incomplete checkpoints are refused and change nothing', async () => {
    const a = model(1), b = model(2);
    const before = await weightsOf(b);
    const bytes = await c.encodeModule(a);
    expect(() => c.decodeSafetensors(bytes.subarray(0, bytes.length - 5))).toThrow(/checksum mismatch|truncated|not contiguous/);
    expect(() => c.decodeSafetensors(bytes.subarray(0, 6))).toThrow(/too short/);
    const flipped = bytes.slice();
    flipped[flipped.length - 3]! ^= 0x10;
    expect(() => c.decodeSafetensors(flipped, 'model.safetensors')).toThrow(/model.safetensors: checksum mismatch/);
    const other = await c.encodeModule(new c.MLP([3, 5, 2], { backend, seed: 1 }));
    const { tensors } = c.decodeSafetensors(other);
    let err: unknown;
    try { c.restore(b.namedParameters(), tensors, 'other.safetensors'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(/tensor 'layers.0.weight' has shape \[3, 5\], expected \[3, 4\]/);
    expect((err as Error).message).toMatch(/missing tensor 'norms.0.gamma'/);
    expect(new Float32Array(await weightsOf(b))).toEqual(new Float32Array(before));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))));
    const v2 = new TextEncoder().encode(header.replace('"version":"1"', '"version":"9"'));
    const forged = new Uint8Array(bytes.length);
    forged.set(bytes);
    forged.set(v2, 8);
    expect(() => c.decodeSafetensors(forged)).toThrow(/format version 9 is not supported/);
    a.dispose();
    b.dispose();
  });
});
