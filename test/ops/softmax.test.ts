/**
 * softmax (composed of exp, max, sum and div: no kernel of its own) over any axis against the float64 reference.
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

describe.skipIf(!gpu)('softmax on random shapes agrees with the float64 reference', () => {
  test.prop([shapeArb.filter((s) => s.length > 0).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: -s.length, max: s.length - 1 }))), fc.nat()], opts)(
    'softmax over any axis (composed: exp, max, sum, div)', async ([s, axis], seed) => {
      await agree([s], seed, ([x]) => c2al.softmax(c2al.mulScalar(x!, 5), axis), 1e-6, 1e-5);
    });
});
