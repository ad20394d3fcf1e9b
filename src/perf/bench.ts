/**
 * Kernel benchmarks (`c2al bench`, `npm run bench`): each case is validated against the float64
 * reference first, then timed: median over repetitions of K dispatches recorded in one pass, by GPU
 * timestamps where the adapter offers them and by wall clock (submit → onSubmittedWorkDone) always.
 * Rates are reported against peaks measured on the same adapter in the same run (an FMA-throughput
 * kernel, a vec4 copy). Peers in the same process: TensorFlow.js webgpu on the same Dawn adapter (when
 * its packages are installed), and our v1 kernel as the floor.
 */
import { CpuBackend } from '../backend/cpu.js';
import type { Backend, Storage } from '../backend/index.js';
import type { WebGpuBackend } from '../backend/webgpu.js';
import { idleWait } from '../backend/idle-wait.js';
import type { KernelName } from '../kernels.js';
import { fmSamplesPerWorkgroup, matmulKernelFor } from '../kernel-plan.js';
import type { Data } from '../reference.js';
import { mulberry32 } from '../random.js';
import { sortedPlan } from '../embedding-plan.js';
import { median } from '../c2al/stats.js';

export interface Rate { ms: number; gpuMs: number | null; gflops?: number; gbps?: number }
export interface BenchCase {
  name: string;
  shape: string;
  ours: Rate;
  /** Share of the adapter peak measured in this run (FLOP/s or bytes/s). */
  peakShare: number | null;
  peer: (Rate & { name: string }) | null;
  floor: Rate | null;
  /** ours / peer throughput (> 1: ours is faster). */
  ratio: number | null;
  maxAbsErr: number;
}
export interface BenchReport { adapter: string; date: string; peaks: { gflops: number; gbps: number }; cases: BenchCase[]; notes: string[] }

interface Spec {
  name: string;
  shape: string;
  kernel: KernelName;
  inputs: { data: Float32Array | Uint32Array; dtype: 'f32' | 'u32' }[];
  outputs: number[];
  args: object;
  flops?: number;
  bytes: number;
  /** Validate only these flat output indices (large outputs), against this function. */
  check?: { indices: number[]; value: (i: number) => number };
  floor?: { kernel: KernelName; args: object };
  tf?: (tf: Tf, ins: TfTensor[]) => TfTensor;
  tfInputs?: (tf: Tf) => TfTensor[];
  reps?: number;
}

// The slice of the TF.js API the peers use (loaded dynamically: a devDependency).
export interface TfTensor { dispose(): void; data(): Promise<ArrayLike<number>> }
export interface Tf {
  tensor(values: ArrayLike<number>, shape: number[], dtype?: string): TfTensor;
  matMul(a: TfTensor, b: TfTensor, ta?: boolean, tb?: boolean): TfTensor;
  gather(x: TfTensor, idx: TfTensor): TfTensor;
  unsortedSegmentSum(x: TfTensor, segmentIds: TfTensor, numSegments: number): TfTensor;
  transpose(x: TfTensor): TfTensor;
  tidy<T>(fn: () => T): T;
  grad(f: (x: TfTensor) => TfTensor): (x: TfTensor) => TfTensor;
  grads(f: (...xs: TfTensor[]) => TfTensor): (xs: TfTensor[], dy?: TfTensor) => TfTensor[];
  broadcastTo(x: TfTensor, shape: number[]): TfTensor;
  losses: { sigmoidCrossEntropy(labels: TfTensor, logits: TfTensor): TfTensor };
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  version_core: string;
}

export { median } from '../c2al/stats.js';

function randomF32(n: number, seed: number, low = -1, high = 1): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => low + (high - low) * next());
}

function matmulSpec(b: number, m: number, k: number, n: number, on: Planner, opts: { shareB?: boolean; transA?: boolean; name?: string } = {}): Spec {
  const A = randomF32(b * m * k, 1), B = randomF32((opts.shareB ? 1 : b) * k * n, 2);
  const args = {
    m, n, k, batch: b, batchShape: b > 1 ? [b] : [], aBatchStrides: b > 1 ? [m * k] : [], bBatchStrides: b > 1 ? [opts.shareB ? 0 : k * n] : [],
    sam: opts.transA ? 1 : k, sak: opts.transA ? m : 1, sbk: n, sbn: 1,
  };
  const next = mulberry32(3);
  const indices = Array.from({ length: 64 }, () => Math.floor(next() * b * m * n));
  return {
    name: opts.name ?? `matmul ${b > 1 ? `${b}×` : ''}${m}×${k}·${k}×${n}`, shape: `[${b > 1 ? `${b}, ` : ''}${m}, ` +
      `${k}]·[${opts.shareB || b === 1 ? '' : `${b}, `}${k}, ${n}]${opts.transA ? ' (A transposed)' : ''}`,
    // The kernel matmul() runs for this layout on this adapter.
    ...matmulKernelFor(args, on.plan, on.subgroupSize), inputs: [{ data: A, dtype: 'f32' }, { data: B, dtype: 'f32' }], outputs: [b * m * n],
    flops: 2 * b * m * n * k, bytes: 4 * (A.length + B.length + b * m * n),
    check: {
      indices,
      value: (idx) => {
        const bi = Math.floor(idx / (m * n)), i = Math.floor(idx / n) % m, j = idx % n;
        let acc = 0;
        for (let kk = 0; kk < k; kk++) acc += A[bi * m * k + i * args.sam + kk * args.sak]! * B[(opts.shareB ? 0 : bi) * k * n + kk * n + j]!;
        return acc;
      },
    },
    floor: { kernel: 'matmul', args },
    tfInputs: (tf) => [tf.tensor(A, opts.transA ? [...(b > 1 ? [b] : []), k, m] : [...(b > 1 ? [b] : []), m, k]),
      tf.tensor(B, opts.shareB || b === 1 ? [k, n] : [b, k, n])],
    tf: (tf, [x, y]) => tf.matMul(x!, y!, !!opts.transA, false),
  };
}

/** Host-side work some cases need before dispatch (reported in the notes). */
const hostMs: { embeddingSort?: number } = {};

/** What chooses a matmul kernel: the backend's plan and subgroup size. */
type Planner = Pick<Backend, 'plan' | 'subgroupSize'>;

function specs(quick: boolean, on: Planner): Spec[] {
  const out: Spec[] = [];
  for (const s of quick ? [256, 512] : [256, 512, 1024, 2048]) {
    const spec = matmulSpec(1, s, s, s, on);
    spec.reps = s >= 2048 ? 2 : s >= 1024 ? 3 : 5;
    out.push(spec);
  }
  out.push(matmulSpec(1, 4096, 64, 64, on));
  // FM interaction shapes (B = 1024, n = 32 fields, d = 64, k = 16): the two products of X·(Xᵀ·Y).
  out.push(matmulSpec(1024, 64, 32, 16, on, { transA: true, shareB: true, name: 'FM Xᵀ·Y (B=1024, n=32, d=64, k=16)' }));
  out.push(matmulSpec(1024, 32, 64, 16, on, { name: 'FM X·(XᵀY) (B=1024, n=32, d=64, k=16)' }));
  // The same product fused (what fmInteraction runs): one dispatch, T = Xᵀ·Y in workgroup memory.
  {
    const [b, n, d, k] = [1024, 32, 64, 16];
    const X = randomF32(b * n * d, 1), Y = randomF32(n * k, 2);
    out.push({
      name: `FM fused X·(XᵀY) (B=${b}, n=${n}, d=${d}, k=${k})`, shape: `X [${b}, ${n}, ${d}], Y [${n}, ${k}] shared`,
      kernel: 'fm_interaction_vec4', inputs: [{ data: X, dtype: 'f32' }, { data: X, dtype: 'f32' }, { data: Y, dtype: 'f32' }], outputs: [b * n * k],
      args: { batch: b, n, m: d, k, pStride: n * d, qStride: n * d, rStride: 0, spw: fmSamplesPerWorkgroup(n, d, k) },
      flops: 4 * b * n * d * k, bytes: 4 * (X.length + Y.length + b * n * k),
      tfInputs: (tf) => [tf.tensor(X, [b, n, d]), tf.tensor(Y, [n, k])],
      tf: (tf, [x, y]) => tf.tidy(() => tf.matMul(x!, tf.matMul(x!, y!, true, false))),
    });
  }
  // Embedding gather: 4096 rows × 26 fields from stacked tables of 26 × 10⁴ rows, d = 16.
  {
    const rowsPerField = 10_000, fields = 26, batch = 4096, dim = 16;
    const table = randomF32(rowsPerField * fields * dim, 4);
    const next = mulberry32(5);
    const ids = Uint32Array.from({ length: batch * fields }, (_, i) => (i % fields) * rowsPerField + Math.floor(next() * rowsPerField));
    const offsets = Uint32Array.from({ length: ids.length + 1 }, (_, i) => i);
    out.push({
      name: 'embedding gather (4096×26 ids, d=16)', shape: `table [${rowsPerField * fields}, ${dim}], ids [${batch}, ${fields}]`, kernel: 'embedding_bag_vec4',
      inputs: [{ data: table, dtype: 'f32' }, { data: ids, dtype: 'u32' }, { data: offsets, dtype: 'u32' }], outputs: [ids.length * dim],
      args: { bags: ids.length, dim, mean: false }, bytes: 4 * (2 * ids.length * dim + 2 * ids.length),
      check: { indices: Array.from({ length: 64 }, (_, i) => i * 997), value: (i) => table[ids[Math.floor(i / dim)]! * dim + (i % dim)]! },
      tfInputs: (tf) => [tf.tensor(table, [rowsPerField * fields, dim]), tf.tensor(Int32Array.from(ids), [ids.length], 'int32')],
      tf: (tf, [t, i]) => tf.gather(t!, i!),
    });
  }
  // Embedding backward on the same batch: our fixed-order row-sparse sums vs TF.js unsortedSegmentSum.
  {
    const rowsPerField = 10_000, fields = 26, batch = 4096, dim = 16, total = rowsPerField * fields;
    const next = mulberry32(5);
    const ids = Uint32Array.from({ length: batch * fields }, (_, i) => (i % fields) * rowsPerField + Math.floor(next() * rowsPerField));
    const offsets = Uint32Array.from({ length: ids.length + 1 }, (_, i) => i);
    // The median of 15 plans: the first few run before the JIT has compiled the sort (up to 10× slower).
    const times: number[] = [];
    let sorted = sortedPlan({ rows: ids, offsets, bags: ids.length, mean: false });
    for (let r = 0; r < 15; r++) {
      const t0 = performance.now();
      sorted = sortedPlan({ rows: ids, offsets, bags: ids.length, mean: false });
      times.push(performance.now() - t0);
    }
    hostMs.embeddingSort = median(times);
    const dout = randomF32(ids.length * dim, 9);
    const unique = sorted.uniqueRows.length;
    out.push({
      name: 'embedding backward (4096×26 ids, d=16)', shape: `dout [${ids.length}, ${dim}] → ${unique} unique rows of ` +
        `${total}`, kernel: 'embedding_bag_backward',
      inputs: [{ data: dout, dtype: 'f32' }, { data: sorted.seg, dtype: 'u32' }, { data: sorted.entryBag, dtype: 'u32' }, { data: offsets, dtype: 'u32' }],
      outputs: [unique * dim], args: { unique, dim, mean: false }, bytes: 4 * (2 * ids.length * dim + 2 * ids.length + unique * dim),
      tfInputs: (tf) => [tf.tensor(dout, [ids.length, dim]), tf.tensor(Int32Array.from(ids), [ids.length], 'int32')],
      tf: (tf, [g, i]) => tf.unsortedSegmentSum(g!, i!, total),
    });
  }
  // A linear layer's Xᵀ for its weight gradient (the reference model's 26 × 16 inputs over a 2048 batch); the
  // floor is the strided copy that did it before transpose_vec4.
  {
    const rows = 2048, cols = 416, x = randomF32(rows * cols, 8);
    out.push({
      name: `transpose ${rows}×${cols} (a linear backward's Xᵀ)`, shape: `[${rows}, ${cols}] → [${cols}, ${rows}]`, kernel: 'transpose_vec4',
      inputs: [{ data: x, dtype: 'f32' }], outputs: [rows * cols], args: { rows, cols, lda: cols, aOff: 0 }, bytes: 2 * 4 * rows * cols,
      check: { indices: Array.from({ length: 64 }, (_, i) => (i * 13_331) % (rows * cols)), value: (i) => x[(i % rows) * cols + Math.floor(i / rows)]! },
      floor: { kernel: 'copy', args: { n: rows * cols, shape: [cols, rows], strides: [[1, cols], [rows, 1]], aOff: 0, oOff: 0 } },
      tfInputs: (tf) => [tf.tensor(x, [rows, cols])],
      tf: (tf, [t]) => tf.transpose(t!),
    });
  }
  // Sigmoid-BCE forward + backward, 3 heads (primary, head, tail) × 8192 rows.
  {
    const rows = 8192, heads = 3;
    const x = randomF32(rows * heads, 6, -8, 8), y = Float32Array.from(randomF32(rows * heads, 7, 0, 1), (u) => (u < 0.3 ? 1 : 0));
    const w = new Float32Array(rows * heads).fill(1);
    out.push({
      name: 'sigmoid-BCE fwd+bwd (8192×3)', shape: `[${rows}, ${heads}]`, kernel: 'bce_with_logits',
      inputs: [{ data: x, dtype: 'f32' }, { data: y, dtype: 'f32' }, { data: w, dtype: 'f32' }], outputs: [heads, rows * heads],
      args: { rows, heads }, bytes: 4 * 4 * rows * heads,
      tfInputs: (tf) => [tf.tensor(y, [rows, heads]), tf.tensor(x, [rows, heads])],
      // TF.js composes the loss and its gradient from its kernels: forward value and d/dlogits.
      tf: (tf, [labels, logits]) => tf.tidy(() => {
        const g = tf.grad((z) => tf.losses.sigmoidCrossEntropy(labels!, z))(logits!);
        return g;
      }),
    });
  }
  return out;
}

/** TF.js with its webgpu backend on a second device of gpu's Dawn adapter, or null (with a note) where it cannot load. */
export async function loadTf(gpu: WebGpuBackend, notes: string[]): Promise<Tf | null> {
  if (gpu.ctx.runtime !== 'dawn') return null;
  try {
    // The union package's Node bundle registers every gradient (tfjs-core alone registers none).
    const names = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu'];
    const tf = (await import(/* @vite-ignore */ names[0]!)) as Tf;
    // TF.js looks for navigator.gpu: hand it a Dawn instance (its own device on the same adapter).
    const dawn = (await import(/* @vite-ignore */ 'webgpu')) as { create: (f: string[]) => GPU };
    const flags = (process.env.C2AL_DAWN ?? '').split(',').filter(Boolean);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.create(flags) }, configurable: true });
    await import(/* @vite-ignore */ names[1]!);
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
    await tf.ready();
    notes.push(`peer: TensorFlow.js ${tf.version_core} (${tf.getBackend()} backend) on a second device of the same Dawn adapter`);
    return tf;
  } catch (e) {
    notes.push(`peer: TensorFlow.js unavailable (${(e as Error).message.split('\n')[0]}); install the devDependencies for side-by-side numbers`);
    return null;
  }
}

export async function timeKernel(gpu: WebGpuBackend, kernel: KernelName, ins: Storage[], outs: Storage[], args: object, k: number,
  reps: number): Promise<{ ms: number; gpuMs: number | null }> {
  const record = (): void => { for (let i = 0; i < k; i++) gpu.run(kernel, ins, outs, args as never); };
  record(); // warm (first dispatch compiles on lavapipe)
  await gpu.done();
  const wall: number[] = [], stamps: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const g = await gpu.timeDispatches(record);
    await gpu.done();
    wall.push((performance.now() - t0) / k);
    if (g !== null) stamps.push(g / k);
  }
  return { ms: median(wall), gpuMs: stamps.length ? median(stamps) : null };
}

async function timeTf(tf: Tf, spec: Spec, k: number, reps: number): Promise<number> {
  const ins = spec.tfInputs!(tf);
  const once = async (): Promise<void> => {
    const outs: TfTensor[] = [];
    for (let i = 0; i < k; i++) outs.push(spec.tf!(tf, ins));
    // TF.js waits through the same Dawn binding: it gets the same sleep-between-polls wait as ours.
    await idleWait(() => outs[outs.length - 1]!.data());
    outs.forEach((t) => t.dispose());
  };
  await once();
  const wall: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await once();
    wall.push((performance.now() - t0) / k);
  }
  ins.forEach((t) => t.dispose());
  return median(wall);
}

function rate(spec: Spec, ms: number, gpuMs: number | null): Rate {
  return spec.flops ? { ms, gpuMs, gflops: spec.flops / ms / 1e6 } : { ms, gpuMs, gbps: spec.bytes / ms / 1e6 };
}

async function validate(gpu: WebGpuBackend, spec: Spec): Promise<number> {
  const ins = spec.inputs.map((i) => gpu.upload(i.data, i.dtype));
  const outs = spec.outputs.map((n) => gpu.alloc(n, 'f32'));
  gpu.run(spec.kernel, ins, outs, spec.args as never);
  const got = await Promise.all(outs.map((o) => gpu.read(o)));
  [...ins, ...outs].forEach((s) => gpu.release(s));
  let want: Data[];
  if (spec.check) {
    const w = new Float64Array(spec.outputs[0]!);
    for (const i of spec.check.indices) w[i] = spec.check.value(i);
    want = [w];
  } else {
    const ref = new CpuBackend('f64');
    const rIns = spec.inputs.map((i) => ref.upload(i.data, i.dtype));
    const rOuts = spec.outputs.map((n) => ref.alloc(n, 'f32'));
    ref.run(spec.kernel, rIns, rOuts, spec.args as never);
    want = await Promise.all(rOuts.map((o) => ref.read(o)));
  }
  let err = 0, scale = 1;
  want.forEach((w, o) => {
    const indices = spec.check?.indices ?? Array.from(w.keys());
    for (const i of indices) {
      err = Math.max(err, Math.abs(w[i]! - got[o]![i]!));
      scale = Math.max(scale, Math.abs(w[i]!));
    }
  });
  if (!(err <= 1e-4 * scale)) throw new Error(`bench ${spec.name}: the GPU result differs from the float64 reference by ${err} (scale ${scale})`);
  return err;
}

/** The adapter's FMA throughput (GFLOP/s) and copy bandwidth (GB/s), measured by the probe kernels. */
export async function measurePeaks(gpu: WebGpuBackend): Promise<{ gflops: number; gbps: number }> {
  const vecs = 1 << 20, iters = 256;
  const src = gpu.upload(randomF32(4 * vecs, 8), 'f32'), dst = gpu.alloc(4 * vecs, 'f32');
  const fma = await timeKernel(gpu, 'peak_fma', [src], [dst], { n: vecs / 16, iters }, 3, 3);
  const copy = await timeKernel(gpu, 'peak_copy', [src], [dst], { n: vecs, iters: 0 }, 5, 3);
  gpu.release(src);
  gpu.release(dst);
  return { gflops: (vecs / 16) * iters * 64 / (fma.gpuMs ?? fma.ms) / 1e6, gbps: 2 * 16 * vecs / (copy.gpuMs ?? copy.ms) / 1e6 };
}

export interface BenchOptions { filter?: string; quick?: boolean; log?: (line: string) => void }

export async function runBench(gpu: WebGpuBackend, opts: BenchOptions = {}): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  const notes: string[] = [`timing: median over repetitions; ${gpu.ctx.features.includes('timestamp-query') ? 'GPU timestamps and ' : ''}wall clock per ` +
    `dispatch (one pass, one submit per repetition)`];
  // Peaks first: FMA throughput and copy bandwidth on this adapter.
  const peaks = await measurePeaks(gpu);
  log(`adapter: ${gpu.description}; measured peaks: ${peaks.gflops.toFixed(1)} GFLOP/s (FMA), ${peaks.gbps.toFixed(1)} GB/s (copy)`);
  const tf = await loadTf(gpu, notes);
  const cases: BenchCase[] = [];
  for (const spec of specs(!!opts.quick, gpu).filter((s) => !opts.filter || s.name.toLowerCase().includes(opts.filter.toLowerCase()))) {
    const maxAbsErr = await validate(gpu, spec);
    const k = spec.reps ?? 5, reps = 3;
    const ins = spec.inputs.map((i) => gpu.upload(i.data, i.dtype));
    const outs = spec.outputs.map((n) => gpu.alloc(n, 'f32'));
    const ours = await timeKernel(gpu, spec.kernel, ins, outs, spec.args, k, reps);
    const floor = spec.floor ? await timeKernel(gpu, spec.floor.kernel, ins, outs, spec.floor.args, Math.max(1, Math.ceil(k / 2)), reps) : null;
    [...ins, ...outs].forEach((s) => gpu.release(s));
    const peerMs = tf && spec.tf ? await timeTf(tf, spec, k, reps) : null;
    const oursRate = rate(spec, ours.ms, ours.gpuMs);
    const c: BenchCase = {
      name: spec.name, shape: spec.shape, ours: oursRate, maxAbsErr,
      peakShare: spec.flops ? oursRate.gflops! / peaks.gflops : oursRate.gbps! / peaks.gbps,
      floor: floor ? rate(spec, floor.ms, floor.gpuMs) : null,
      peer: peerMs === null ? null : { name: 'tfjs-webgpu', ...rate(spec, peerMs, null) },
      ratio: peerMs === null ? null : peerMs / ours.ms,
    };
    cases.push(c);
    log(formatRow(c));
  }
  if (hostMs.embeddingSort !== undefined) notes.push(`embedding backward: the host sorts the batch's ids once per batch ` +
    `(${hostMs.embeddingSort.toFixed(1)} ms here, median of 15, not in the kernel time); TF.js writes a dense [rows, dim] gradient, ours the touched rows`);
  return { adapter: gpu.description, date: new Date().toISOString().slice(0, 10), peaks, cases, notes };
}

const fmtRate = (r: Rate | null): string => (!r ? '—' : r.gflops !== undefined ? `${r.gflops.toFixed(2)} GFLOP/s` : `${r.gbps!.toFixed(2)} GB/s`);

function formatRow(c: BenchCase): string {
  const cells = [c.name, c.ours.ms.toFixed(2), c.ours.gpuMs?.toFixed(2) ?? '—', fmtRate(c.ours),
    c.peakShare === null ? '—' : `${(100 * c.peakShare).toFixed(0)}%`, fmtRate(c.peer), c.ratio === null ? '—' : `${c.ratio.toFixed(2)}×`,
    fmtRate(c.floor), c.maxAbsErr.toExponential(1)];
  return `| ${cells.join(' | ')} |`;
}

export function formatReport(r: BenchReport): string {
  return [
    `adapter: ${r.adapter} (${r.date}); peaks measured in this run: ${r.peaks.gflops.toFixed(1)} GFLOP/s FMA, ${r.peaks.gbps.toFixed(1)} GB/s copy`,
    ...r.notes.map((n) => `- ${n}`),
    '',
    '| case | ours ms (wall) | ours ms (GPU ts) | ours | % of peak | TF.js webgpu | ours / TF.js | v1 floor | max abs err |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.cases.map(formatRow),
  ].join('\n');
}
