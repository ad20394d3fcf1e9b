/** Test helpers: seeded data and an absolute + relative closeness check that names the first mismatches. */
import { expect } from 'vitest';
import * as c from '../../src/index.js';
import { BackendError, CpuBackend, mulberry32, type Backend, type Module, type Tensor } from '../../src/index.js';

/** The float64 reference every GPU result is compared with (one per test file). */
export const reference = new CpuBackend('f64');

export function randomArray(n: number, seed: number, low = -2, high = 2): number[] {
  const next = mulberry32(seed);
  return Array.from({ length: n }, () => low + (high - low) * next());
}

/** |actual - expected| <= atol + rtol·|expected| element-wise (llm.c's validate_result); NaN must match NaN. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-6, rtol = 1e-5, what = 'values'): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) {
      count++;
      if (bad.length < 5) bad.push(`[${i}] got ${a}, expected ${e} (|diff| ${Math.abs(a - e).toExponential(2)})`);
    }
  }
  expect(count === 0, `${what}: ${count} of ${expected.length} elements differ beyond atol ${atol} + rtol ${rtol}:\n  ${bad.join('\n  ')}`).toBe(true);
}

/** Every parameter of a module, flattened in namedParameters order (for bit-for-bit comparisons). */
export async function weightsOf(m: Pick<Module, 'parameters'>): Promise<number[]> {
  return (await Promise.all(m.parameters().map((p) => p.toArray()))).flat();
}

/**
 * Seeded ids [rows, fields] row-major, skewed toward low ids (u³·vocab) so rows repeat many times: the
 * embedding backward's summation order would show in the bits if it were not fixed.
 */
export function batchIds(fields: readonly { vocab: number }[], rows: number, seed: number): number[] {
  return randomArray(rows * fields.length, seed, 0, 1).map((u, i) => Math.floor(u ** 3 * fields[i % fields.length]!.vocab));
}

/**
 * `bad` throws a BackendError matching `what` that names `backend`'s storage limit, and nothing was
 * allocated or dispatched on the way.
 */
export function expectRefusedOverLimit(backend: Backend, bad: () => unknown, what: RegExp): void {
  const live = c.liveTensors().length, bytes = backend.memory().bytesInUse, dispatches = (backend as { dispatches?: number }).dispatches;
  let thrown: unknown;
  try { bad(); } catch (e) { thrown = e; }
  expect(thrown, 'error type').toBeInstanceOf(BackendError);
  expect((thrown as Error).message).toMatch(what);
  expect((thrown as Error).message).toContain(`${backend.limitName} ${backend.maxStorageBytes} bytes`);
  expect(c.liveTensors().length).toBe(live);
  expect(backend.memory().bytesInUse).toBe(bytes);
  expect((backend as { dispatches?: number }).dispatches).toBe(dispatches);
}

/** Runs fn on `backend` and on the float64 reference with the same seeded inputs and compares the outputs. */
export async function agree(backend: Backend, shapes: number[][], seed: number, fn: (xs: Tensor[]) => Tensor, atol = 1e-5, rtol = 1e-5): Promise<void> {
  const values = shapes.map((s, i) => randomArray(s.reduce((a, d) => a * d, 1), seed + i).map(Math.fround));
  const run = async (b: Backend) => {
    const out = c.noGrad(() => c.scope(() => fn(values.map((v, i) => c.tensor(v, shapes[i]!, { backend: b })))));
    const data = await out.read();
    out.dispose();
    return data;
  };
  expectClose(await run(backend), await run(reference), atol, rtol, 'backend vs float64 reference');
}

/** Kernel ids `fn` dispatches on `backend`. */
export function kernelsRun(backend: Backend, fn: () => void): string[] {
  const names: string[] = [];
  const original = backend.run.bind(backend);
  backend.run = (kernel, ...rest) => { names.push(kernel); original(kernel, ...rest); };
  try {
    fn();
  } finally {
    backend.run = original;
  }
  return names;
}
