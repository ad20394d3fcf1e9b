/**
 * Views and copies (reshape permute slice concat expand): kernel copy in shaders/copy.wgsl, twin copyRef;
 * exact agreement with the reference, and slicing undone by concat.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import * as c2al from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { numel } from '../../src/shape.js';
import { gpu, propRuns } from '../support/gpu.js';
import { shapeArb } from '../support/arbitraries.js';
import { agree as agreeWith, randomArray } from '../support/util.js';

/** Runs fn on the f64 reference and on the GPU with the same (f32-exact) inputs; compares outputs. */
const agree = (shapes: number[][], seed: number, fn: (xs: Tensor[]) => Tensor, atol = 1e-5, rtol = 1e-5): Promise<void> => agreeWith(gpu!, shapes, seed, fn, atol, rtol);
const opts = { numRuns: propRuns };

describe.skipIf(!gpu)('copies on random shapes are exact', () => {
  test.prop([shapeArb.filter((s) => s.length > 0).chain((s) => fc.tuple(fc.constant(s), fc.shuffledSubarray([...s.keys()], { minLength: s.length }))), fc.nat()], opts)(
    'permute', async ([s, perm], seed) => {
      await agree([s], seed, ([x]) => c2al.permute(x!, perm), 0, 0);
    });

  test.prop([shapeArb.filter((s) => s.length > 0).chain((s) => fc.tuple(fc.constant(s), fc.tuple(...s.map((d) => fc.nat({ max: d - 1 }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: d - b }))))))), fc.nat()], opts)(
    'slice', async ([s, ranges], seed) => {
      await agree([s], seed, ([x]) => c2al.slice(x!, ranges.map((r) => r[0]), ranges.map((r) => r[1])), 0, 0);
    });

  test.prop([shapeArb.filter((s) => s.length >= 2), fc.nat()], { numRuns: propRuns })('concat of slices restores the tensor', async (s, seed) => {
    const x = c2al.tensor(randomArray(numel(s), seed), s, { backend: gpu! });
    const cut = Math.floor(s[1]! / 2);
    const back = c2al.scope(() => c2al.concat([
      c2al.slice(x, s.map(() => 0), s.map((d, i) => (i === 1 ? cut : d))),
      c2al.slice(x, s.map((_, i) => (i === 1 ? cut : 0)), s.map((_, i) => (i === 1 ? -1 : -1))),
    ], 1));
    expect(Array.from(await back.read())).toEqual(Array.from(await x.read()));
    x.dispose();
    back.dispose();
  });
});
