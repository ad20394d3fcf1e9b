// matmul_dot4: products whose operands both run along k (A row-major, B transposed) but whose output is too
// narrow for the vec4 kernels (N % 4 != 0, e.g. the linear compress weight gradient, 14 × 14 per sample):
// which products take it, agreement with the float64 reference through matmul(), its gradient, and
// where it does not apply (K % 4 != 0) the plain kernel.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import * as c2al from '../../src/index.js';
import { gpu, propRuns } from '../support/gpu.js';
import { agree, kernelsRun } from '../support/util.js';

describe.skipIf(!gpu)('matmul_dot4', () => {
  test('transB products with K % 4 == 0 and a narrow output take matmul_dot4; K % 4 != 0 or A transposed keep matmul', () => {
    const g = gpu!;
    const run = (a: number[], b: number[], o: { transA?: boolean; transB?: boolean }): string[] => kernelsRun(g, () => {
      c2al.noGrad(() => c2al.scope(() => { c2al.matmul(c2al.zeros(a, { backend: g }), c2al.zeros(b, { backend: g }), o); }));
    });
    expect(run([512, 14, 16], [512, 14, 16], { transB: true })).toContain('matmul_dot4'); // LinearCompress dW, per sample
    expect(run([14, 16], [6, 16], { transB: true })).toContain('matmul_dot4');
    expect(run([14, 18], [6, 18], { transB: true })).toContain('matmul');
    expect(run([14, 18], [6, 18], { transB: true })).not.toContain('matmul_dot4');
    expect(run([16, 14], [6, 16], { transA: true, transB: true })).not.toContain('matmul_dot4');
  });

  test.prop([fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 15 }).filter((n) => n % 4 !== 0),
    fc.constantFrom<[number[], number[]]>([[], []], [[3], []], [[], [2]], [[2, 1], [3]], [[4], [4]]), fc.nat()], { numRuns: propRuns })(
    'agrees with the float64 reference, batched and broadcast', async (m, k4, n, [ba, bb], seed) => {
      const k = 4 * k4;
      const ran = kernelsRun(gpu!, () => c2al.noGrad(() => c2al.scope(() => {
        c2al.matmul(c2al.zeros([...ba, m, k], { backend: gpu! }), c2al.zeros([...bb, n, k], { backend: gpu! }), { transB: true });
      })));
      expect(ran).toContain('matmul_dot4');
      await agree(gpu!, [[...ba, m, k], [...bb, n, k]], seed, ([x, y]) => c2al.matmul(x!, y!, { transB: true }), 1e-5 * k, 1e-5);
    });

  test('its gradient through a linear compress matches finite differences', async () => {
    const { gradcheck } = await import('../../src/testing/gradcheck.js');
    // W [3, 5] · X [2, 5, 8]: the backward's dW = Σ_b dY_b · X_bᵀ is a transB product with K = 8, N = 5.
    const r = await gradcheck(([w, x]) => c2al.sum(c2al.mul(c2al.matmul(w!, x!), c2al.matmul(w!, x!))), [{ shape: [3, 5] }, { shape: [2, 5, 8] }], { backend: gpu!, seed: 3 });
    expect(r.pass, JSON.stringify(r)).toBe(true);
  });
});
