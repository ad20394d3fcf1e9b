import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { CpuBackend, ShaderCompileError, TensorError, type Backend } from '../../src/index.js';
import { matchers } from '../../src/testing/index.js';
import { registerSwish } from '../../docs/examples/custom-swish.js';
import { gpu } from '../support/gpu.js';

expect.extend(matchers);

const backend: Backend = gpu ?? new CpuBackend('f64');
c.setBackend(backend);
const swish = await registerSwish([backend]);

const kernel = (name: string, code: string, inputs = 1, outputs = 1) => ({
  name, code, entry: 'main', inputs, outputs, file: `user/${name}.wgsl`,
  params: (a: { n: number }) => [a.n], grid: (a: { n: number }) => Math.ceil(a.n / 64),
  cpu: (ins: Float64Array[] | unknown[], outs: unknown[]) => { (outs[0] as Float64Array).set(ins[0] as Float64Array); },
});
const copyWgsl = `struct Params { n: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < p.n) { y[g.x] = x[g.x]; } }
`;

describe('a user-registered op (docs/examples/custom-swish.ts)', () => {
  test('matches its float64 reference and passes gradcheck, full and directional', async () => {
    await expect((xs: c.Tensor[]) => swish([xs[0]!], { beta: 1.3 })).toMatchReference([{ shape: [5, 7] }]);
    await expect((xs: c.Tensor[]) => swish([xs[0]!])).toPassGradcheck([{ shape: [4, 8] }]);
    await expect((xs: c.Tensor[]) => swish([xs[0]!], { beta: 0.6 })).toPassGradcheck([{ shape: [64, 64] }], { directions: 8 });
  });

  test('composes with built-in ops under autograd and scope', async () => {
    await expect((xs: c.Tensor[]) => c.sum(c.mul(swish([c.matmul(xs[0]!, xs[1]!)]), xs[0]!), 1)).toPassGradcheck([{ shape: [3, 3] }, { shape: [3, 3] }]);
    const before = c.liveTensors().length;
    const x = c.tensor([0.5, -1, 2], undefined, { requiresGrad: true });
    c.scope(() => c.sum(swish([x])).backward());
    expect(c.liveTensors().length).toBe(before + 2); // x and x.grad
    x.dispose();
  });

  test('a wrong backward is caught, and the report names the worst element', async () => {
    const bad = await c.registerOp({
      name: 'swishWrongGrad',
      kernels: [],
      forward: ([x]) => ({ out: c.mul(x!, c.sigmoid(x!)) }),
      backward: (d, [x]) => [c.mul(d, c.sigmoid(x!))], // drops the x·σ'(x) term
    });
    const report = await c.gradcheck((xs) => bad([xs[0]!]), [{ shape: [6], data: [-2, -1, 0.1, 0.5, 1, 3] }]);
    expect(report.pass).toBe(false);
    expect(report.worst).toMatchObject({ input: 0 });
    expect(report.failure).toMatch(/finite difference/);
    const w = report.worst!;
    expect(Math.abs(w.reference - w.finiteDifference)).toBeGreaterThan(1000 * (report.tolerance.fdAtol + report.tolerance.fdRtol * Math.abs(w.reference)));
    await expect((xs: c.Tensor[]) => bad([xs[0]!])).not.toPassGradcheck([{ shape: [6] }]);
    const message = (await matchers.toPassGradcheck((xs) => bad([xs[0]!]), [{ shape: [6] }])).message();
    expect(message).toMatch(/gradcheck failed \(full\).*\n  worst: input 0, element \d+/);
  });

  test('benchmarkOp validates against the reference, then reports throughput on the adapter', async () => {
    const x = c.randomNormal([256, 256], { seed: 1 });
    const r = await c.benchmarkOp('swish', [x], { attrs: { beta: 1 }, reps: 5 });
    expect(r.adapter).toBe(backend.description);
    expect(r.maxAbsErr).toBeLessThan(1e-5);
    expect(r.gflops).toBeGreaterThan(0);
    expect(r.gbps).toBeGreaterThan(0);
    x.dispose();
  });
});

describe('registerOp refuses bad kernels and ops with clear errors', () => {
  test.skipIf(!gpu)('a WGSL compile error cites the user file, line and column', async () => {
    const broken = copyWgsl.replace('y[g.x] = x[g.x];', 'y[g.x] = x[g.x] + nope;');
    const err = await c.registerOp({ name: 'brokenOp', kernels: [kernel('broken_copy', broken)], forward: ([x]) => ({ out: x! }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShaderCompileError);
    expect((err as Error).message).toMatch(/user\/broken_copy\.wgsl:5:\d+: error: .*nope/);
    // Nothing half-registered: the same names can be used again.
    await expect(c.registerOp({ name: 'brokenOp', kernels: [kernel('broken_copy', copyWgsl)], forward: ([x]) => ({ out: x! }) })).resolves.toBeTypeOf('function');
  });

  test('declared bindings must match the WGSL; names must be new', async () => {
    await expect(c.registerOp({ name: 'twoIn', kernels: [kernel('two_in', copyWgsl, 2, 1)], forward: ([x]) => ({ out: x! }) }))
      .rejects.toThrow(/kernel two_in declares 2 inputs and 1 outputs, but its WGSL binds 1 read and 1 read_write/);
    await expect(c.registerOp({ name: 'swish', kernels: [], forward: ([x]) => ({ out: x! }) })).rejects.toThrow(/an op named 'swish' already exists/);
    await expect(c.registerOp({ name: 'matmul', kernels: [], forward: ([x]) => ({ out: x! }) })).rejects.toThrow(/already exists/);
    await expect(c.registerOp({ name: 'again', kernels: [kernel('swish_forward', copyWgsl)], forward: ([x]) => ({ out: x! }) })).rejects.toThrow(/a kernel named 'swish_forward' already exists/);
  });

  test('an output of the wrong shape and bad inputs are refused', async () => {
    const wrong = await c.registerOp({ name: 'wrongShape', kernels: [], outputShape: ([x]) => x!.shape, forward: ([x]) => ({ out: c.reshape(x!, [-1]) }) });
    const x = c.zeros([2, 3]);
    expect(() => wrong([x])).toThrow(/wrongShape: forward produced \[6\], but outputShape says \[2, 3\]/);
    expect(() => swish([c.tensor([1], [1], { dtype: 'i32' })])).toThrow(/swish: x must be an f32 tensor/);
    const gone = c.zeros([2]);
    gone.dispose();
    expect(() => swish([gone])).toThrow(TensorError);
    x.dispose();
  });
});
