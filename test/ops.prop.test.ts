import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import * as c2al from '../src/index.js';
import type { Backend, Tensor } from '../src/index.js';
import { numel } from '../src/shape.js';
import { gpu, propRuns } from './gpu.js';
import { kernelCase, kernelNames, reference, runKernel, runnable } from './kernel-cases.js';
import { expectClose, randomArray } from './util.js';

const ref = reference;
const dim = fc.integer({ min: 1, max: 6 });
const shapeArb = fc.array(dim, { minLength: 0, maxLength: 4 });

/** Runs fn on the f64 reference and on the GPU with the same (f32-exact) inputs; compares outputs. */
async function agree(shapes: number[][], seed: number, fn: (xs: Tensor[]) => Tensor, atol = 1e-5, rtol = 1e-5): Promise<void> {
  const data = shapes.map((s, i) => randomArray(numel(s), seed + i).map(Math.fround));
  const outputs: ArrayLike<number>[] = [];
  for (const backend of [ref, gpu!] as Backend[]) {
    const out = c2al.scope(() => fn(shapes.map((s, i) => c2al.tensor(data[i]!, s, { backend }))));
    outputs.push(await out.read());
    out.dispose();
  }
  expectClose(outputs[1]!, outputs[0]!, atol, rtol, 'webgpu vs reference');
}

/** Broadcast-compatible partner for `shape`: some dims set to 1, some leading dims dropped. */
const broadcastPartner = (shape: number[]) => fc.tuple(fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }), fc.nat({ max: shape.length }))
  .map(([ones, drop]) => shape.map((d, i) => (ones[i] ? 1 : d)).slice(drop));

describe.skipIf(!gpu)('ops on random shapes agree with the float64 reference', () => {
  const opts = { numRuns: propRuns };

  test.prop([shapeArb.chain((s) => fc.tuple(fc.constant(s), broadcastPartner(s))), fc.nat(), fc.constantFrom('add', 'sub', 'mul', 'maximum', 'minimum')], opts)(
    'binary ops with broadcasting', async ([a, b], seed, op) => {
      await agree([a, b], seed, ([x, y]) => c2al[op](x!, y!));
      await agree([b, a], seed, ([x, y]) => c2al[op](x!, y!));
    });

  test.prop([shapeArb, fc.nat(), fc.constantFrom('exp', 'sigmoid', 'tanh', 'gelu', 'silu', 'relu', 'abs', 'neg')], opts)(
    'unary ops', async (s, seed, op) => {
      await agree([s], seed, ([x]) => c2al[op](x!), 2e-6, 4e-6);
    });

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

  test.prop([shapeArb.filter((s) => s.length > 0).chain((s) => fc.tuple(fc.constant(s), fc.shuffledSubarray([...s.keys()], { minLength: s.length }))), fc.nat()], opts)(
    'permute', async ([s, perm], seed) => {
      await agree([s], seed, ([x]) => c2al.permute(x!, perm), 0, 0);
    });

  test.prop([shapeArb.filter((s) => s.length > 0).chain((s) => fc.tuple(fc.constant(s), fc.tuple(...s.map((d) => fc.nat({ max: d - 1 }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: d - b }))))))), fc.nat()], opts)(
    'slice', async ([s, ranges], seed) => {
      await agree([s], seed, ([x]) => c2al.slice(x!, ranges.map((r) => r[0]), ranges.map((r) => r[1])), 0, 0);
    });

  test.prop([fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 33 }), fc.constantFrom(1, 3, 4, 8, 9, 12)), fc.boolean(), fc.boolean(),
    fc.constantFrom<[number[], number[]]>([[], []], [[3], []], [[], [2]], [[2, 1], [3]], [[4], [4]]), fc.nat()], opts)(
    'batched matmul with transposes and batch broadcasting', async ([m, k, n], transA, transB, [ba, bb], seed) => {
      const a = [...ba, ...(transA ? [k, m] : [m, k])], b = [...bb, ...(transB ? [n, k] : [k, n])];
      await agree([a, b], seed, ([x, y]) => c2al.matmul(x!, y!, { transA, transB }), 1e-5 * k, 1e-5);
    });

  test.prop([shapeArb.filter((s) => s.length > 0).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: -s.length, max: s.length - 1 }))), fc.nat()], opts)(
    'softmax over any axis (composed: exp, max, sum, div)', async ([s, axis], seed) => {
      await agree([s], seed, ([x]) => c2al.softmax(c2al.mulScalar(x!, 5), axis), 1e-6, 1e-5);
    });

  test.prop([fc.constantFrom(...kernelNames.filter((k) => runnable(gpu, k))), fc.integer({ min: 1, max: 3000 }), fc.nat()], opts)(
    'every kernel at random sizes', async (kernel, n, seed) => {
      const c = kernelCase(kernel, n, seed);
      const want = await runKernel(ref, kernel, c);
      const got = await runKernel(gpu!, kernel, c);
      want.forEach((w, i) => expectClose(got[i]!, w, c.atol, c.rtol, `${kernel} output ${i}`));
    });
});

describe.skipIf(!gpu)('algebraic laws on the GPU', () => {
  test.prop([fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }), fc.nat()], { numRuns: propRuns })(
    '(A·B)ᵀ = Bᵀ·Aᵀ', async (m, k, n, seed) => {
      const a = c2al.tensor(randomArray(m * k, seed), [m, k], { backend: gpu! });
      const b = c2al.tensor(randomArray(k * n, seed + 1), [k, n], { backend: gpu! });
      const lhs = c2al.transpose(c2al.matmul(a, b));
      const rhs = c2al.matmul(b, a, { transA: true, transB: true });
      expectClose(await rhs.read(), await lhs.read(), 0, 0, '(AB)ᵀ vs BᵀAᵀ');
      [a, b, lhs, rhs].forEach((t) => t.dispose());
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
