/**
 * linear: act(x·W + b), the op a Linear layer runs (kernels linear_sg[_relu] and linear[_relu],
 * shaders/linear_sg.wgsl and linear.wgsl, twin linearRef; the unfused matmul, add and relu elsewhere).
 * Output and the three gradients against float64, bit-identical to matmul + add + relu on the same backend
 * (forward and backward), the kernel each shape takes, gradcheck, and bad input.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import * as c from '../../src/index.js';
import type { Backend, Tensor } from '../../src/index.js';
import { gpu, propRuns } from '../support/gpu.js';
import { expectClose, kernelsRun, randomArray, reference } from '../support/util.js';

type Act = 'none' | 'relu';

/** y = f(x, W, b) and the gradients of Σ y·u on `backend`, with f the fused op or its three-op composition. */
async function run(backend: Backend, fused: boolean, xShape: number[], inF: number, outF: number, act: Act, seed: number) {
  const rows = xShape.reduce((a, d) => a * d, 1) / inF;
  const opts = { backend, requiresGrad: true };
  const x = c.tensor(randomArray(rows * inF, seed).map(Math.fround), xShape, opts);
  const w = c.tensor(randomArray(inF * outF, seed + 1).map(Math.fround), [inF, outF], opts);
  const b = c.tensor(randomArray(outF, seed + 2).map(Math.fround), [outF], opts);
  const u = c.tensor(randomArray(rows * outF, seed + 3).map(Math.fround), [...xShape.slice(0, -1), outF], { backend });
  const y = c.scope(() => {
    const z = fused ? c.linear(x, w, b, act) : ((t: Tensor) => (act === 'relu' ? c.relu(t) : t))(c.add(c.matmul(x, w), b));
    c.sum(c.mul(z, u)).backward();
    return z;
  });
  const out = await Promise.all([y, x.grad!, w.grad!, b.grad!].map(async (t) => Array.from(await t.read())));
  [y, x, w, b, u].forEach((t) => t.dispose());
  return out;
}

const shapes = fc.record({
  lead: fc.constantFrom<number[]>([], [2]), rows: fc.integer({ min: 1, max: 40 }), inF: fc.integer({ min: 1, max: 24 }),
  outF: fc.integer({ min: 1, max: 20 }), act: fc.constantFrom<Act>('none', 'relu'), seed: fc.nat(),
});

describe.skipIf(!gpu)('linear on the GPU', () => {
  test.prop([shapes], { numRuns: propRuns })('output and gradients agree with float64; bit-identical to matmul + add + relu', async (s) => {
    const xShape = [...s.lead, s.rows, s.inF];
    const got = await run(gpu!, true, xShape, s.inF, s.outF, s.act, s.seed);
    const want = await run(reference, true, xShape, s.inF, s.outF, s.act, s.seed);
    const names = ['y', 'dx', 'dW', 'db'];
    const rowsTotal = xShape.reduce((a, d) => a * d, 1) / s.inF;
    got.forEach((g, i) => expectClose(g, want[i]!, 1e-5 * (s.inF + rowsTotal), 1e-4, `${names[i]} vs float64`));
    const composed = await run(gpu!, false, xShape, s.inF, s.outF, s.act, s.seed);
    composed.forEach((g, i) => expect(new Float32Array(got[i]!), `${names[i]}: fused vs matmul + add + relu`).toEqual(new Float32Array(g)));
  });

  test('rows of a Linear take the fused kernel where the register-blocked matmul applies; other shapes the three kernels', () => {
    const kernelsOf = (x: number[], w: number[], act: Act) => kernelsRun(gpu!, () => c.noGrad(() => c.scope(() => {
      c.linear(c.zeros(x, { backend: gpu! }), c.zeros(w, { backend: gpu! }), c.zeros([w[1]!], { backend: gpu! }), act);
    }))).filter((k) => k !== 'fill');
    const fused = gpu!.subgroupSize !== null && gpu!.subgroupSize >= gpu!.plan.matmul.minSubgroup ? 'linear_sg' : 'linear';
    expect(kernelsOf([20, 32], [32, 12], 'relu')).toEqual([`${fused}_relu`]);
    expect(kernelsOf([3, 20, 32], [32, 12], 'none')).toEqual([fused]);
    expect(kernelsOf([20, 30], [30, 12], 'none')).toEqual(['linear']); // K % 4 != 0: the matmul_vec4 body
    // N % 4 != 0: no register-blocked kernel, so the three ops' kernels.
    expect(kernelsOf([20, 32], [32, 6], 'relu')).toEqual(['matmul', expect.stringMatching(/^add/), expect.stringMatching(/^relu/)]);
  });

  test('gradients pass gradcheck through the fused kernel', async () => {
    const f = (xs: Tensor[]): Tensor => c.linear(xs[0]!, xs[1]!, xs[2]!, 'relu');
    const report = await c.gradcheck(f, [{ shape: [17, 8] }, { shape: [8, 8] }, { shape: [8] }], { backend: gpu! });
    expect(report.failure).toBeUndefined();
    expect(report.pass).toBe(true);
  });
});

describe('linear bad input', () => {
  const backend = gpu ?? reference;
  test('wrong shapes or activation: a clear error, nothing allocated', () => {
    const made = [[4, 3], [3, 2], [2], [4, 2], [3], [3]].map((shape) => c.zeros(shape, { backend }));
    const [x, w, b, w42, v3, x1] = made as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
    const before = c.liveTensors().length;
    expect(() => c.linear(x, w42, b)).toThrow(/linear: x must be \[\.\.\., 4\] with rank >= 2, got/);
    expect(() => c.linear(x, w, v3)).toThrow(/linear: bias must be \[2\]/);
    expect(() => c.linear(x, v3, b)).toThrow(/linear: weight must be \[in, out\]/);
    expect(() => c.linear(x1, w, b)).toThrow(/rank >= 2/);
    expect(() => c.linear(x, w, b, 'gelu' as Act)).toThrow(/linear: activation must be 'none' or 'relu', got 'gelu'/);
    expect(c.liveTensors().length).toBe(before);
    made.forEach((t) => t.dispose());
  });
});
