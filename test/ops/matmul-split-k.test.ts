// Split-K matmul: partial products over k ranges and their fixed-order sum. Backends created with a
// lowered split rule (their plan) make small, fast shapes take the split path.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import * as c2al from '../../src/index.js';
import { CpuBackend, WebGpuBackend, type Backend, type Tensor } from '../../src/index.js';
import type { MatmulArgs } from '../../src/kernels.js';
import { DEFAULT_PLAN, matmulSplitK } from '../../src/kernel-plan.js';
import { numel } from '../../src/shape.js';
import { gpu, propRuns } from '../support/gpu.js';
import { expectClose, randomArray, reference as ref } from '../support/util.js';

const defaults = DEFAULT_PLAN.matmul.split;
const forced = { minWorkgroups: 1e9, minK: 16, minChunk: 8, maxSplits: 32 };
const never = { minK: Infinity };
// The same device as `gpu`, planned to split every product long enough, and never.
const splitting = gpu && await WebGpuBackend.create({ compile: 'lazy', context: gpu.ctx, plan: { matmul: { split: forced } } });
const unsplit = gpu && await WebGpuBackend.create({ compile: 'lazy', context: gpu.ctx, plan: { matmul: { split: never } } });

const args = (m: number, n: number, k: number, batchShape: number[] = []): MatmulArgs => ({
  m, n, k, batch: numel(batchShape), batchShape, sam: k, sak: 1, sbk: n, sbn: 1,
  aBatchStrides: batchShape.map(() => m * k), bBatchStrides: batchShape.map(() => k * n),
});

async function product(backend: Backend, a: number[], b: number[], da: number[], db: number[], transA: boolean): Promise<Float32Array | Float64Array> {
  const out = c2al.scope(() => c2al.matmul(c2al.tensor(da, a, { backend }), c2al.tensor(db, b, { backend }), { transA }));
  const values = await out.read();
  out.dispose();
  return values as Float32Array | Float64Array;
}

describe('when matmul splits K', () => {
  test('only small outputs with a long reduction split, into chunks of at least minChunk', () => {
    expect(matmulSplitK(args(1024, 1024, 1024), defaults)).toBe(1); // the output alone fills the device
    expect(matmulSplitK(args(64, 64, 512), defaults)).toBe(1); // K too short to be worth a second pass
    const splits = matmulSplitK(args(64, 64, 65536), defaults);
    expect(splits).toBeGreaterThan(1);
    expect(splits).toBeLessThanOrEqual(defaults.maxSplits);
    expect(65536 / splits).toBeGreaterThanOrEqual(defaults.minChunk);
    expect(matmulSplitK(args(64, 64, 2048, [2, 2, 2, 2]), defaults)).toBe(1); // no batch dim left for the split
    // Every split is non-empty: a count that would leave the last split empty is reduced.
    for (const k of [17, 33, 100, 257]) {
      const s = matmulSplitK(args(4, 4, k), forced);
      expect((s - 1) * Math.ceil(k / s)).toBeLessThan(k);
    }
  });
});

describe.skipIf(!gpu)('split-K matmul agrees with the float64 reference', () => {
  test.prop([fc.integer({ min: 1, max: 40 }), fc.integer({ min: 16, max: 700 }), fc.integer({ min: 1, max: 6 }), fc.boolean(),
    fc.constantFrom<number[]>([], [2], [2, 3]), fc.boolean(), fc.nat()], { numRuns: propRuns })(
    'random shapes, A transposed or not, batched (last split shorter than the rest)', async (m, k, n4, transA, batch, batchB, seed) => {
      const n = 4 * n4;
      expect(matmulSplitK({ ...args(m, n, k, batch) }, forced)).toBeGreaterThan(1);
      // A batched B puts the next sample's rows right after a split's k range: a split reading past it shows.
      const a = [...batch, ...(transA ? [k, m] : [m, k])], b = [...(batchB ? batch : []), k, n];
      const da = randomArray(numel(a), seed).map(Math.fround), db = randomArray(numel(b), seed + 1).map(Math.fround);
      const want = await product(ref, a, b, da, db, transA);
      const before = splitting!.dispatches;
      const got = await product(splitting!, a, b, da, db, transA);
      expect(splitting!.dispatches - before, 'partials, then one column sum').toBe(2);
      expectClose(got, want, 1e-5 * k, 1e-5, 'split-K vs reference');
      // Deterministic: a second run gives the same bits.
      const again = await product(splitting!, a, b, da, db, transA);
      expect(Array.from(again)).toEqual(Array.from(got));
    });

  test('split and unsplit products agree on a long reduction, and the split path launches more workgroups', async () => {
    const [m, k, n] = [16, 4096, 16];
    const da = randomArray(m * k, 3).map(Math.fround), db = randomArray(k * n, 4).map(Math.fround);
    const whole = await product(unsplit!, [m, k], [k, n], da, db, false);
    expect(matmulSplitK(args(m, n, k), defaults)).toBeGreaterThan(1); // the default rule splits this shape
    const before = gpu!.dispatches;
    const split = await product(gpu!, [m, k], [k, n], da, db, false);
    expect(gpu!.dispatches - before).toBe(2); // partials, then one fixed-order column sum
    const want = await product(ref, [m, k], [k, n], da, db, false);
    expectClose(split, want, 1e-5 * k, 1e-5, 'split vs reference');
    expectClose(whole, want, 1e-5 * k, 1e-5, 'unsplit vs reference');
  });

  test('gradients through a split product pass gradcheck', async () => {
    const f = (xs: Tensor[]): Tensor => c2al.matmul(xs[0]!, xs[1]!);
    const report = await c2al.gradcheck(f, [{ shape: [3, 40] }, { shape: [40, 8] }], { backend: splitting! });
    expect(report.failure).toBeUndefined();
    expect(report.pass).toBe(true);
    // The backward products (dA = dC·Bᵀ, dB = Aᵀ·dC) have K = 8 and 3: only the forward splits here; dB splits below.
    const g = (xs: Tensor[]): Tensor => c2al.matmul(xs[0]!, xs[1]!, { transA: true });
    const reportT = await c2al.gradcheck(g, [{ shape: [48, 4] }, { shape: [48, 8] }], { backend: splitting! });
    expect(reportT.pass).toBe(true);
  });
});

describe('split-K on the CPU backend', () => {
  test('runs the same partials + column sum, within float64 rounding of the unsplit product', async () => {
    const [m, k, n] = [5, 301, 12];
    const da = randomArray(m * k, 7), db = randomArray(k * n, 8);
    const whole = await product(new CpuBackend('f64', { matmul: { split: never } }), [m, k], [k, n], da, db, false);
    const split = await product(new CpuBackend('f64', { matmul: { split: forced } }), [m, k], [k, n], da, db, false);
    expectClose(split, whole, 1e-12, 1e-12, 'split vs unsplit (f64)');
  });
});
