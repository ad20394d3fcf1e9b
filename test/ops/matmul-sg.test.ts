// matmul_sg and matmul_sg_ta: the subgroup-broadcast matmuls that row-major and transposed-A products take on
// adapters with one fixed subgroup size (lavapipe 8, SwiftShader 4), and the fallback to matmul_vec4 everywhere else.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import * as c2al from '../../src/index.js';
import { BackendError, WebGpuBackend, type Backend, type Tensor } from '../../src/index.js';
import { DEFAULT_PLAN, matmulSgPreferred } from '../../src/kernel-plan.js';
import { numel } from '../../src/shape.js';
import { gpu, propRuns } from '../support/gpu.js';
import { expectClose, randomArray, reference as ref, kernelsRun } from '../support/util.js';

const sg = gpu?.subgroupSize ?? null;


async function product(backend: Backend, a: number[], b: number[], da: number[], db: number[], transA = false): Promise<Float32Array | Float64Array> {
  const out = c2al.scope(() => c2al.matmul(c2al.tensor(da, a, { backend }), c2al.tensor(db, b, { backend }), { transA }));
  const values = await out.read();
  out.dispose();
  return values as Float32Array | Float64Array;
}

describe.skipIf(!gpu || sg === null)('matmul() picks matmul_sg where it measured faster', () => {
  test(`row-major A with K % 4 == 0 takes matmul_sg at subgroup size ≥ ${DEFAULT_PLAN.matmul.minSubgroup} (here ${sg}), A transposed with M and K ` +
    'multiples of 4 matmul_sg_ta; other layouts keep matmul_vec4', () => {
    const g = gpu!;
    const want = matmulSgPreferred(g.plan, sg) ? 'matmul_sg' : 'matmul_vec4';
    const wantTa = matmulSgPreferred(g.plan, sg) ? 'matmul_sg_ta' : 'matmul_vec4';
    const run = (a: number[], b: number[], transA = false): string[] => kernelsRun(g, () => {
      c2al.noGrad(() => c2al.scope(() => { c2al.matmul(c2al.zeros(a, { backend: g }), c2al.zeros(b, { backend: g }), { transA }); }));
    });
    expect(run([20, 32], [32, 12])).toEqual(['fill', 'fill', want]);
    expect(run([3, 20, 8], [8, 16])).toContain(want);
    expect(run([32, 20], [32, 12], true)).toEqual(['fill', 'fill', wantTa]); // a weight gradient Xᵀ·dY
    expect(run([32, 18], [32, 12], true)).toContain('matmul_vec4'); // M % 4 != 0: A's stored rows do not load as vec4
    expect(run([30, 20], [30, 12], true)).toContain('matmul_vec4'); // K % 4 != 0
    expect(run([20, 30], [30, 12])).toContain('matmul_vec4');
    expect(run([20, 32], [32, 6])).toContain('matmul');
    // A transposed with a large output (a weight gradient over a big batch): copied row-major (transpose_vec4) for matmul_sg.
    expect(run([64, 272], [64, 256], true)).toEqual(['fill', 'fill', ...(want === 'matmul_sg' ? ['transpose_vec4', 'matmul_sg'] : ['matmul_vec4'])]);
    expect(run([64, 200], [64, 256], true)).toEqual(['fill', 'fill', wantTa]); // 51,200 outputs: below the copy's threshold
  });

  test('the copied transposed A gives the float64 product, and the bits matmul_vec4 gives reading A in place', async () => {
    const vec4Only = await WebGpuBackend.create({ compile: 'lazy', context: gpu!.ctx, plan: { matmul: { minSubgroup: 1000 } } });
    const a = [64, 272], b = [64, 256];
    const da = randomArray(numel(a), 3).map(Math.fround), db = randomArray(numel(b), 4).map(Math.fround);
    const got = await product(gpu!, a, b, da, db, true);
    expectClose(got, await product(ref, a, b, da, db, true), 1e-5 * 64, 1e-5, 'copy + matmul_sg vs reference');
    expect(Array.from(got)).toEqual(Array.from(await product(vec4Only, a, b, da, db, true)));
  });
});

// Through the op at any fixed subgroup size: a backend on the same device whose plan prefers matmul_sg
// from 1 lane up, so that 4 (SwiftShader) runs it too.
const sgAlways = gpu && sg !== null ? await WebGpuBackend.create({ compile: 'lazy', context: gpu.ctx, plan: { matmul: { minSubgroup: 1 } } }) : null;
const vec4Only = gpu && await WebGpuBackend.create({ compile: 'lazy', context: gpu.ctx, plan: { matmul: { minSubgroup: 1000 } } });
describe.skipIf(!sgAlways)('matmul_sg through matmul() on this adapter', () => {
  test.prop([fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 12 }),
    fc.constantFrom<[number[], number[]]>([[], []], [[3], []], [[2], [2]], [[2, 1], [1, 3]]), fc.nat()], { numRuns: propRuns })(
    'random shapes, batched and broadcast, agree with the float64 reference and rerun bit for bit', async (m, k4, n4, [ba, bb], seed) => {
      const k = 4 * k4, n = 4 * n4;
      const a = [...ba, m, k], b = [...bb, k, n];
      const da = randomArray(numel(a), seed).map(Math.fround), db = randomArray(numel(b), seed + 1).map(Math.fround);
      const want = await product(ref, a, b, da, db);
      const got = await product(sgAlways!, a, b, da, db);
      expectClose(got, want, 1e-5 * k, 1e-5, 'matmul_sg vs reference');
      expect(Array.from(await product(sgAlways!, a, b, da, db))).toEqual(Array.from(got));
    });

  test.prop([fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 12 }),
    fc.constantFrom<[number[], number[]]>([[], []], [[3], []], [[2], [2]], [[2, 1], [1, 3]]), fc.nat()], { numRuns: propRuns })(
    'A transposed (matmul_sg_ta): random shapes agree with the float64 reference and give matmul_vec4\'s bits', async (m4, k4, n4, [ba, bb], seed) => {
      const m = 4 * m4, k = 4 * k4, n = 4 * n4;
      const a = [...ba, k, m], b = [...bb, k, n];
      const da = randomArray(numel(a), seed).map(Math.fround), db = randomArray(numel(b), seed + 1).map(Math.fround);
      const names = kernelsRun(sgAlways!, () => c2al.noGrad(() => c2al.scope(() => {
        c2al.matmul(c2al.zeros(a, { backend: sgAlways! }), c2al.zeros(b, { backend: sgAlways! }), { transA: true });
      })));
      expect(names).toContain('matmul_sg_ta');
      const got = await product(sgAlways!, a, b, da, db, true);
      expectClose(got, await product(ref, a, b, da, db, true), 1e-5 * k, 1e-5, 'matmul_sg_ta vs reference');
      expect(Array.from(got)).toEqual(Array.from(await product(vec4Only!, a, b, da, db, true)));
    });

  test('gradients through matmul_sg_ta (a weight gradient) pass gradcheck', async () => {
    const f = (xs: Tensor[]): Tensor => c2al.matmul(xs[0]!, xs[1]!, { transA: true });
    const names = kernelsRun(sgAlways!, () => c2al.noGrad(() => c2al.scope(() => { f([c2al.zeros([12, 8], { backend: sgAlways! }), c2al.zeros([12, 8], { backend: sgAlways! })]); })));
    expect(names).toContain('matmul_sg_ta');
    const report = await c2al.gradcheck(f, [{ shape: [12, 8] }, { shape: [12, 8] }], { backend: sgAlways! });
    expect(report.failure).toBeUndefined();
    expect(report.pass).toBe(true);
  });

  test('gradients through matmul_sg pass gradcheck', async () => {
    const f = (xs: Tensor[]): Tensor => c2al.matmul(xs[0]!, xs[1]!);
    const names = kernelsRun(sgAlways!, () => c2al.noGrad(() => c2al.scope(() => { f([c2al.zeros([2, 5, 12], { backend: sgAlways! }), c2al.zeros([12, 8], { backend: sgAlways! })]); })));
    expect(names).toContain('matmul_sg');
    const report = await c2al.gradcheck(f, [{ shape: [2, 5, 12] }, { shape: [12, 8] }], { backend: sgAlways! });
    expect(report.failure).toBeUndefined();
    expect(report.pass).toBe(true);
  });
});

describe.skipIf(!gpu)('without a fixed subgroup size', () => {
  test('matmul falls back to matmul_vec4 with the same results, and running matmul_sg says why it cannot', async () => {
    const g = gpu!;
    // A second backend on the same device that was told the adapter has no fixed subgroup size.
    const plain = await WebGpuBackend.create({ compile: 'lazy', context: { ...g.ctx, subgroupSize: null } });
    expect(plain.subgroupSize).toBeNull();
    const [m, k, n] = [19, 64, 24];
    const da = randomArray(m * k, 5).map(Math.fround), db = randomArray(k * n, 6).map(Math.fround);
    const names = kernelsRun(plain, () => c2al.noGrad(() => c2al.scope(() => { c2al.matmul(c2al.zeros([m, k], { backend: plain }), c2al.zeros([k, n], { backend: plain })); })));
    expect(names).toContain('matmul_vec4');
    expect(names).not.toContain('matmul_sg');
    const want = await product(ref, [m, k], [k, n], da, db);
    expectClose(await product(plain, [m, k], [k, n], da, db), want, 1e-5 * k, 1e-5, 'fallback vs reference');
    const x = plain.alloc(4, 'f32'), y = plain.alloc(4, 'f32'), z = plain.alloc(4, 'f32');
    const args = { m: 1, n: 4, k: 4, batch: 1, batchShape: [], aBatchStrides: [], bBatchStrides: [], sam: 4, sak: 1, sbk: 4, sbn: 1, sg: 8 };
    expect(() => plain.run('matmul_sg', [x, y], [z], args)).toThrow(BackendError);
    expect(() => plain.run('matmul_sg', [x, y], [z], args)).toThrow(/needs the 'subgroups' feature with one fixed subgroup size/);
    [x, y, z].forEach((s) => plain.release(s));
  });
});
