/**
 * A writer SIGKILLed in the middle of overwriting a checkpoint leaves the previous file intact (Node:
 * child processes and a file system; the fault-injection half is test/nn/checkpoint-faults.test.ts).
 */
import { describe, expect, test } from 'vitest';
import * as c from '../../../src/index.js';
import { CpuBackend } from '../../../src/index.js';

const backend = new CpuBackend('f32');
let kills = 0;

describe('a writer killed mid-write', () => {
  test('SIGKILL while overwriting model.safetensors leaves the previous checkpoint loadable and bit-exact', async () => {
    const { mkdtemp, readdir, readFile, rm, stat } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const writer = fileURLToPath(new URL('../../support/crash-writer.ts', import.meta.url));
    const dir = await mkdtemp(`${tmpdir()}/c2al-crash-`);
    const small = new c.MLP([512, 2048, 2], { backend, seed: 3 }); // same shapes as the writer's, other weights
    await c.saveCheckpoint(dir, small, { config: { sizes: [512, 2048, 2] } });
    const good = await readFile(`${dir}/model.safetensors`);

    /** Starts the writer; resolves with the temp files present when it was killed and its exit signal. */
    const killWhen = (mode: 'stall' | 'race', line: string, delayMs: number) => new Promise<{ signal: string | null; code: number | null; temps: string[] }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, mode], { stdio: ['ignore', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('../../..', import.meta.url)) });
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
    console.log(`[c2al] checkpoint writer kills mid-write: ${kills}`);
    small.dispose();
    await rm(dir, { recursive: true, force: true });
  });
});
