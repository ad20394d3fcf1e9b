import { describe, expect, test } from 'vitest';
import * as c from '../src/index.js';
import { CpuBackend, type Backend } from '../src/index.js';
import { gpu } from './gpu.js';
import { expectClose, randomArray } from './util.js';

const ref = new CpuBackend('f64');
const backends: [string, Backend | null][] = [['cpu', ref], ['webgpu', gpu]];

for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`FM interaction on ${name}`, () => {
    const tol = name === 'cpu' ? 1e-12 : 2e-5;
    for (const shared of [true, false]) {
      test(`${shared ? 'shared' : 'per-sample'} Y: gradients equal the closed forms dY = X·(Xᵀ·dG), dX = dG·(Yᵀ·X) + Y·(dGᵀ·X)`, async () => {
        const [B, n, d, k] = [3, 5, 4, 2];
        const opts = { backend: backend! };
        const x = c.tensor(randomArray(B * n * d, 1), [B, n, d], { ...opts, requiresGrad: true });
        const y = c.tensor(randomArray((shared ? 1 : B) * n * k, 2), shared ? [n, k] : [B, n, k], { ...opts, requiresGrad: true });
        const dG = c.tensor(randomArray(B * n * k, 3), [B, n, k], opts);
        const g = c.fmInteraction(x, y);
        expect(g.shape).toEqual([B, n, k]);
        g.backward(dG);
        const closed = c.scope(() => {
          const dyPer = c.matmul(x, c.matmul(x, dG, { transA: true }));
          const dx = c.add(c.matmul(dG, c.matmul(y, x, { transA: true })), c.matmul(y, c.matmul(dG, x, { transA: true })));
          return { dy: shared ? c.sum(dyPer, 0) : dyPer, dx };
        });
        expectClose(await y.grad!.read(), await closed.dy.read(), tol, tol, 'dY');
        expectClose(await x.grad!.read(), await closed.dx.read(), tol, tol, 'dX');
        [x, y, dG, g, closed.dy, closed.dx].forEach((t) => t.dispose());
      });
    }
  });
}

test.skipIf(!gpu)('FM interaction: the GPU forward matches the float64 reference', async () => {
  const xs = randomArray(2 * 6 * 8, 4), ys = randomArray(6 * 3, 5);
  const out = await Promise.all([ref, gpu!].map(async (b) => {
    const g = c.noGrad(() => c.scope(() => c.fmInteraction(c.tensor(xs, [2, 6, 8], { backend: b }), c.tensor(ys, [6, 3], { backend: b }))));
    const r = await g.read();
    g.dispose();
    return r;
  }));
  expectClose(out[1]!, out[0]!, 1e-5, 1e-5, 'G');
});

test('FM interaction: float64 finite differences agree with the analytic gradient', async () => {
  const [B, n, d, k] = [2, 3, 3, 2];
  const xs = randomArray(B * n * d, 6), ys = randomArray(n * k, 7), w = randomArray(B * n * k, 8);
  const loss = (xv: number[], yv: number[]): number => c.scope(() => {
    const g = ref.readSync(c.fmInteraction(c.tensor(xv, [B, n, d], { backend: ref }), c.tensor(yv, [n, k], { backend: ref })).storage);
    return Array.from(g).reduce((acc, v, i) => acc + v * w[i]!, 0);
  });
  const x = c.tensor(xs, [B, n, d], { backend: ref, requiresGrad: true }), y = c.tensor(ys, [n, k], { backend: ref, requiresGrad: true });
  c.scope(() => c.sum(c.mul(c.fmInteraction(x, y), c.tensor(w, [B, n, k], { backend: ref }))).backward());
  const [gx, gy] = [await x.grad!.toArray(), await y.grad!.toArray()];
  const eps = 1e-6;
  xs.forEach((_, i) => {
    const p = [...xs], m = [...xs];
    p[i]! += eps; m[i]! -= eps;
    expect(Math.abs((loss(p, ys) - loss(m, ys)) / (2 * eps) - gx[i]!)).toBeLessThan(1e-7);
  });
  ys.forEach((_, i) => {
    const p = [...ys], m = [...ys];
    p[i]! += eps; m[i]! -= eps;
    expect(Math.abs((loss(xs, p) - loss(xs, m)) / (2 * eps) - gy[i]!)).toBeLessThan(1e-7);
  });
  x.dispose();
  y.dispose();
});

test('FM interaction refuses mismatched shapes', () => {
  const x = c.zeros([2, 3, 4], { backend: ref }), y = c.zeros([4, 2], { backend: ref });
  expect(() => c.fmInteraction(x, y)).toThrow(/y tensor \(#\d+, f32 \[4, 2\]\) must be \[3, k\] or \[2, 3, k\]/);
  x.dispose();
  y.dispose();
});
