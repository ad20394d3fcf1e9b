/**
 * Kernels never read or write outside their tensors, and nothing over the adapter's limits is dispatched.
 * Every kernel of the table runs with each input and output bound inside a larger buffer: a front guard
 * (the binding starts 256 bytes in) and a tail guard that is part of the binding, so only the kernel's own
 * index checks against Params keep it out. Input guards hold NaN (a stray read shows in the result);
 * output guards hold a sentinel that must survive. Matmul (both kernels, transposes, batch broadcasting)
 * runs at and around its tile edges. Tensors over maxStorageBufferBindingSize are refused up front with
 * the limit named, leaking nothing.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { BackendError, CpuBackend, type Backend, type DType, type KernelName } from '../../src/index.js';
import { GpuStorage } from '../../src/backend/webgpu.js';
import { DEFAULT_PLAN } from '../../src/kernel-plan.js';
import type { Data } from '../../src/reference.js';
import { gpu, project, propRuns } from '../support/gpu.js';
import { argsOn, kernelCase, kernelNames, reference, runKernel, runnable, f32Values, type KernelCase } from '../support/kernel-cases.js';
import { expectClose, expectRefusedOverLimit } from '../support/util.js';

const FRONT = 64; // elements = 256 bytes, the storage-offset alignment
const TAIL = 64;
const SENTINEL: Record<DType, number> = { f32: -7777.25, u32: 0xdeadbeef, i32: -559038737 };
const POISON: Record<DType, number> = { f32: NaN, u32: 0xfffffff0, i32: -0x7ffffff0 };

/** A storage whose binding also covers TAIL guard elements after the tensor (the kernel sees a longer arrayLength). */
class Guarded extends GpuStorage {
  override get bindBytes(): number { return (this.numel + TAIL) * 4; }
}

function words(values: ArrayLike<number>, dtype: DType): Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Int32Array<ArrayBuffer> {
  return dtype === 'f32' ? Float32Array.from(values) : dtype === 'i32' ? Int32Array.from(values) : Uint32Array.from(values);
}

/** Runs one case on the GPU with guarded bindings; returns the outputs and any guard element that changed. */
async function runGuarded(kernel: KernelName, kc: KernelCase): Promise<{ outputs: Data[]; damage: string[] }> {
  const g = gpu!;
  const { device } = g;
  const made: { buffer: GPUBuffer; total: number; dtype: DType; numel: number; output: boolean; index: number }[] = [];
  const storage = (numel: number, dtype: DType, fill: ArrayLike<number> | null, guard: number, output: boolean, index: number): Guarded => {
    const total = FRONT + numel + TAIL;
    const buffer = device.createBuffer({ label: `guarded ${kernel} ${output ? 'output' : 'input'} ${index}`, size: total * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const host = new Array<number>(total).fill(guard);
    if (fill) for (let i = 0; i < numel; i++) host[FRONT + i] = fill[i]!;
    device.queue.writeBuffer(buffer, 0, words(host, dtype));
    made.push({ buffer, total, dtype, numel, output, index });
    return new Guarded(buffer, numel, dtype, FRONT * 4);
  };
  const ins = kc.inputs.map((x, i) => storage(x.data.length, x.dtype, x.data, POISON[x.dtype], false, i));
  const outs = kc.outputs.map((o, i) => storage(o.numel, o.dtype, o.init ?? null, SENTINEL[o.dtype], true, i));
  g.run(kernel, ins, outs, argsOn(g, kernel, kc) as never);
  const damage: string[] = [];
  const outputs: Data[] = [];
  for (const m of made) {
    const all = await g.read(new GpuStorage(m.buffer, m.total, m.dtype));
    const want = m.output ? SENTINEL[m.dtype] : POISON[m.dtype];
    const same = (v: number): boolean => (Number.isNaN(want) ? Number.isNaN(v) : v === words([want], m.dtype)[0]);
    for (let i = 0; i < m.total; i++) {
      if (i >= FRONT && i < FRONT + m.numel) continue;
      if (!same(all[i]!)) damage.push(`${m.output ? 'output' : 'input'} ${m.index}[${i - FRONT}] = ${all[i]} (${i < FRONT ? 'front' : 'tail'} guard)`);
    }
    if (m.output) outputs[m.index] = all.subarray(FRONT, FRONT + m.numel);
    m.buffer.destroy();
  }
  return { outputs, damage };
}

async function checkCase(kernel: KernelName, kc: KernelCase): Promise<void> {
  const want = await runKernel(reference, kernel, kc);
  const { outputs, damage } = await runGuarded(kernel, kc);
  expect(damage.slice(0, 5), `${kernel}: guard elements changed`).toEqual([]);
  want.forEach((w, i) => expectClose(outputs[i]!, w, kc.atol, kc.rtol, `${kernel} output ${i}`));
}

const focus: KernelName[] = ['reduce_sum', 'reduce_max', 'reduce_cols_sum', 'reduce_cols_max', 'embedding_bag', 'embedding_bag_vec4', 'embedding_bag_backward', 'scatter_rows',
  'bce_with_logits', 'layer_norm', 'layer_norm_backward', 'layer_norm_rows',
  'layer_norm_rows_vec4', 'layer_norm_backward_rows', 'layer_norm_backward_rows_vec4', 'histogram', 'divergences', 'copy', 'transpose_vec4', 'adam_rows', 'adagrad_rows',
  'fm_interaction_backward_vec4'];

describe.skipIf(!gpu)('kernels stay inside their tensors (guard regions around every binding)', () => {
  test('every kernel of the table, at 1, 255 and 257 elements', async () => {
    for (const kernel of kernelNames.filter((k) => runnable(gpu, k))) {
      for (const n of [1, 255, 257]) await checkCase(kernel, kernelCase(kernel, n, n * 13 + kernel.length));
    }
  });

  test.each(focus)('%s at and around workgroup edges (63, 64, 65, 256, 1025 elements)', async (kernel) => {
    for (const n of project === 'browser' ? [64, 257] : [63, 64, 65, 256, 1025]) await checkCase(kernel, kernelCase(kernel, n, n * 7 + 1));
  });

  // matmul_vec4 tiles: each invocation owns 16 rows × 8 columns, a workgroup TY × TX of those.
  const { tile } = DEFAULT_PLAN.matmul;
  const rowTile = 16 * tile.TY, colTile = 8 * tile.TX;
  const edges = (tile: number) => [1, 15, 16, 17, tile - 1, tile, tile + 1, 2 * tile + 1];

  test(`matmul_vec4 at tile edges (tile ${rowTile} rows × ${colTile} columns), transA, batch broadcasting`, async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...edges(rowTile)), fc.constantFrom(...edges(colTile / 4).map((v) => 4 * v)), fc.constantFrom(1, 3, 16, 17),
      fc.boolean(), fc.constantFrom<[number[], number[]]>([[], []], [[3], [3]], [[2], []], [[2, 1], [1, 2]]), fc.nat(), async (m, n, k, transA, [ba, bb], seed) => {
        const batchShape = ba.length || bb.length ? (ba.length >= bb.length ? ba : bb).map((_, i) => Math.max(ba[i] ?? 1, bb[i] ?? 1)) : [];
        const batch = batchShape.reduce((a, d) => a * d, 1);
        const next = c.mulberry32(seed);
        const strides = (shape: number[], size: number) => {
          const full = shape.length ? shape : [];
          const st: number[] = [];
          let acc = size;
          for (let i = full.length - 1; i >= 0; i--) { st[i] = full[i] === 1 && batchShape[i] !== 1 ? 0 : acc; acc *= full[i]!; }
          return batchShape.map((_, i) => (full.length ? st[i]! : 0));
        };
        const kc: KernelCase = {
          inputs: [{ data: f32Values(Math.max(1, ba.reduce((a, d) => a * d, 1)) * m * k, next), dtype: 'f32' }, { data: f32Values(Math.max(1, bb.reduce((a, d) => a * d, 1)) * k * n, next), dtype: 'f32' }],
          outputs: [{ numel: batch * m * n, dtype: 'f32' }],
          args: { m, n, k, batch, batchShape, aBatchStrides: strides(ba, m * k), bBatchStrides: strides(bb, k * n), sam: transA ? 1 : k, sak: transA ? m : 1, sbk: n, sbn: 1 },
          atol: 1e-6 * k, rtol: 1e-5,
        };
        await checkCase('matmul_vec4', kc);
      }), { numRuns: propRuns });
  });

  // matmul_sg: a workgroup (one subgroup of SG lanes) owns 16 rows × 8·SG columns.
  test.skipIf(!gpu?.subgroupSize)('matmul_sg at tile edges (16 rows × 8·SG columns), batch broadcasting, split-K partials', async () => {
    const colTile = 8 * (gpu?.subgroupSize ?? 8);
    await fc.assert(fc.asyncProperty(fc.constantFrom(1, 15, 16, 17, 33), fc.constantFrom(...[4, colTile - 4, colTile, colTile + 4, 2 * colTile + 4]), fc.constantFrom(4, 16, 20),
      fc.boolean(), fc.boolean(), fc.nat(), async (m, n, k, shareB, split, seed) => {
        const next = c.mulberry32(seed);
        const chunk = split ? 4 * Math.ceil(k / 8) : k, batch = split ? Math.ceil(k / chunk) : 2;
        const kc: KernelCase = {
          inputs: [{ data: f32Values((split ? 1 : 2) * m * k, next), dtype: 'f32' }, { data: f32Values((shareB || split ? 1 : 2) * k * n, next), dtype: 'f32' }],
          outputs: [{ numel: batch * m * n, dtype: 'f32' }],
          args: split
            ? { m, n, k: chunk, kTotal: k, batch, batchShape: [batch], aBatchStrides: [chunk], bBatchStrides: [chunk * n], sam: k, sak: 1, sbk: n, sbn: 1 }
            : { m, n, k, batch, batchShape: [batch], aBatchStrides: [m * k], bBatchStrides: [shareB ? 0 : k * n], sam: k, sak: 1, sbk: n, sbn: 1 },
          atol: 1e-6 * k, rtol: 1e-5,
        };
        await checkCase('matmul_sg', kc);
      }), { numRuns: propRuns });
  });

  test('matmul (per-element kernel) at workgroup edges with every transpose combination', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(1, 15, 16, 17), fc.constantFrom(1, 15, 16, 17), fc.constantFrom(1, 7, 33), fc.boolean(), fc.boolean(), fc.constantFrom(1, 2), fc.nat(),
      async (m, n, k, transA, transB, batch, seed) => {
        const next = c.mulberry32(seed);
        const kc: KernelCase = {
          inputs: [{ data: f32Values(batch * m * k, next), dtype: 'f32' }, { data: f32Values(k * n, next), dtype: 'f32' }],
          outputs: [{ numel: batch * m * n, dtype: 'f32' }],
          args: { m, n, k, batch, batchShape: batch > 1 ? [batch] : [], aBatchStrides: batch > 1 ? [m * k] : [], bBatchStrides: batch > 1 ? [0] : [],
            sam: transA ? 1 : k, sak: transA ? m : 1, sbk: transB ? 1 : n, sbn: transB ? k : 1 },
          atol: 1e-6 * k, rtol: 1e-5,
        };
        await checkCase('matmul', kc);
      }), { numRuns: propRuns });
  });

  test('the op-level matmul at tile edges agrees with the reference through every route (vec4, transB transpose, per-element)', async () => {
    for (const [m, k, n] of [[rowTile + 1, 3, colTile + 4], [rowTile - 1, 17, colTile - 4], [17, 5, 6], [1, 1, 4]] as const) {
      for (const transB of [false, true]) {
        const a = f32Values(2 * m * k, c.mulberry32(m + n));
        const b = f32Values(k * n, c.mulberry32(k + n));
        const outs: Data[] = [];
        for (const backend of [reference as Backend, gpu!]) {
          const out = c.scope(() => c.matmul(c.tensor(a, [2, m, k], { backend }), c.tensor(b, transB ? [n, k] : [k, n], { backend }), { transB }));
          outs.push(await out.read());
          out.dispose();
        }
        // transB reads b as [n, k]: the same numbers, another matrix; both backends read it the same way.
        expectClose(outs[1]!, outs[0]!, 1e-6 * k, 1e-5, `matmul [2, ${m}, ${k}] · ${transB ? `[${n}, ${k}]ᵀ` : `[${k}, ${n}]`}`);
      }
    }
  });
});

const backends: [string, Backend | null][] = [['cpu', new CpuBackend('f32')], ['webgpu', gpu]];
for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`resource limits on ${name}`, () => {
    const opts = { backend: backend! };
    const limit = backend!.maxStorageBytes;

    const refusedOverLimit = (bad: () => unknown, what: RegExp): void => expectRefusedOverLimit(backend!, bad, what);

    test('a matmul whose output exceeds the binding limit is refused before anything is dispatched', () => {
      const side = 2 ** Math.ceil(Math.log2(Math.sqrt(limit / 4) + 1));
      const a = c.zeros([side, 1], opts), b = c.zeros([1, side], opts), bt = c.zeros([side, 1], opts);
      refusedOverLimit(() => c.matmul(a, b), new RegExp(`matmul: output f32 \\[${side}, ${side}\\] needs ${side * side * 4} bytes`));
      refusedOverLimit(() => c.matmul(a, bt, { transB: true }), /matmul: output/);
      [a, b, bt].forEach((t) => t.dispose());
    });

    test('an embedding table or an embedding batch over the limit is refused up front, naming the limit', () => {
      const dim = 16, rows = Math.floor(limit / (4 * dim)) + 1;
      let err: unknown;
      try { new c.Embeddings([{ name: 'user', vocab: rows }], dim, opts); } catch (e) { err = e; }
      expect((err as Error).message).toMatch(new RegExp(`table 'user' \\(${rows} rows\\) exceeds the ${rows - 1} rows one storage binding holds at this dim \\(${backend!.limitName} ${limit} bytes / 64 bytes per row\\)`));
      expect(() => new c.EmbeddingBag('genres', rows, dim, opts)).toThrow(/parameter f32 \[\d+, 16\] needs \d+ bytes, more than one storage binding holds/);
      const wide = 2 ** 12, table = c.zeros([2, wide], opts);
      const batch = Math.floor(limit / (4 * wide)) + 1;
      refusedOverLimit(() => c.embeddingLookup(table, new Uint32Array(batch), [{ name: 'x', vocab: 2 }]), new RegExp(`embeddingLookup: output f32 \\[${batch}, 1, ${wide}\\]`));
      table.dispose();
    });

  });
}

/** A CPU backend that refuses its k-th allocation, as an adapter out of memory or over a limit would. */
class FailingBackend extends CpuBackend {
  failAt = -1;
  allocs = 0;
  override alloc(numel: number, dtype: DType) {
    if (this.allocs++ === this.failAt) throw new BackendError(`injected failure of allocation #${this.failAt}`);
    return super.alloc(numel, dtype);
  }
  override upload(data: Data, dtype: DType) {
    if (this.allocs++ === this.failAt) throw new BackendError(`injected failure of allocation #${this.failAt}`);
    return super.upload(data, dtype);
  }
}

describe('an allocation refused part-way through an op, a model forward or a backward leaks nothing', () => {
  const backend = new FailingBackend('f32');
  const opts = { backend };
  const model = new c.DhenModel({
    fields: [{ name: 'a', vocab: 5 }, { name: 'b', vocab: 4 }], dim: 4, dense: 2, seed: 3,
    layers: [{ modules: [{ type: 'fm', k: 2, y: 'generated', y0: true, hidden: [6] }, { type: 'attention', heads: 2 }, { type: 'dot' }], ensemble: 'weighted', shortcut: 'project' }],
    head: { hidden: [5] }, auxHeads: ['head'],
  }, backend);
  const x = c.keep(c.randomNormal([2, 16, 5], { ...opts, seed: 1, requiresGrad: true }));
  const logits = c.keep(c.randomNormal([12, 4], { ...opts, seed: 2, requiresGrad: true }));
  const bt = c.keep(c.randomNormal([16, 5], { ...opts, seed: 4 }));
  const gamma = c.keep(c.ones([5], { ...opts, requiresGrad: true })), beta = c.keep(c.zeros([5], { ...opts, requiresGrad: true }));
  const dense = c.keep(c.randomNormal([3, 2], { ...opts, seed: 3 }));
  const normLoss = c.keep(c.sum(c.layerNorm(x, gamma, beta)));
  const out = model.forward([0, 1, 4, 3, 2, 0], dense);
  const modelLoss = c.keep(c.sum(c.add(out.logits.primary!, out.logits.head!)));
  // One library call each: what it allocates before a refused allocation must be freed by the call itself.
  const cases: [string, () => void][] = [
    ['bceWithLogits with host labels and weights', () => c.bceWithLogits(logits, new Array(48).fill(0.5), [1, 0.5, 0.25, 2])],
    ['softmax', () => c.softmax(x, 1)],
    ['matmul with transB (transposes B first)', () => c.matmul(x, bt, { transB: true })],
    ['layerNorm backward', () => normLoss.backward()],
    ['DhenModel.forward', () => model.forward([0, 1, 4, 3, 2, 0], dense)],
    ['DhenModel backward', () => modelLoss.backward()],
  ];
  test.each(cases)('%s: every allocation in turn fails; each failure is a BackendError and frees everything', (_name, run) => {
    const params = [...model.parameters(), x, logits, gamma, beta];
    const clean = () => params.forEach((p) => p.zeroGrad());
    backend.failAt = -1;
    backend.allocs = 0;
    const baseLive = c.liveTensors().length, baseBytes = backend.memory().bytesInUse;
    // A successful run counts the allocations; its results are freed by disposing what it left.
    const before = new Set(c.liveTensors());
    run();
    const total = backend.allocs;
    for (const t of c.liveTensors()) if (!before.has(t)) t.dispose();
    clean();
    expect(c.liveTensors().length).toBe(baseLive);
    for (let k = 0; k < total; k++) {
      backend.allocs = 0;
      backend.failAt = k;
      expect(run, `allocation #${k} of ${total}`).toThrow(BackendError);
      clean();
      expect(c.liveTensors().length, `live tensors after failing allocation #${k} of ${total}`).toBe(baseLive);
      expect(backend.memory().bytesInUse, `bytes after failing allocation #${k} of ${total}`).toBe(baseBytes);
      faults.injected++;
    }
    backend.failAt = -1;
  });
});

const faults = { injected: 0 };
afterAll(() => console.log(`[c2al] allocation faults injected (${project}): ${faults.injected}`));
