import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { backends } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/util.js';


/** PyTorch's Adam / AdamW, written out in plain JS. */
function adamJs(p: number[], grads: number[][], o: { lr: number; wd: number; decoupled: boolean }): number[] {
  const m = p.map(() => 0), v = p.map(() => 0), w = [...p];
  grads.forEach((g, s) => {
    const t = s + 1;
    for (let i = 0; i < w.length; i++) {
      let gi = g[i]!;
      if (o.decoupled) w[i]! *= 1 - o.lr * o.wd;
      else gi += o.wd * w[i]!;
      m[i] = 0.9 * m[i]! + 0.1 * gi;
      v[i] = 0.999 * v[i]! + 0.001 * gi * gi;
      w[i] = w[i]! - (o.lr * (m[i]! / (1 - 0.9 ** t))) / (Math.sqrt(v[i]! / (1 - 0.999 ** t)) + 1e-8);
    }
  });
  return w;
}

for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`parameter updates on ${name}`, () => {
    const opts = { backend: backend! };
    const tol = name === 'cpu' ? 1e-12 : 2e-6;

    for (const decoupled of [false, true]) {
      test(`${decoupled ? 'AdamW' : 'Adam with L2'}: three steps match PyTorch's formula`, async () => {
        const p0 = randomArray(12, 1), grads = [2, 3, 4].map((s) => randomArray(12, s));
        const param = c.tensor(p0, [3, 4], opts);
        const state = { m: c.zeros([3, 4], opts), v: c.zeros([3, 4], opts), step: 0 };
        for (const g of grads) {
          const gt = c.tensor(g, [3, 4], opts);
          c.adamUpdate(param, gt, state, { lr: 0.05, weightDecay: 0.1, decoupled });
          gt.dispose();
        }
        expect(state.step).toBe(3);
        expectClose(await param.read(), adamJs(p0, grads, { lr: 0.05, wd: 0.1, decoupled }), tol, tol, 'parameters');
        [param, state.m, state.v].forEach((t) => t.dispose());
      });
    }

    test('lazy Adam on a row-sparse gradient equals dense Adam when every row is touched, and skips untouched rows', async () => {
      const table = c.tensor(randomArray(5 * 3, 7), [5, 3], { ...opts, requiresGrad: true });
      table.sparseGrad = true;
      const w = c.tensor(randomArray(5 * 3, 8), [5, 3], opts);
      c.scope(() => c.sum(c.mul(c.embeddingBag(table, [4, 0, 1, 2, 3, 3], [0, 2, 6]), c.slice(w, [0, 0], [2, 3]))).backward());
      const sparse = table.rowGrads[0]!;
      const dense = c.densifyRows(sparse);
      const before = await table.toArray();
      const twin = c.tensor(before, [5, 3], opts);
      const zeros = () => ({ m: c.zeros([5, 3], opts), v: c.zeros([5, 3], opts), step: 0 });
      const s1 = zeros(), s2 = zeros();
      c.adamUpdate(table, sparse, s1, { lr: 0.1 });
      c.adamUpdate(twin, dense, s2, { lr: 0.1 });
      expectClose(await table.read(), await twin.read(), tol, tol, 'sparse vs dense Adam');
      // Only row 1 of a second gradient: rows 0, 2, 3, 4 must not move.
      table.zeroGrad();
      c.scope(() => c.sum(c.embeddingBag(table, [1], [0, 1])).backward());
      const mid = await table.toArray();
      c.adamUpdate(table, table.rowGrads[0]!, s1, { lr: 0.1 });
      const after = await table.toArray();
      for (let i = 0; i < 15; i++) if (Math.floor(i / 3) !== 1) expect(after[i]).toBe(mid[i]);
      expect(after.slice(3, 6)).not.toEqual(mid.slice(3, 6));
      [table, twin, w, dense, s1.m, s1.v, s2.m, s2.v].forEach((t) => t.dispose());
    });

    test('row-wise Adagrad keeps one accumulator per row', async () => {
      const table = c.tensor([1, 2, 3, 4, 5, 6], [3, 2], { ...opts, requiresGrad: true });
      table.sparseGrad = true;
      c.scope(() => c.sum(c.mul(c.embeddingBag(table, [2], [0, 1]), c.tensor([[3, 4]], undefined, opts))).backward());
      const state = c.full([3], 0.5, opts);
      c.adagradRowsUpdate(table, table.rowGrads[0]!, state, { lr: 0.1, eps: 1e-10 });
      const s = 0.5 + (9 + 16) / 2, step = 0.1 / (Math.sqrt(s) + 1e-10);
      expectClose(await state.read(), [0.5, 0.5, s], tol, tol, 'state');
      expectClose(await table.read(), [1, 2, 3, 4, 5 - step * 3, 6 - step * 4], tol, tol, 'table');
      table.dispose();
      state.dispose();
    });

    test('bad hyperparameters and state are refused before dispatch', () => {
      const p = c.zeros([2, 2], opts), g = c.zeros([2, 2], opts);
      const state = { m: c.zeros([2, 2], opts), v: c.zeros([4], opts), step: 0 };
      expect(() => c.adamUpdate(p, g, state, { lr: 0.1 })).toThrow(/state.v tensor \(#\d+, f32 \[4\]\) must be f32 \[2, 2\]/);
      state.v.dispose();
      state.v = c.zeros([2, 2], opts);
      expect(() => c.adamUpdate(p, g, state, { lr: -1 })).toThrow(/lr must be a positive finite number, got -1/);
      expect(() => c.adamUpdate(p, g, state, { lr: 0.1, beta1: 1 })).toThrow(/betas must be in \[0, 1\)/);
      expect(state.step).toBe(0);
      [p, g, state.m, state.v].forEach((t) => t.dispose());
    });
  });
}
