import { expect, test } from 'vitest';
import { binaryRef, copyRef, matmulRef, reduceRef, unaryRef, unaryScalar, UNARY } from '../../src/reference.js';
import { broadcastShapes, broadcastStrides, broadcastedAxes, normalizeAxes, strides } from '../../src/shape.js';

const f64 = (xs: number[]) => Float64Array.from(xs);

test('unary twins on hand-computed values', () => {
  expect(unaryScalar('relu', -2, 0)).toBe(0);
  expect(unaryScalar('sigmoid', 0, 0)).toBe(0.5);
  expect(unaryScalar('sigmoid', -800, 0)).toBe(0); // stable: no overflow to NaN
  expect(unaryScalar('sigmoid', 800, 0)).toBe(1);
  expect(unaryScalar('log1p', 1e-20, 0)).toBe(1e-20);
  expect(unaryScalar('pow_scalar', -2, 3)).toBe(-8);
  expect(unaryScalar('pow_scalar', -2, 0.5)).toBeNaN();
  expect(unaryScalar('gelu', 1, 0)).toBeCloseTo(0.8411919906, 9); // PyTorch gelu(1, approximate='tanh')
  expect(unaryScalar('silu', 1, 0)).toBeCloseTo(0.7310585786, 9);
  for (const op of Object.keys(UNARY) as (keyof typeof UNARY)[]) expect(Number.isFinite(unaryScalar(op, 0.5, 2)), op).toBe(true);
  const out = new Float64Array(3);
  unaryRef('mul_scalar', f64([1, 2, 3]), out, 3, -2);
  expect([...out]).toEqual([-2, -4, -6]);
});

test('derivative twins match a central difference of their functions', () => {
  for (const [f, df] of [['gelu', 'gelu_deriv'], ['silu', 'silu_deriv']] as const) {
    for (const x of [-3, -0.5, 0, 0.7, 2.5]) {
      const h = 1e-6;
      const fd = (unaryScalar(f, x + h, 0) - unaryScalar(f, x - h, 0)) / (2 * h);
      expect(unaryScalar(df, x, 0)).toBeCloseTo(fd, 8);
    }
  }
});

test('binary twin broadcasts through strides', () => {
  const shape = broadcastShapes([[2, 3], [3]], ['a', 'b']);
  const out = new Float64Array(6);
  binaryRef('sub', f64([10, 20, 30, 40, 50, 60]), f64([1, 2, 3]), out, shape, broadcastStrides([2, 3], shape), broadcastStrides([3], shape));
  expect([...out]).toEqual([9, 18, 27, 39, 48, 57]);
});

test('matmul twin: a 2x3 by 3x2 product, and a transposed operand', () => {
  const out = new Float64Array(4);
  const layout = { m: 2, n: 2, k: 3, sam: 3, sak: 1, sbk: 2, sbn: 1, batchShape: [], aBatchStrides: [], bBatchStrides: [] };
  matmulRef(f64([1, 2, 3, 4, 5, 6]), f64([7, 8, 9, 10, 11, 12]), out, layout);
  expect([...out]).toEqual([58, 64, 139, 154]);
  // Same A stored transposed ([3, 2]): A(i, k) = a[k*2 + i].
  matmulRef(f64([1, 4, 2, 5, 3, 6]), f64([7, 8, 9, 10, 11, 12]), out, { ...layout, sam: 1, sak: 2 });
  expect([...out]).toEqual([58, 64, 139, 154]);
});

test('reduce and copy twins', () => {
  const out = new Float64Array(2);
  reduceRef('sum', f64([1, 2, 3, 4, 5, 6]), out, 2, 3);
  expect([...out]).toEqual([6, 15]);
  reduceRef('max', f64([1, 9, 3, 4, 5, -6]), out, 2, 3);
  expect([...out]).toEqual([9, 5]);
  reduceRef('sum', f64([]), out, 2, 0);
  expect([...out]).toEqual([0, 0]);
  const t = new Float64Array(6);
  copyRef(f64([1, 2, 3, 4, 5, 6]), t, [3, 2], [1, 3], strides([3, 2]), 0, 0); // transpose of [2, 3]
  expect([...t]).toEqual([1, 4, 2, 5, 3, 6]);
});

test('shape helpers', () => {
  expect(broadcastShapes([[4, 1, 3], [2, 1], []], ['a', 'b', 'c'])).toEqual([4, 2, 3]);
  expect(() => broadcastShapes([[2, 3], [4]], ['a', 'b'])).toThrow(/a \[2, 3\], b \[4\]/);
  expect(broadcastStrides([3, 1], [2, 3, 4])).toEqual([0, 1, 0]);
  expect(broadcastedAxes([3, 1], [2, 3, 4])).toEqual([0, 2]);
  expect(normalizeAxes([-1, 0], 3, 'x')).toEqual([0, 2]);
  expect(normalizeAxes(undefined, 2, 'x')).toEqual([0, 1]);
  expect(strides([2, 3, 4])).toEqual([12, 4, 1]);
});

test('collapseDims merges contiguous neighbours and drops size-1 dimensions, keeping the walk', async () => {
  const { collapseDims, strides: st } = await import('../../src/shape.js');
  expect(collapseDims([4, 5, 6], [st([4, 5, 6]), st([4, 5, 6])])).toEqual({ shape: [120], strides: [[1], [1]] });
  expect(collapseDims([4, 5, 6], [st([4, 5, 6]), [0, 6, 1]])).toEqual({ shape: [4, 30], strides: [[30, 1], [0, 1]] });
  expect(collapseDims([1, 3, 1, 2], [[6, 2, 2, 1], [0, 0, 0, 1]])).toEqual({ shape: [3, 2], strides: [[2, 1], [0, 1]] });
  expect(collapseDims([3, 4], [[1, 3], [4, 1]])).toEqual({ shape: [3, 4], strides: [[1, 3], [4, 1]] }); // a transpose stays 2-D
  expect(collapseDims([], [[], []])).toEqual({ shape: [], strides: [[], []] });
  // Any shape and strides: the collapsed walk visits the same offsets in the same order.
  const walk = (shape: number[], s: number[]) => {
    const out: number[] = [];
    const n = shape.reduce((a, b) => a * b, 1);
    for (let i = 0; i < n; i++) {
      let rem = i, off = 0;
      for (let d = shape.length - 1; d >= 0; d--) { off += (rem % shape[d]!) * s[d]!; rem = Math.floor(rem / shape[d]!); }
      out.push(off);
    }
    return out;
  };
  for (const [shape, sa] of [[[2, 3, 4], [12, 4, 1]], [[2, 1, 4], [0, 9, 1]], [[3, 2, 2], [1, 6, 3]], [[2, 2, 2, 2], [8, 4, 0, 1]]] as [number[], number[]][]) {
    const c = collapseDims(shape, [sa]);
    expect(walk(c.shape, c.strides[0]!)).toEqual(walk(shape, sa));
  }
});
