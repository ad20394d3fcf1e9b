import { fc, test as propTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { FM_FUSED_MAX_T, type Backend } from '../../src/index.js';
import { fmBackwardFusedApplies, fmBackwardSamplesPerWorkgroup, fmSamplesPerWorkgroup, fmVec4SamplesPerWorkgroup } from '../../src/kernel-plan.js';
import { FM_WORKGROUP } from '../../src/kernels.js';
import { gpu, propRuns } from '../support/gpu.js';
import { expectClose, kernelsRun, randomArray, reference as ref } from '../support/util.js';

const backends: [string, Backend | null][] = [['cpu', ref], ['webgpu', gpu]];
const bitsOf = (x: ArrayLike<number>): number[] => Array.from(new Uint32Array(Float32Array.from(x).buffer));

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

/** G and both gradients of sum(G ⊙ W) on `backend`, as host arrays. */
async function fmForwardBackward(backend: Backend, [B, n, d, k]: number[], shared: boolean, seed: number): Promise<number[][]> {
  const opts = { backend };
  const x = c.tensor(randomArray(B! * n! * d!, seed), [B!, n!, d!], { ...opts, requiresGrad: true });
  const y = c.tensor(randomArray((shared ? 1 : B!) * n! * k!, seed + 1), shared ? [n!, k!] : [B!, n!, k!], { ...opts, requiresGrad: true });
  const w = c.tensor(randomArray(B! * n! * k!, seed + 2), [B!, n!, k!], opts);
  const g = c.fmInteraction(x, y);
  c.scope(() => c.sum(c.mul(g, w)).backward());
  const out = [Array.from(await g.read()), Array.from(await x.grad!.read()), Array.from(await y.grad!.read())];
  [x, y, w, g].forEach((t) => t.dispose());
  return out;
}

describe.skipIf(!gpu)('FM interaction on random shapes', () => {
  // Edge column and row blocks (sizes not multiples of 4), shared and per-sample Y: the fused fm_interaction path.
  propTest.prop([fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 11 })),
    fc.boolean(), fc.nat({ max: 1000 })], { numRuns: propRuns })(
    'forward, dX and dY match the float64 reference, and a second run gives the same bits', async (shape, shared, seed) => {
      const want = await fmForwardBackward(ref, shape, shared, seed);
      const got = await fmForwardBackward(gpu!, shape, shared, seed);
      const [, n, d] = shape;
      ['G', 'dX', 'dY'].forEach((what, i) => expectClose(got[i]!, want[i]!, 2e-5 * n! * d!, 1e-5, what));
      expect(await fmForwardBackward(gpu!, shape, shared, seed)).toEqual(got);
    });

  // Batches not a multiple of the samples per workgroup (a short last workgroup), shared and per-sample R.
  propTest.prop([fc.integer({ min: 1, max: 12 }), fc.constantFrom(4, 8, 16, 20, 3, 7), fc.constantFrom(4, 8, 12, 16, 5), fc.integer({ min: 1, max: 70 }),
    fc.boolean(), fc.nat()], { numRuns: propRuns })(
    'several samples per workgroup, and the four-wide kernel, give the bits of one sample per workgroup', async (n, m, k, batch, sharedR, seed) => {
      const spw = fmSamplesPerWorkgroup(n, m, k);
      const xs = randomArray(batch * n * m, seed), rs = randomArray((sharedR ? 1 : batch) * n * k, seed + 1);
      const run = async (samples: number, kernel = 'fm_interaction'): Promise<number[]> => {
        const ins = [gpu!.upload(Float32Array.from(xs), 'f32'), gpu!.upload(Float32Array.from(rs), 'f32')];
        const out = gpu!.alloc(batch * n * k, 'f32');
        gpu!.run(kernel, [ins[0]!, ins[0]!, ins[1]!], [out],
          { batch, n, m, k, pStride: n * m, qStride: n * m, rStride: sharedR ? 0 : n * k, spw: samples });
        const values = Array.from(await gpu!.read(out));
        [...ins, out].forEach((s) => gpu!.release(s));
        return values;
      };
      const one = await run(1);
      expect(await run(spw)).toEqual(one);
      if (m % 4 === 0 && k % 4 === 0) {
        expect(await run(spw, 'fm_interaction_vec4')).toEqual(one);
        expect(await run(fmVec4SamplesPerWorkgroup(n, m, k), 'fm_interaction_vec4')).toEqual(one); // 4 × 8 T blocks where k / 4 is even
      }
    });

  test('the FM forward takes fm_interaction_vec4 where d and k are multiples of 4, and its backward one fm_interaction_backward_vec4; '
    + 'three fm_interaction products elsewhere', () => {
    for (const [d, k, fused] of [[16, 4, true], [64, 16, true], [16, 3, false], [6, 4, false], [64, 40, false]] as const) {
      const x = c.zeros([2, 5, d], { backend: gpu!, requiresGrad: true }), y = c.zeros([5, k], { backend: gpu!, requiresGrad: true });
      const forward = kernelsRun(gpu!, () => c.noGrad(() => c.scope(() => { c.fmInteraction(x, y); })));
      const all = kernelsRun(gpu!, () => c.scope(() => { c.sum(c.fmInteraction(x, y)).backward(); }));
      const backward = all.slice(forward.length);
      expect(forward).toEqual([d % 4 === 0 && k % 4 === 0 ? 'fm_interaction_vec4' : 'fm_interaction']);
      expect(fmBackwardFusedApplies(d, k)).toBe(fused);
      const fm = backward.filter((name) => name.startsWith('fm_interaction'));
      if (fused) expect(fm).toEqual(['fm_interaction_backward_vec4']);
      else expect(fm).toEqual(d % 4 === 0 && k % 4 === 0 ? ['fm_interaction_vec4', 'fm_interaction_acc_vec4', 'fm_interaction_vec4']
        : ['fm_interaction', 'fm_interaction_acc', 'fm_interaction']);
      [x, y].forEach((t) => t.dispose());
    }
  });

  // d, k multiples of 4 (the fused backward's condition), n and the batch anything, Y shared or per sample.
  propTest.prop([fc.integer({ min: 1, max: 12 }), fc.constantFrom(4, 8, 16, 64), fc.constantFrom(4, 8, 16), fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.nat()],
    { numRuns: propRuns })(
    'the fused backward gives the bits of the three products it replaces (dG·(Yᵀ·X) + Y·(dGᵀ·X), X·(Xᵀ·dG))', async (n, d, k, batch, shared, seed) => {
      const g = gpu!;
      const ys = shared ? 0 : n * k;
      const X = g.upload(Float32Array.from(randomArray(batch * n * d, seed)), 'f32'), Y = g.upload(Float32Array.from(randomArray((shared ? 1 : batch) * n * k, seed + 1)), 'f32');
      const G = g.upload(Float32Array.from(randomArray(batch * n * k, seed + 2)), 'f32');
      const outs = [batch * n * d, batch * n * k, batch * n * d, batch * n * k].map((len) => g.alloc(len, 'f32'));
      const [dx3, dy3, dx1, dy1] = outs as [typeof X, typeof X, typeof X, typeof X];
      const product = (m: number, kk: number, pStride: number, qStride: number, rStride: number) =>
        ({ batch, n, m, k: kk, pStride, qStride, rStride, spw: fmSamplesPerWorkgroup(n, m, kk) });
      g.run('fm_interaction_vec4', [G, Y, X], [dx3], product(k, d, n * k, ys, n * d));
      g.run('fm_interaction_acc_vec4', [Y, G, X], [dx3], product(k, d, ys, n * k, n * d));
      g.run('fm_interaction_vec4', [X, X, G], [dy3], product(d, k, n * d, n * d, n * k));
      g.run('fm_interaction_backward_vec4', [X, Y, G], [dx1, dy1],
        { batch, n, d, k, xStride: n * d, yStride: ys, gStride: n * k, spw: fmBackwardSamplesPerWorkgroup(n, d, k) });
      const [a, b, e, f] = await Promise.all([dx3, dx1, dy3, dy1].map((s) => g.read(s)));
      expect(bitsOf(b!)).toEqual(bitsOf(a!));
      expect(bitsOf(f!)).toEqual(bitsOf(e!));
      [X, Y, G, ...outs].forEach((s) => g.release(s));
    });

  test('fused backward: samples per workgroup keep both T\'s in workgroup memory and fill the lanes', () => {
    expect(fmBackwardSamplesPerWorkgroup(32, 64, 16)).toBe(1);
    expect(fmBackwardSamplesPerWorkgroup(14, 16, 4)).toBe(4); // 8 dX and 2 dY blocks a sample
    for (const [n, d, k] of [[1, 4, 4], [3, 40, 40], [5, 64, 32], [2, 8, 4], [26, 16, 16]] as const) {
      const spw = fmBackwardSamplesPerWorkgroup(n, d, k);
      expect(spw * 2 * d * k, `${n}×${d}×${k}`).toBeLessThanOrEqual(FM_FUSED_MAX_T);
      expect(FM_WORKGROUP % spw).toBe(0);
    }
  });

  test('samples per workgroup: one at the benchmark shapes, 16 at the experiment\'s, within workgroup memory', () => {
    expect(fmSamplesPerWorkgroup(32, 64, 16)).toBe(1); // 64 blocks of T: every lane
    expect(fmSamplesPerWorkgroup(14, 16, 4)).toBe(16); // 4 blocks each
    expect(fmSamplesPerWorkgroup(14, 4, 16)).toBe(4); // the backward's dG·(Yᵀ·X): 16 output blocks
    // fm_interaction_vec4 where k / 4 is even: 4 × 8 T blocks, two blocks a lane.
    expect(fmVec4SamplesPerWorkgroup(32, 64, 16)).toBe(4); // 32 blocks of T and of P·T
    expect(fmVec4SamplesPerWorkgroup(26, 16, 16)).toBe(4); // 28 blocks of P·T
    expect(fmVec4SamplesPerWorkgroup(14, 16, 4)).toBe(16); // k / 4 odd: as fm_interaction
    for (const [n, m, k] of [[1, 1, 1], [3, 40, 40], [5, 64, 64], [2, 8, 1], [32, 64, 32], [1, 4, 8]] as const) for (const spw of [
      fmSamplesPerWorkgroup(n, m, k), fmVec4SamplesPerWorkgroup(n, m, k)]) {
      expect(spw * 16 * Math.ceil(m / 4) * Math.ceil(k / 4), `${n}×${m}×${k}`).toBeLessThanOrEqual(FM_FUSED_MAX_T);
      expect(FM_WORKGROUP % spw).toBe(0);
    }
  });

  test('T = Xᵀ·Y wider than the kernel holds falls back to two batched matmuls, with the same results', async () => {
    const shape = [2, 3, 80, 56];
    expect(80 * 56).toBeGreaterThan(FM_FUSED_MAX_T);
    const want = await fmForwardBackward(ref, shape, true, 9);
    const got = await fmForwardBackward(gpu!, shape, true, 9);
    ['G', 'dX', 'dY'].forEach((what, i) => expectClose(got[i]!, want[i]!, 2e-5 * 3 * 80, 1e-5, what));
  });
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
