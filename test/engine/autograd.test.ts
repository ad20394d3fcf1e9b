import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { backends } from '../support/gpu.js';


for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`autograd mechanics on ${name}`, () => {
    const t = (v: number[] | number[][], grad = true) => c.tensor(v, undefined, { backend: backend!, requiresGrad: grad });
    const grad = async (x: c.Tensor) => Array.from(await x.grad!.read());

    test('a shared subexpression accumulates both paths', async () => {
      const x = t([1, 2, 3]);
      c.scope(() => {
        const y = c.mul(x, x); // used twice below
        c.sum(c.add(y, c.mulScalar(y, 3))).backward(); // d/dx 4x² = 8x
      });
      expect(await grad(x)).toEqual([8, 16, 24]);
      x.dispose();
    });

    test('an input that does not reach the output gets no gradient; non-grad inputs get none', async () => {
      const x = t([1, 2]), unused = t([5, 6]), constant = t([3, 4], false);
      c.scope(() => c.sum(c.mul(x, constant)).backward());
      expect(await grad(x)).toEqual([3, 4]);
      expect(unused.grad).toBeNull();
      expect(constant.grad).toBeNull();
      [x, unused, constant].forEach((v) => v.dispose());
    });

    test('broadcast gradients are summed back to the input shape', async () => {
      const a = t([[1, 2, 3], [4, 5, 6]]), b = t([10, 20, 30]), s = c.tensor(2, [], { backend: backend!, requiresGrad: true });
      c.scope(() => c.sum(c.mul(c.add(a, b), s)).backward());
      expect(await grad(a)).toEqual([2, 2, 2, 2, 2, 2]);
      expect(await grad(b)).toEqual([4, 4, 4]);
      expect(a.grad!.shape).toEqual([2, 3]);
      expect(b.grad!.shape).toEqual([3]);
      expect(s.grad!.shape).toEqual([]);
      expect(await grad(s)).toEqual([1 + 2 + 3 + 4 + 5 + 6 + 2 * (10 + 20 + 30)]);
      [a, b, s].forEach((v) => v.dispose());
    });

    test('gradients accumulate across backward calls until zeroGrad', async () => {
      const x = t([1, 2]);
      c.scope(() => c.sum(c.mulScalar(x, 3)).backward());
      c.scope(() => c.sum(c.mulScalar(x, 3)).backward());
      expect(await grad(x)).toEqual([6, 6]);
      x.zeroGrad();
      expect(x.grad).toBeNull();
      c.scope(() => c.sum(x).backward());
      expect(await grad(x)).toEqual([1, 1]);
      x.dispose();
    });

    test('accumulating into leaves that share one gradient tensor (add) works on every backward', async () => {
      const a = t([1, 2]), b = t([3, 4]);
      c.scope(() => c.sum(c.add(a, b)).backward());
      c.scope(() => c.sum(c.add(a, b)).backward());
      expect(await grad(a)).toEqual([2, 2]);
      expect(await grad(b)).toEqual([2, 2]);
      a.dispose(); b.dispose();
    });

    test('a leaf keeps its row-sparse gradient parts when a dense gradient also arrives', async () => {
      const table = t([[1, 2], [3, 4], [5, 6]]);
      table.sparseGrad = true;
      c.scope(() => c.add(c.sum(c.embeddingBag(table, [2], [0, 1])), c.sum(table)).backward());
      c.scope(() => c.sum(table).backward());
      expect(table.rowGrads.length).toBe(1);
      expect(await grad(table)).toEqual([2, 2, 2, 2, 2, 2]);
      table.dispose();
    });

    test('two leaves that receive the same gradient tensor own separate copies', async () => {
      const a = t([1, 2]), b = t([3, 4]);
      c.scope(() => c.sum(c.add(a, b)).backward());
      expect(a.grad).not.toBe(b.grad);
      a.dispose();
      expect(await grad(b)).toEqual([1, 1]);
      b.dispose();
    });

    test('noGrad records nothing; detach cuts the graph', async () => {
      const x = t([1, 2]);
      const y = c.noGrad(() => c.mul(x, x));
      expect(y.requiresGrad).toBe(false);
      expect(y.op).toBeNull();
      const z = c.mul(x.detach(), x);
      c.scope(() => c.sum(z).backward());
      expect(await grad(x)).toEqual([1, 2]); // only the non-detached factor contributes
      [x, y, z].forEach((v) => v.dispose());
    });

    test('non-scalar backward needs an explicit gradient of the same shape', async () => {
      const x = t([1, 2, 3]);
      const y = c.mulScalar(x, 2);
      expect(() => y.backward()).toThrow(/not a scalar.*\[3\]/);
      const g = c.tensor([1, 0, -1], undefined, { backend: backend! });
      y.backward(g);
      expect(await grad(x)).toEqual([2, 0, -2]);
      expect(await g.toArray()).toEqual([1, 0, -1]); // the caller's gradient is not consumed
      [x, y, g].forEach((v) => v.dispose());
    });

    test('a deep chain (5,000 ops) backpropagates without recursion', async () => {
      const x = t([1]);
      const n = name === 'webgpu' ? 5000 : 2000;
      c.scope(() => {
        let y = x;
        for (let i = 0; i < n; i++) y = c.addScalar(y, 1);
        c.sum(y).backward();
      });
      expect(await grad(x)).toEqual([1]);
      x.dispose();
    });

    test('backward frees every intermediate gradient', async () => {
      const x = t([1, 2, 3]);
      const before = c.liveTensors().length;
      c.scope(() => c.sum(c.sigmoid(c.mul(x, x))).backward());
      expect(c.liveTensors().length).toBe(before + 1); // x.grad only
      x.dispose();
    });
  });
}
