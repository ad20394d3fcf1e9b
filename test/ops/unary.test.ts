/**
 * Unary elementwise ops (neg abs exp log log1p sqrt sigmoid tanh relu gelu silu and the scalar ops): kernels
 * named after the op in shaders/unary.wgsl, twin unaryRef; against the float64 reference on random shapes.
 */
import { fc, test } from '@fast-check/vitest';
import { describe } from 'vitest';
import * as c2al from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { gpu, propRuns } from '../support/gpu.js';
import { shapeArb } from '../support/arbitraries.js';
import { agree as agreeWith } from '../support/util.js';

/** Runs fn on the f64 reference and on the GPU with the same (f32-exact) inputs; compares outputs. */
const agree = (shapes: number[][], seed: number, fn: (xs: Tensor[]) => Tensor, atol = 1e-5, rtol = 1e-5): Promise<void> => agreeWith(gpu!, shapes, seed, fn, atol, rtol);
const opts = { numRuns: propRuns };

describe.skipIf(!gpu)('unary ops on random shapes agree with the float64 reference', () => {
  test.prop([shapeArb, fc.nat(), fc.constantFrom('exp', 'sigmoid', 'tanh', 'gelu', 'silu', 'relu', 'abs', 'neg')], opts)(
    'unary ops', async (s, seed, op) => {
      await agree([s], seed, ([x]) => c2al[op](x!), 2e-6, 4e-6);
    });
});
