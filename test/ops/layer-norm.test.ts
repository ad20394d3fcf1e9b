/**
 * layerNorm: LayerNorm over the last axis (kernels layer_norm[_rows] and layer_norm_backward[_rows],
 * shaders/layer_norm*.wgsl, twins layerNormRef / layerNormBackwardRef). Output and all three gradients
 * against float64 on both kernel variants (the plan's row-length threshold decides which runs), gradcheck.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import * as c from '../../src/index.js';
import { CpuBackend, WebGpuBackend, type Backend } from '../../src/index.js';
import { gpu, propRuns } from '../support/gpu.js';
import { expectClose, kernelsRun, randomArray, reference } from '../support/util.js';

/** y = LayerNorm(x)·g + b and the gradients of Σ y·u (u fixed) on `backend`. */
async function run(backend: Backend, x: number[], shape: number[], g: number[], b: number[], u: number[]) {
  const opts = { backend, requiresGrad: true };
  const [xt, gt, bt] = [c.tensor(x, shape, opts), c.tensor(g, [g.length], opts), c.tensor(b, [b.length], opts)];
  const y = c.scope(() => {
    const out = c.layerNorm(xt, gt, bt);
    c.sum(c.mul(out, c.tensor(u, shape, { backend }))).backward();
    return out;
  });
  const result = await Promise.all([y, xt.grad!, gt.grad!, bt.grad!].map(async (t) => Array.from(await t.read())));
  [y, xt, gt, bt].forEach((t) => t.dispose());
  return result;
}

// The per-row kernels serve dims up to the plan's threshold (512 by default); a plan of 0 sends every row
// to the workgroup kernels, so both variants are checked on the same shapes.
const variants: [string, Backend | null][] = [
  ['per-row kernels', gpu],
  ['workgroup kernels', gpu && await WebGpuBackend.create({ compile: 'lazy', context: gpu.ctx, plan: { layerNormRowMaxDim: 0 } })],
];

for (const [name, backend] of variants) {
  describe.skipIf(!backend)(`layerNorm on the GPU, ${name}`, () => {
    test.prop([fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 2 }), fc.integer({ min: 2, max: 96 }), fc.nat()], { numRuns: propRuns })(
      'output, dx, dgamma and dbeta agree with the float64 reference', async (lead, dim, seed) => {
        const shape = [...lead, dim], n = shape.reduce((a, d) => a * d, 1);
        const x = randomArray(n, seed, -3, 3).map(Math.fround), u = randomArray(n, seed + 1).map(Math.fround);
        const g = randomArray(dim, seed + 2, 0.5, 1.5).map(Math.fround), b = randomArray(dim, seed + 3).map(Math.fround);
        const want = await run(reference, x, shape, g, b, u), got = await run(backend!, x, shape, g, b, u);
        // f32 rounding is amplified by 1/std of nearly constant rows: the bounds of test/support/kernel-cases.ts.
        let rstd = 0;
        for (let r = 0; r < n / dim; r++) {
          const row = x.slice(r * dim, (r + 1) * dim), mean = row.reduce((a, v) => a + v, 0) / dim;
          rstd = Math.max(rstd, 1 / Math.sqrt(row.reduce((a, v) => a + (v - mean) ** 2, 0) / dim + 1e-5));
        }
        const gMax = Math.max(...g.map(Math.abs)), rows = n / dim;
        const atol = [2e-5 + 2.4e-7 * rstd * 3 * gMax, 2e-5 + 5e-5 * rstd * gMax, 1e-4 * rows, 1e-5 * rows];
        ['y', 'dx', 'dgamma', 'dbeta'].forEach((what, i) => expectClose(got[i]!, want[i]!, atol[i]!, 1e-4, what));
      });
  });
}

test('the plan decides the kernels: per-row up to layerNormRowMaxDim (four-wide where dim % 4 == 0), one workgroup per row above', () => {
  for (const [threshold, dim, forward, backward] of [[512, 8, 'layer_norm_rows_vec4', 'layer_norm_backward_rows_vec4'],
    [512, 6, 'layer_norm_rows', 'layer_norm_backward_rows'], [0, 8, 'layer_norm', 'layer_norm_backward']] as const) {
    const backend = new CpuBackend('f64', { layerNormRowMaxDim: threshold });
    const opts = { backend, requiresGrad: true };
    const ran = kernelsRun(backend, () => c.scope(() => c.sum(c.layerNorm(c.zeros([2, dim], opts), c.ones([dim], opts), c.zeros([dim], opts))).backward()));
    expect(ran).toContain(forward);
    expect(ran).toContain(backward);
  }
});

describe.skipIf(!gpu)('four-wide per-row LayerNorm', () => {
  test.prop([fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 60 }), fc.nat()], { numRuns: propRuns })(
    'gives the bits of the scalar per-row kernels, forward and backward', async (rows, d4, seed) => {
      const g = gpu!, dim = 4 * d4;
      const up = (n: number, s: number, lo = -3, hi = 3) => g.upload(Float32Array.from(randomArray(n, s, lo, hi)), 'f32');
      const x = up(rows * dim, seed), gamma = up(dim, seed + 1, 0.5, 1.5), beta = up(dim, seed + 2), dy = up(rows * dim, seed + 3);
      const args = { rows, dim, eps: 1e-5 };
      const run = async (forward: string, backward: string): Promise<number[][]> => {
        const y = g.alloc(rows * dim, 'f32'), dx = g.alloc(rows * dim, 'f32'), dyx = g.alloc(rows * dim, 'f32');
        g.run(forward, [x, gamma, beta], [y], args);
        g.run(backward, [x, gamma, dy], [dx, dyx], args);
        const out = [Array.from(await g.read(y)), Array.from(await g.read(dx)), Array.from(await g.read(dyx))];
        [y, dx, dyx].forEach((s) => g.release(s));
        return out;
      };
      expect(await run('layer_norm_rows_vec4', 'layer_norm_backward_rows_vec4')).toEqual(await run('layer_norm_rows', 'layer_norm_backward_rows'));
      [x, gamma, beta, dy].forEach((s) => g.release(s));
    });
});

describe.skipIf(!gpu)('layerNorm gradcheck on the GPU', () => {
  test.each([6, 8])('x [3, 2, %i] with gamma and beta (8: the four-wide kernels)', async (dim) => {
    const r = await c.gradcheck((xs) => c.layerNorm(xs[0]!, xs[1]!, xs[2]!), [{ shape: [3, 2, dim] }, { shape: [dim], domain: 'positive' }, { shape: [dim] }],
      { backend: gpu! });
    expect(r.failure).toBeUndefined();
    expect(r.pass).toBe(true);
  });
});
