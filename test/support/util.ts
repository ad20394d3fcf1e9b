/** Test helpers: seeded data and an absolute + relative closeness check that names the first mismatches. */
import { expect } from 'vitest';
import { mulberry32 } from '../src/index.js';

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
