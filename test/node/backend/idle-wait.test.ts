import { afterEach, describe, expect, test } from 'vitest';
import * as c from '../../../src/index.js';
import { idleWait, MAX_POLL_MS, POLL_COST_MS, POLL_MS, pollIntervalMs, SPIN_MS } from '../../../src/backend/idle-wait.js';
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

  test('the sleep between polls grows as √(2 · POLL_COST_MS · elapsed), from POLL_MS up to MAX_POLL_MS (fixed numbers)', () => {
    expect([POLL_MS, MAX_POLL_MS, POLL_COST_MS]).toEqual([1, 16, 0.2]);
    expect([0, 1, 2.5, 10, 40, 250, 640, 1e4].map(pollIntervalMs)).toEqual([1, 1, 1, 2, 4, 10, 16, 16]);
  });

  test('a long wait polls about √(2 · wait / POLL_COST_MS) times, not once per POLL_MS, and overruns its work by at most MAX_POLL_MS', async () => {
    const poller = dawnLikePoller();
    let spun = 0;
    const t0 = performance.now();
    await idleWait(() => new Promise<void>((resolve) => {
      setTimeout(() => { spun = poller.polls(); }, 5); // the spin window's polls (hundreds on a fast machine) are over by then
      setTimeout(resolve, 600);
    }));
    const waited = performance.now() - t0, slept = poller.polls() - spun;
    poller.stop();
    // 600 ms polled every POLL_MS would be ~600 polls; the growing sleep makes ~78.
    expect(slept).toBeLessThan(2 * Math.sqrt((2 * waited) / POLL_COST_MS) + 10);
    expect(waited).toBeLessThan(600 + MAX_POLL_MS + 60); // slack for timers on a loaded machine
  });

  test('a short wait begun during a long one is polled at the short wait\'s pace', async () => {
    const long = idleWait(() => sleep(500));
    await sleep(300); // the long wait now sleeps ~11 ms between polls
    const short = idleWait(() => sleep(30));
    const poller = dawnLikePoller();
    await short;
    const during = poller.polls();
    poller.stop();
    await long;
    // Counted from the long wait's start, 30 ms would see 2–3 polls; counted from its own, ~17 plus its spin window's.
    expect(during).toBeGreaterThan(10);
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
