/**
 * Reductions (sum mean max): kernels reduce_* in shaders/reduce.wgsl, twins reduceRef / reduceColsRef; any
 * axis set, with and without kept dims, and tensors with empty dims.
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

describe.skipIf(!gpu)('reductions on random shapes agree with the float64 reference', () => {
  test.prop([shapeArb.filter((s) => s.length > 0).chain((s) => fc.tuple(fc.constant(s), fc.subarray([...s.keys()]), fc.boolean())), fc.nat(), fc.constantFrom('sum', 'mean', 'max')], opts)(
    'reductions over any axis set', async ([s, axes, keep], seed, op) => {
      await agree([s], seed, ([x]) => c2al[op](x!, axes, keep), 1e-5, 1e-5);
    });

  // Empty dims: an empty sum is 0 and an empty mean NaN (max refuses an empty axis). A leading empty
  // axis once sent the column-partials path into an endless loop.
  test.prop([fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }).chain((s) => fc.tuple(fc.constant(s), fc.subarray([...s.keys()]), fc.boolean())),
    fc.nat(), fc.constantFrom('sum', 'mean')], opts)(
    'reductions of tensors with empty dims', async ([s, axes, keep], seed, op) => {
      await agree([s], seed, ([x]) => c2al[op](x!, axes, keep), 1e-5, 1e-5);
    });
});
