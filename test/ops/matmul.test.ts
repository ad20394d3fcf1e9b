/**
 * matmul (kernels matmul, matmul_vec4, matmul_sg in shaders/matmul*.wgsl, twin matmulRef): transposes and
 * batch broadcasting against the float64 reference, and (A·B)ᵀ = Bᵀ·Aᵀ exactly. The variants have their own
 * files: matmul-sg.test.ts, matmul-split-k.test.ts.
 */
import { fc, test } from '@fast-check/vitest';
import { describe } from 'vitest';
import * as c2al from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { gpu, propRuns } from '../support/gpu.js';
import { agree as agreeWith, expectClose, randomArray } from '../support/util.js';

/** Runs fn on the f64 reference and on the GPU with the same (f32-exact) inputs; compares outputs. */
const agree = (shapes: number[][], seed: number, fn: (xs: Tensor[]) => Tensor, atol = 1e-5, rtol = 1e-5): Promise<void> => agreeWith(gpu!, shapes, seed, fn, atol, rtol);
const opts = { numRuns: propRuns };

describe.skipIf(!gpu)('matmul on random shapes', () => {
  test.prop([fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 33 }), fc.constantFrom(1, 3, 4, 8, 9, 12)), fc.boolean(), fc.boolean(),
    fc.constantFrom<[number[], number[]]>([[], []], [[3], []], [[], [2]], [[2, 1], [3]], [[4], [4]]), fc.nat()], opts)(
    'batched matmul with transposes and batch broadcasting', async ([m, k, n], transA, transB, [ba, bb], seed) => {
      const a = [...ba, ...(transA ? [k, m] : [m, k])], b = [...bb, ...(transB ? [n, k] : [k, n])];
      await agree([a, b], seed, ([x, y]) => c2al.matmul(x!, y!, { transA, transB }), 1e-5 * k, 1e-5);
    });

  test.prop([fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.nat()], { numRuns: propRuns })(
    '(A·B)ᵀ = Bᵀ·Aᵀ', async (m, k, n, seed) => {
      const a = c2al.tensor(randomArray(m * k, seed), [m, k], { backend: gpu! });
      const b = c2al.tensor(randomArray(k * n, seed + 1), [k, n], { backend: gpu! });
      const lhs = c2al.transpose(c2al.matmul(a, b));
      const rhs = c2al.matmul(b, a, { transA: true, transB: true });
      expectClose(await rhs.read(), await lhs.read(), 0, 0, '(AB)ᵀ vs BᵀAᵀ');
      [a, b, lhs, rhs].forEach((t) => t.dispose());
    });
});
