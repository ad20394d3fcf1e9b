/**
 * Checkpoint faults: any single bit flip, any truncation, random garbage and mutated headers are refused
 * with a CheckpointError or (a flip that changes nothing the loader uses) restore the exact weights —
 * never another exception, never different weights. A writer SIGKILLed in the middle of overwriting a
 * checkpoint leaves the previous file intact (Node only: child processes and a file system).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as c from '../src/index.js';
import { CheckpointError, CpuBackend } from '../src/index.js';
import { project } from './gpu.js';

const backend = new CpuBackend('f32');
const runs = project === 'browser' ? 100 : 400;
const faults = { injected: 0, refused: 0, harmless: 0 };
afterAll(() => console.log(`[c2al] checkpoint faults injected (${project}): ${faults.injected} (${faults.refused} refused, ${faults.harmless} harmless); kills mid-write: ${kills}`));
let kills = 0;

const weights = async (m: c.Module) => new Float32Array((await Promise.all(m.parameters().map((p) => p.toArray()))).flat());

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

describe.skipIf(project === 'browser')('a writer killed mid-write (Node: child processes and a file system)', () => {
  test('SIGKILL while overwriting model.safetensors leaves the previous checkpoint loadable and bit-exact', async () => {
    const { mkdtemp, readdir, readFile, rm, stat } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const writer = fileURLToPath(new URL('./helpers/crash-writer.ts', import.meta.url));
    const dir = await mkdtemp(`${tmpdir()}/c2al-crash-`);
    const small = new c.MLP([512, 2048, 2], { backend, seed: 3 }); // same shapes as the writer's, other weights
    await c.saveCheckpoint(dir, small, { config: { sizes: [512, 2048, 2] } });
    const good = await readFile(`${dir}/model.safetensors`);

    /** Starts the writer; resolves with the temp files present when it was killed and its exit signal. */
    const killWhen = (mode: 'stall' | 'race', line: string, delayMs: number) => new Promise<{ signal: string | null; code: number | null; temps: string[] }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, mode], { stdio: ['ignore', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('..', import.meta.url)) });
      let out = '', err = '';
      child.stderr.on('data', (d) => { err += String(d); });
      child.stdout.on('data', (d) => {
        out += String(d);
        if (out.includes(line)) setTimeout(() => child.kill('SIGKILL'), delayMs);
      });
      child.on('error', reject);
      child.on('exit', async (code, signal) => {
        if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`writer exited with ${code}: ${err}`));
        resolve({ signal, code, temps: (await readdir(dir)).filter((f) => f.includes('.tmp-')) });
      });
    });

    const loadsAs = async (expected: Uint8Array | 'either') => {
      const bytes = await readFile(`${dir}/model.safetensors`);
      const m = new c.MLP([512, 2048, 2], { backend, seed: 99 });
      await c.loadCheckpoint(dir, m); // throws on a half-written file
      if (expected !== 'either') expect(Buffer.compare(bytes, expected), 'model.safetensors is the previous file, byte for byte').toBe(0);
      m.dispose();
    };

    // Deterministic: the kill lands while the temp file holds half the new checkpoint.
    const stalled = await killWhen('stall', 'half', 0);
    expect(stalled.signal).toBe('SIGKILL');
    expect(stalled.temps.length, 'the half-written temp file is left beside the checkpoint').toBe(1);
    expect((await stat(`${dir}/${stalled.temps[0]}`)).size).toBeLessThan(good.length);
    await loadsAs(good);
    kills++;
    // Racy: a kill a few milliseconds into a real saveCheckpoint: the old file or the new one, never a mix.
    for (const delay of [1, 5]) {
      const raced = await killWhen('race', 'writing', delay);
      if (raced.signal === 'SIGKILL') kills++;
      await loadsAs('either');
    }
    small.dispose();
    await rm(dir, { recursive: true, force: true });
  });
});
