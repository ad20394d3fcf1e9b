/**
 * Binary elementwise ops (add sub mul div maximum minimum equal greater): kernels named after the op in
 * shaders/binary.wgsl, twin binaryRef; NumPy broadcasting against the float64 reference.
 */
import { fc, test } from '@fast-check/vitest';
import { describe } from 'vitest';
import * as c2al from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { gpu, propRuns } from '../support/gpu.js';
import { broadcastPartner, shapeArb } from '../support/arbitraries.js';
import { agree as agreeWith } from '../support/util.js';

/** Runs fn on the f64 reference and on the GPU with the same (f32-exact) inputs; compares outputs. */
const agree = (shapes: number[][], seed: number, fn: (xs: Tensor[]) => Tensor, atol = 1e-5, rtol = 1e-5): Promise<void> => agreeWith(gpu!, shapes, seed, fn, atol, rtol);
const opts = { numRuns: propRuns };

describe.skipIf(!gpu)('binary ops on random shapes agree with the float64 reference', () => {
  test.prop([shapeArb.chain((s) => fc.tuple(fc.constant(s), broadcastPartner(s))), fc.nat(), fc.constantFrom('add', 'sub', 'mul', 'maximum', 'minimum')], opts)(
    'binary ops with broadcasting', async ([a, b], seed, op) => {
      await agree([a, b], seed, ([x, y]) => c2al[op](x!, y!));
      await agree([b, a], seed, ([x, y]) => c2al[op](x!, y!));
    });
});
