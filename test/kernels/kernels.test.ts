import { describe, expect, test } from 'vitest';
import { gpu } from '../support/gpu.js';
import { kernelCase, kernelNames, reference, runKernel, runnable } from '../support/kernel-cases.js';
import { expectClose } from '../support/util.js';

describe.skipIf(!gpu)('every kernel: webgpu vs its float64 CPU twin on edge sizes', () => {
  for (const kernel of kernelNames) {
    test.skipIf(!runnable(gpu, kernel)).each([1, 255, 256, 257, 1000])(`${kernel}, ~%i elements`, async (n) => {
      const c = kernelCase(kernel, n, n * 31 + kernel.length);
      const want = await runKernel(reference, kernel, c);
      const got = await runKernel(gpu!, kernel, c);
      want.forEach((w, i) => expectClose(got[i]!, w, c.atol, c.rtol, `${kernel} output ${i}`));
    });
  }
});

describe.skipIf(!gpu)('grids above 65,535 workgroups are split over x and y', () => {
  test('reduce_sum over 70,000 rows (one workgroup per row)', async () => {
    const rows = 70_000, len = 3;
    const data = Array.from({ length: rows * len }, (_, i) => (i % 11) - 5);
    const c = { inputs: [{ data, dtype: 'f32' as const }], outputs: [{ numel: rows, dtype: 'f32' as const }], args: { rows, len }, atol: 0, rtol: 0 };
    const [got] = await runKernel(gpu!, 'reduce_sum', c);
    const [want] = await runKernel(reference, 'reduce_sum', c);
    expectClose(got!, want!, 0, 0, 'reduce_sum rows');
  });

  test('neg over 65,535·256 + 257 elements (65,537 workgroups of 256)', async () => {
    const n = 65_535 * 256 + 257;
    const data = Array.from({ length: n }, (_, i) => (i % 1023) - 511);
    const [got] = await runKernel(gpu!, 'neg', { inputs: [{ data, dtype: 'f32' }], outputs: [{ numel: n, dtype: 'f32' }], args: { n, alpha: 0 }, atol: 0, rtol: 0 });
    let mismatches = 0;
    for (let i = 0; i < n; i++) if (got![i] !== -data[i]!) mismatches++;
    expect(mismatches).toBe(0);
  });
});
