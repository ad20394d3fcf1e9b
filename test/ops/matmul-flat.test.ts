// matmul_vec4's flat block mapping: a batch of products too small for its tile (the FM generator's 14 × 14 by
// [512, 14, 16]) runs with consecutive blocks on consecutive lanes. A backend planned never to map flat gives
// the reference: the same sums in the same order, so the same bits, forward and backward.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import * as c2al from '../../src/index.js';
import { WebGpuBackend, type Backend } from '../../src/index.js';
import { DEFAULT_PLAN, matmulKernelFor, matmulVec4Flat } from '../../src/kernel-plan.js';
import type { MatmulArgs } from '../../src/kernels.js';
import { numel } from '../../src/shape.js';
import { gpu, propRuns } from '../support/gpu.js';
import { expectClose, randomArray, reference as ref } from '../support/util.js';

const tile = DEFAULT_PLAN.matmul.tile;
const tiled = gpu && await WebGpuBackend.create({ compile: 'lazy', context: gpu.ctx, plan: { matmul: { flat: false } } });

const args = (m: number, n: number, k: number, batch: number): MatmulArgs => ({
  m, n, k, batch, batchShape: [batch], sam: k, sak: 1, sbk: n, sbn: 1, aBatchStrides: [0], bBatchStrides: [k * n],
});

describe('which products map flat', () => {
  test('a batch of outputs under half a tile maps flat with every lane of the workgroup; one product never does', () => {
    expect(matmulVec4Flat(args(14, 16, 14, 512), tile)).toBe(true); // 2 blocks per entry, 32 lanes per tile
    expect(matmulVec4Flat(args(224, 64, 512, 1), tile)).toBe(false); // a weight gradient: one product
    expect(matmulVec4Flat(args(64, 64, 32, 8), tile)).toBe(false); // 32 blocks per entry fill the tile
    const { kernel, args: chosen } = matmulKernelFor(args(14, 16, 14, 512), DEFAULT_PLAN, null);
    expect(kernel).toBe('matmul_vec4');
    expect(chosen.lanes).toBe(tile.TX * tile.TY);
    expect(matmulKernelFor(args(14, 16, 14, 512), { ...DEFAULT_PLAN, matmul: { ...DEFAULT_PLAN.matmul, flat: false } }, null).args.lanes)
      .toBeUndefined();
  });
});

async function forwardBackward(backend: Backend, a: number[], b: number[], da: number[], db: number[], dz: number[], transA: boolean) {
  const ta = c2al.tensor(da, a, { backend, requiresGrad: true }), tb = c2al.tensor(db, b, { backend, requiresGrad: true });
  const z = c2al.matmul(ta, tb, { transA });
  z.backward(c2al.tensor(dz, z.shape, { backend }));
  const out = { z: await z.read(), da: await ta.grad!.read(), db: await tb.grad!.read() };
  [ta, tb, z].forEach((t) => t.dispose());
  return out;
}

describe.skipIf(!gpu)('flat and tiled matmul_vec4 give the same bits', () => {
  test.prop([fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 70 }),
    fc.boolean(), fc.boolean(), fc.nat()], { numRuns: propRuns })(
    'a shared A by a batch of B, A transposed or not, forward and both gradients', async (m, k, n4, batch, transA, sharedA, seed) => {
      const n = 4 * n4;
      const a = [...(sharedA ? [] : [batch]), ...(transA ? [k, m] : [m, k])], b = [batch, k, n];
      const da = randomArray(numel(a), seed).map(Math.fround), db = randomArray(numel(b), seed + 1).map(Math.fround);
      const dz = randomArray(batch * m * n, seed + 2).map(Math.fround);
      const before = gpu!.dispatches;
      const flat = await forwardBackward(gpu!, a, b, da, db, dz, transA);
      expect(gpu!.dispatches).toBeGreaterThan(before);
      const reference = await forwardBackward(tiled!, a, b, da, db, dz, transA);
      expect(Array.from(flat.z)).toEqual(Array.from(reference.z));
      expect(Array.from(flat.da)).toEqual(Array.from(reference.da));
      expect(Array.from(flat.db)).toEqual(Array.from(reference.db));
      const want = await forwardBackward(ref, a, b, da, db, dz, transA);
      expectClose(flat.z, want.z, 1e-5 * k, 1e-5, 'flat forward vs float64');
      expectClose(flat.db, want.db, 1e-5 * m, 1e-5, 'flat dB vs float64');
    });
});
