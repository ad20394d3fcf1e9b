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
 * 1 ms timer instead, so the thread sleeps between polls; a short wait (a small readback) still
 * settles at spin speed. The global is swapped only while at least one wait is pending (overlapping
 * waits share one swap) and restored when the last settles, whether it resolves or throws. Other code's
 * `setImmediate` callbacks during a wait run on that timer too (later, never out of order among
 * themselves); `clearImmediate` cancels them. Where there is no `setImmediate` (a browser, whose WebGPU
 * does not spin) the wait is the plain promise.
 */

/** How long a wait polls back to back before it sleeps between polls. */
export const SPIN_MS = 0.5;
/** The sleep between polls once a wait has spun SPIN_MS. */
export const POLL_MS = 1;

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
  if (performance.now() - since < SPIN_MS) return native.set(callback, ...args);
  const timer = setTimeout(callback, POLL_MS, ...args);
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
  if (pending++ === 0) {
    native = { set: globals.setImmediate, clear: globals.clearImmediate };
    since = performance.now();
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
