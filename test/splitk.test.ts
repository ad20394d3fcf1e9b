// Split-K matmul: partial products over k ranges and their fixed-order sum. The thresholds are lowered
// inside each test so small, fast shapes take the split path; each test restores them.
import { fc, test } from '@fast-check/vitest';
import { afterEach, describe, expect } from 'vitest';
import * as c2al from '../src/index.js';
import { CpuBackend, type Backend, type Tensor } from '../src/index.js';
import { matmulSplit, matmulSplitK, type MatmulArgs } from '../src/kernels.js';
import { numel } from '../src/shape.js';
import { gpu, propRuns } from './gpu.js';
import { expectClose, randomArray } from './util.js';

const defaults = { ...matmulSplit };
const forceSplits = (): void => { Object.assign(matmulSplit, { minWorkgroups: 1e9, minK: 16, minChunk: 8, maxSplits: 32 }); };
const neverSplit = (): void => { Object.assign(matmulSplit, { minK: Infinity }); };
afterEach(() => { Object.assign(matmulSplit, defaults); });

const ref = new CpuBackend('f64');
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
    expect(matmulSplitK(args(1024, 1024, 1024))).toBe(1); // the output alone fills the device
    expect(matmulSplitK(args(64, 64, 512))).toBe(1); // K too short to be worth a second pass
    const splits = matmulSplitK(args(64, 64, 65536));
    expect(splits).toBeGreaterThan(1);
    expect(splits).toBeLessThanOrEqual(matmulSplit.maxSplits);
    expect(65536 / splits).toBeGreaterThanOrEqual(matmulSplit.minChunk);
    expect(matmulSplitK(args(64, 64, 2048, [2, 2, 2, 2]))).toBe(1); // no batch dim left for the split
    // Every split is non-empty: a count that would leave the last split empty is reduced.
    forceSplits();
    for (const k of [17, 33, 100, 257]) {
      const s = matmulSplitK(args(4, 4, k));
      expect((s - 1) * Math.ceil(k / s)).toBeLessThan(k);
    }
  });
});

describe.skipIf(!gpu)('split-K matmul agrees with the float64 reference', () => {
  test.prop([fc.integer({ min: 1, max: 40 }), fc.integer({ min: 16, max: 700 }), fc.integer({ min: 1, max: 6 }), fc.boolean(),
    fc.constantFrom<number[]>([], [2], [2, 3]), fc.boolean(), fc.nat()], { numRuns: propRuns })(
    'random shapes, A transposed or not, batched (last split shorter than the rest)', async (m, k, n4, transA, batch, batchB, seed) => {
      forceSplits();
      const n = 4 * n4;
      expect(matmulSplitK({ ...args(m, n, k, batch) })).toBeGreaterThan(1);
      // A batched B puts the next sample's rows right after a split's k range: a split reading past it shows.
      const a = [...batch, ...(transA ? [k, m] : [m, k])], b = [...(batchB ? batch : []), k, n];
      const da = randomArray(numel(a), seed).map(Math.fround), db = randomArray(numel(b), seed + 1).map(Math.fround);
      const want = await product(ref, a, b, da, db, transA);
      const got = await product(gpu!, a, b, da, db, transA);
      expectClose(got, want, 1e-5 * k, 1e-5, 'split-K vs reference');
      // Deterministic: a second run gives the same bits.
      const again = await product(gpu!, a, b, da, db, transA);
      expect(Array.from(again)).toEqual(Array.from(got));
    });

  test('split and unsplit products agree on a long reduction, and the split path launches more workgroups', async () => {
    const [m, k, n] = [16, 4096, 16];
    const da = randomArray(m * k, 3).map(Math.fround), db = randomArray(k * n, 4).map(Math.fround);
    neverSplit();
    const whole = await product(gpu!, [m, k], [k, n], da, db, false);
    Object.assign(matmulSplit, defaults);
    expect(matmulSplitK(args(m, n, k))).toBeGreaterThan(1); // the default rule splits this shape
    const before = gpu!.dispatches;
    const split = await product(gpu!, [m, k], [k, n], da, db, false);
    expect(gpu!.dispatches - before).toBe(2); // partials, then one fixed-order column sum
    const want = await product(ref, [m, k], [k, n], da, db, false);
    expectClose(split, want, 1e-5 * k, 1e-5, 'split vs reference');
    expectClose(whole, want, 1e-5 * k, 1e-5, 'unsplit vs reference');
  });

  test('gradients through a split product pass gradcheck', async () => {
    forceSplits();
    const f = (xs: Tensor[]): Tensor => c2al.matmul(xs[0]!, xs[1]!);
    const report = await c2al.gradcheck(f, [{ shape: [3, 40] }, { shape: [40, 8] }], { backend: gpu! });
    expect(report.failure).toBeUndefined();
    expect(report.pass).toBe(true);
    // The backward products (dA = dC·Bᵀ, dB = Aᵀ·dC) have K = 8 and 3: only the forward splits here; dB splits below.
    const g = (xs: Tensor[]): Tensor => c2al.matmul(xs[0]!, xs[1]!, { transA: true });
    const reportT = await c2al.gradcheck(g, [{ shape: [48, 4] }, { shape: [48, 8] }], { backend: gpu! });
    expect(reportT.pass).toBe(true);
  });
});

describe('split-K on the CPU backend', () => {
  test('runs the same partials + column sum, within float64 rounding of the unsplit product', async () => {
    const cpu = new CpuBackend('f64');
    const [m, k, n] = [5, 301, 12];
    const da = randomArray(m * k, 7), db = randomArray(k * n, 8);
    neverSplit();
    const whole = await product(cpu, [m, k], [k, n], da, db, false);
    forceSplits();
    const split = await product(cpu, [m, k], [k, n], da, db, false);
    expectClose(split, whole, 1e-12, 1e-12, 'split vs unsplit (f64)');
  });
});
