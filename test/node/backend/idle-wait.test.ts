import { afterEach, describe, expect, test } from 'vitest';
import * as c from '../../../src/index.js';
import { idleWait, POLL_MS, SPIN_MS } from '../../../src/backend/idle-wait.js';
import { gpu } from '../../support/gpu.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const nativeSet = globalThis.setImmediate, nativeClear = globalThis.clearImmediate;

/** Re-queues itself through the global setImmediate until stopped, as Dawn's binding drives a pending promise. */
function dawnLikePoller(): { polls: () => number; stop: () => void } {
  let polls = 0, running = true;
  const tick = () => { polls++; if (running) globalThis.setImmediate(tick); };
  globalThis.setImmediate(tick);
  return { polls: () => polls, stop: () => { running = false; } };
}

afterEach(() => {
  expect(globalThis.setImmediate).toBe(nativeSet);
  expect(globalThis.clearImmediate).toBe(nativeClear);
});

describe('idleWait (Node: the binding polls through setImmediate)', () => {
  test('a poller that re-queues itself sleeps between polls during the wait, and spins again after it', async () => {
    const poller = dawnLikePoller();
    const t0 = performance.now();
    await idleWait(() => sleep(60));
    const waited = performance.now() - t0, during = poller.polls();
    await sleep(20);
    const after = poller.polls() - during;
    poller.stop();
    // About one poll per POLL_MS (plus the spin window's) instead of thousands; the native loop afterwards spins.
    expect(during).toBeLessThan(waited / POLL_MS + 200 * SPIN_MS + 10);
    expect(after).toBeGreaterThan(10 * during);
  });

  test('the globals come back when the wait throws, and the error is the promise\'s', async () => {
    await expect(idleWait(() => Promise.reject(new Error('lost device')))).rejects.toThrow('lost device');
    await expect(idleWait(() => { throw new Error('sync throw'); })).rejects.toThrow('sync throw');
  });

  test('overlapping waits share one swap: restored only when the last settles', async () => {
    let swappedWhileSecondPending = false;
    const long = idleWait(() => sleep(40));
    await idleWait(() => sleep(5));
    swappedWhileSecondPending = globalThis.setImmediate !== nativeSet;
    await long;
    expect(swappedWhileSecondPending).toBe(true);
  });

  test('other code\'s callbacks during a wait still run, in order, with their arguments; clearImmediate cancels one', async () => {
    const seen: string[] = [];
    await idleWait(async () => {
      await sleep(2 * SPIN_MS + 1); // past the spin window: these go on the timer
      globalThis.setImmediate((a: string) => seen.push(a), 'first');
      const dropped = globalThis.setImmediate(() => seen.push('cancelled'));
      globalThis.setImmediate((a: string, b: string) => seen.push(a + b), 'sec', 'ond');
      globalThis.clearImmediate(dropped);
      await sleep(10);
    });
    expect(seen).toEqual(['first', 'second']);
  });

  test.skipIf(!gpu)('a GPU wait through the backend polls about once per POLL_MS; the binding\'s own wait spins', async () => {
    const g = gpu!;
    let immediates = 0, timers = 0;
    const countedSet = (...a: Parameters<typeof setImmediate>) => { immediates++; return nativeSet(...a); };
    const nativeTimeout = globalThis.setTimeout;
    const countedTimeout = (...a: Parameters<typeof setTimeout>) => { timers++; return nativeTimeout(...a); };
    const a = c.randomUniform([384, 384], { backend: g, seed: 1 }), b = c.randomUniform([384, 384], { backend: g, seed: 2 });
    const work = () => c.noGrad(() => c.scope(() => { for (let i = 0; i < 12; i++) c.matmul(a, b); }));
    const measure = async (wait: () => Promise<void>) => {
      work();
      g.flush();
      immediates = 0; timers = 0;
      globalThis.setImmediate = countedSet as typeof setImmediate;
      globalThis.setTimeout = countedTimeout as typeof setTimeout;
      const t0 = performance.now();
      try { await wait(); } finally { globalThis.setImmediate = nativeSet; globalThis.setTimeout = nativeTimeout; }
      return { polls: immediates + timers, ms: performance.now() - t0 };
    };
    await measure(() => g.done()); // warm the pipeline
    const ours = await measure(() => g.done());
    const binding = await measure(() => g.device.queue.onSubmittedWorkDone());
    a.dispose(); b.dispose();
    expect(ours.ms).toBeGreaterThan(5); // long enough that the counts mean something
    expect(ours.polls).toBeLessThan(ours.ms / POLL_MS + 200 * SPIN_MS + 10);
    expect(binding.polls / binding.ms).toBeGreaterThan(10 * (ours.polls / ours.ms));
  });
});
