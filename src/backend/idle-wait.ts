/**
 * Waiting on the GPU without spinning a core.
 *
 * Dawn's Node binding (npm `webgpu`) drives its pending promises by re-queuing `setImmediate` until they
 * settle, so the main thread spins at 100% for the whole of every wait. On a CPU adapter (lavapipe,
 * SwiftShader) the "GPU" is the same cores, and the spin takes one of them from the kernels: on a
 * 2-core machine the experiment's training step took 72–75 ms waiting the binding's way and 42–47 ms
 * waiting here (scratch run, same process, alternated).
 *
 * `idleWait` gives the binding a `setImmediate` that, after the first SPIN_MS of a wait, schedules on a
 * timer instead, so the thread sleeps between polls; a short wait (a small readback) still settles at
 * spin speed. The sleep grows with the wait (pollIntervalMs): every poll wakes the main thread, which on a
 * CPU adapter takes a core from a kernel for the poll's length, and lavapipe splits a dispatch's
 * workgroups evenly between its threads, so the whole dispatch waits for the one the poll delayed.
 * Against a fixed 1 ms, alternated in one process: the reference's 0.5–0.8 s step 1.005× and 1.031× faster
 * paired (40 and 30 pairs, 95% intervals ±4.5–5.5%), 2–15% by the medians of shorter runs, with ~9× fewer
 * polls; the experiment's 40 ms step did not move. The interval counts from the newest pending
 * wait's start, so a short readback begun during a long wait is still polled often.
 * The global is swapped only while at least one wait is pending (overlapping
 * waits share one swap) and restored when the last settles, whether it resolves or throws. Other code's
 * `setImmediate` callbacks during a wait run on that timer too (later, never out of order among
 * themselves); `clearImmediate` cancels them. Where there is no `setImmediate` (a browser, whose WebGPU
 * does not spin) the wait is the plain promise.
 */

/** How long a wait polls back to back before it sleeps between polls. */
export const SPIN_MS = 0.5;
/** The shortest sleep between polls, once a wait has spun SPIN_MS. */
export const POLL_MS = 1;
/** The longest sleep between polls: what a wait may overrun its work by. */
export const MAX_POLL_MS = 16;
/** What one poll costs the kernels it interrupts, in ms (measured on lavapipe, 2 cores: 0.1–0.3). */
export const POLL_COST_MS = 0.2;

/**
 * The sleep before the next poll of a wait that has lasted `elapsedMs`. A wait of W ms polled every P ms costs
 * W/P polls and overruns its work by P/2 on average; P = √(2·POLL_COST_MS·W) minimises the sum. W is not
 * known ahead, so the elapsed time stands in for it: short waits poll often, long ones rarely.
 */
export function pollIntervalMs(elapsedMs: number): number {
  return Math.min(MAX_POLL_MS, Math.max(POLL_MS, Math.sqrt(2 * POLL_COST_MS * elapsedMs)));
}

type Immediate = (callback: (...args: unknown[]) => void, ...args: unknown[]) => unknown;
type ClearImmediate = (handle: unknown) => void;
interface ImmediateGlobals { setImmediate?: Immediate; clearImmediate?: ClearImmediate }

const globals = globalThis as unknown as ImmediateGlobals;
let pending = 0;
let since = 0;
let native: { set: Immediate; clear: ClearImmediate } | null = null;
const timers = new WeakSet<object>();

function patientImmediate(callback: (...args: unknown[]) => void, ...args: unknown[]): unknown {
  // A reference kept past the wait (native is back in place) schedules the native way.
  if (!native) return globals.setImmediate!(callback, ...args);
  const elapsed = performance.now() - since;
  if (elapsed < SPIN_MS) return native.set(callback, ...args);
  const timer = setTimeout(callback, pollIntervalMs(elapsed), ...args);
  timers.add(timer);
  return timer;
}

function patientClear(handle: unknown): void {
  if (typeof handle === 'object' && handle !== null && timers.has(handle)) clearTimeout(handle as ReturnType<typeof setTimeout>);
  else (native?.clear ?? globals.clearImmediate!)(handle);
}

/** Runs `start()` (which begins a Dawn async operation) and awaits it with the main thread asleep between polls. */
export async function idleWait<T>(start: () => Promise<T>): Promise<T> {
  if (typeof globals.setImmediate !== 'function' || typeof globals.clearImmediate !== 'function') return start();
  since = performance.now();
  if (pending++ === 0) {
    native = { set: globals.setImmediate, clear: globals.clearImmediate };
    globals.setImmediate = patientImmediate;
    globals.clearImmediate = patientClear;
  }
  try {
    return await start();
  } finally {
    if (--pending === 0 && native) {
      globals.setImmediate = native.set;
      globals.clearImmediate = native.clear;
      native = null;
    }
  }
}
