/**
 * Checkpoint faults: any single bit flip, any truncation, random garbage and mutated headers are refused
 * with a CheckpointError or (a flip that changes nothing the loader uses) restore the exact weights —
 * never another exception, never different weights. (A writer killed mid-write: test/node/nn/checkpoint-kill.test.ts.)
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { CheckpointError, CpuBackend } from '../../src/index.js';
import { project } from '../support/gpu.js';
import { weightsOf } from '../support/util.js';

const backend = new CpuBackend('f32');
const runs = project === 'browser' ? 100 : 400;
const faults = { injected: 0, refused: 0, harmless: 0 };
afterAll(() => console.log(`[c2al] checkpoint faults injected (${project}): ${faults.injected} (${faults.refused} refused, ${faults.harmless} harmless)`));

const weights = async (m: c.Module) => new Float32Array(await weightsOf(m));

describe('corrupted checkpoints', () => {
  const source = new c.MLP([3, 4, 2], { backend, seed: 1, layerNorm: true });
  const target = new c.MLP([3, 4, 2], { backend, seed: 2, layerNorm: true });

  /** Decodes and restores `bytes` into target: a CheckpointError (target unchanged) or exactly source's weights. */
  async function loadOrRefuse(bytes: Uint8Array, what: string): Promise<void> {
    faults.injected++;
    const before = await weights(target);
    try {
      c.restore(target.namedParameters(), c.decodeSafetensors(bytes, 'model.safetensors').tensors, 'model.safetensors');
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw new Error(`${what}: threw ${(e as Error).name}: ${(e as Error).message}`);
      expect(await weights(target), `${what}: weights changed by a refused load`).toEqual(before);
      faults.refused++;
      return;
    }
    expect(await weights(target), `${what}: loaded, so the weights must be the saved ones`).toEqual(await weights(source));
    faults.harmless++;
    c.restore(target.namedParameters(), c.decodeSafetensors(other).tensors); // back to target's own weights
  }

  let original: Uint8Array, other: Uint8Array;
  beforeAll(async () => {
    original = await c.encodeModule(source, { note: 'x' });
    other = await c.encodeModule(target);
  });

  test('any single bit flip is refused, or loads the exact saved weights', async () => {
    await fc.assert(fc.asyncProperty(fc.nat({ max: original.length * 8 - 1 }), async (bit) => {
      const bytes = original.slice();
      bytes[bit >> 3]! ^= 1 << (bit & 7);
      await loadOrRefuse(bytes, `bit ${bit} (byte ${bit >> 3} of ${original.length})`);
    }), { numRuns: runs });
  });

  test('every truncation is refused', async () => {
    for (let n = 0; n < original.length; n += project === 'browser' ? 7 : 1) {
      faults.injected++;
      expect(() => c.decodeSafetensors(original.subarray(0, n))).toThrow(CheckpointError);
      faults.refused++;
    }
  });

  test('random bytes, a random header, and a valid header over random data are refused', async () => {
    const head = Number(new DataView(original.buffer).getBigUint64(0, true));
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 200 }), fc.uint8Array({ minLength: 1, maxLength: 64 }), async (garbage, json, data) => {
      await loadOrRefuse(garbage, 'random bytes');
      const text = new TextEncoder().encode(json);
      const withHeader = new Uint8Array(8 + text.length + data.length);
      new DataView(withHeader.buffer).setBigUint64(0, BigInt(text.length), true);
      withHeader.set(text, 8);
      withHeader.set(data, 8 + text.length);
      await loadOrRefuse(withHeader, `header ${JSON.stringify(json)}`);
      const spliced = new Uint8Array(8 + head + data.length);
      spliced.set(original.subarray(0, 8 + head));
      spliced.set(data, 8 + head);
      await loadOrRefuse(spliced, 'the real header over random data');
    }), { numRuns: Math.ceil(runs / 4) });
  });

  test('headers with edited entries (offsets, shapes, dtypes, version, names) are refused', async () => {
    const headLen = Number(new DataView(original.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(original.subarray(8, 8 + headLen))) as Record<string, Record<string, unknown>>;
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    const edits: [string, (h: Record<string, Record<string, unknown>>) => void][] = [
      ['swap two offsets', (h) => { const a = h[names[0]!]!, b = h[names[1]!]!; [a.data_offsets, b.data_offsets] = [b.data_offsets, a.data_offsets]; }],
      ['shape with the same byte count', (h) => { h[names[0]!]!.shape = [4, 3]; }],
      ['dtype F16', (h) => { h[names[0]!]!.dtype = 'F16'; }],
      ['version 2', (h) => { h.__metadata__!.version = '2'; }],
      ['a renamed tensor', (h) => { h.renamed = h[names[0]!]!; delete h[names[0]!]; }],
      ['negative offset', (h) => { h[names[0]!]!.data_offsets = [-4, 44]; }],
      ['shape with a string', (h) => { h[names[0]!]!.shape = ['x', 4]; }],
      ['negative dimensions with the right element count', (h) => { h[names[0]!]!.shape = [-3, -4]; }],
      ['fractional dimensions with the right element count', (h) => { h[names[0]!]!.shape = [1.5, 8]; }],
      ['checksum of other data', (h) => { h.__metadata__!.crc32 = '12345'; }],
    ];
    for (const [what, edit] of edits) {
      const h = structuredClone(header);
      edit(h);
      let json = JSON.stringify(h);
      json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
      const text = new TextEncoder().encode(json);
      const bytes = new Uint8Array(8 + text.length + original.length - 8 - headLen);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
      bytes.set(text, 8);
      bytes.set(original.subarray(8 + headLen), 8 + text.length);
      faults.injected++;
      let err: unknown;
      try { c.decodeSafetensors(bytes); } catch (e) { err = e; }
      if (what.includes('dimensions')) expect((err as Error)?.message, what).toMatch(/dimensions must be non-negative integers/);
      // A header that decodes must still be refused by restore (a [4, 3] tensor for a [3, 4] weight).
      if (!err) try { c.restore(target.namedParameters(), c.decodeSafetensors(bytes).tensors); } catch (e) { err = e; }
      expect(err, what).toBeInstanceOf(CheckpointError);
      faults.refused++;
    }
  });
});

