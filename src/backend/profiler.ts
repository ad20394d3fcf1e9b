/**
 * GPU kernel profiler. While attached to a WebGpuBackend, every dispatch runs in a compute pass of its
 * own whose begin/end timestamps land in a query set (core WebGPU has no timestamps inside a pass). The
 * passes stay in the step's one command encoder, so the step is still one submit; the query sets are
 * resolved once, after the profiled steps, and read back in one map. Each kernel is tagged with its op,
 * the step's phase (forward, backward, optimizer, metrics), the tensor shapes, bytes bound and FLOPs.
 */
import type { MatmulArgs } from '../kernels.js';
import { currentOp, currentPhase, type Phase } from './profile-tags.js';
import { idleWait } from './idle-wait.js';

/** WebGPU caps a query set at 4096 queries: 2048 kernels per set. */
const QUERIES_PER_SET = 4096;

export interface KernelEvent {
  kernel: string;
  /** The op that launched it ('matmul', 'matmul backward', …) or null for direct backend calls (optimizers). */
  op: string | null;
  phase: Phase;
  /** Profiled step index (set by the caller through profiler.step). */
  step: number;
  /** Shapes of the op's inputs; element counts of the kernel's buffers. */
  shapes: number[][];
  inputElements: number[];
  outputElements: number[];
  /** Bytes of every buffer bound (each read or written at least once). */
  bytes: number;
  /** Arithmetic operations counted by kernel family (0 where a kernel only moves data). */
  flops: number;
  workgroups: number;
  /** GPU start and duration in milliseconds, relative to the first profiled kernel. */
  startMs: number;
  durationMs: number;
}

interface Pending extends Omit<KernelEvent, 'startMs' | 'durationMs'> { slot: number }

/** FLOPs of a kernel launch, by family: 2·M·N·K per matmul (+ M·N per bias, as the separate add counted), one per element for elementwise and reductions. */
export function kernelFlops(kernel: string, args: unknown, inputElements: number[], outputElements: number[]): number {
  const a = args as Record<string, number>;
  if (kernel.startsWith('matmul')) {
    const m = args as MatmulArgs;
    return 2 * m.batch * m.m * m.n * m.k;
  }
  if (kernel === 'linear' || kernel.startsWith('linear_')) {
    const m = args as MatmulArgs;
    return 2 * m.batch * m.m * m.n * m.k + m.batch * m.m * m.n;
  }
  if (kernel === 'fm_interaction_backward_vec4') {
    // T1 = Yᵀ·X, T2 = dGᵀ·X, dG·T1, Y·T2, X·T2ᵀ: five products of n·d·k multiply-adds.
    const f = args as { batch: number; n: number; d: number; k: number };
    return 10 * f.batch * f.n * f.d * f.k;
  }
  if (kernel.startsWith('fm_interaction')) {
    // T = Qᵀ·R (m·k dots of length n), then P·T (n·k dots of length m).
    const f = args as { batch: number; n: number; m: number; k: number };
    return 4 * f.batch * f.n * f.m * f.k;
  }
  const outs = outputElements.reduce((x, y) => x + y, 0);
  if (kernel.startsWith('reduce_')) return inputElements[0] ?? 0;
  if (kernel === 'bce_with_logits') return 12 * (a.rows ?? 0) * (a.heads ?? 0);
  if (kernel === 'layer_norm') return 8 * (a.rows ?? 0) * (a.dim ?? 0);
  if (kernel === 'layer_norm_backward') return 14 * (a.rows ?? 0) * (a.dim ?? 0);
  if (kernel === 'adam' || kernel === 'adam_rows') return 14 * (inputElements[0] ?? 0);
  if (kernel === 'sgd') return 4 * (inputElements[0] ?? 0);
  if (kernel === 'adagrad_rows') return 6 * (inputElements[0] ?? 0);
  if (kernel.startsWith('embedding_bag')) return outs;
  if (['copy', 'fill', 'scatter_rows', 'histogram', 'peak_copy'].includes(kernel) || kernel.startsWith('cast_')) return 0;
  if (kernel === 'divergences') return 30 * (a.cohorts ?? 0) * (a.cohorts ?? 0) * (a.bins ?? 0);
  return outs; // unary and binary elementwise, where: one operation per output element
}

/**
 * Bytes a launch moves: every bound buffer once, except the row-sparse kernels, which touch only the
 * rows they update (a whole embedding table is bound, a few rows are read and written).
 */
export function kernelBytes(kernel: string, args: unknown, ins: readonly { numel: number; bindBytes: number }[],
  outs: readonly { numel: number; bindBytes: number }[]): number {
  const a = args as Record<string, number>;
  const inBytes = ins.reduce((acc, s) => acc + s.bindBytes, 0);
  switch (kernel) {
    case 'adam_rows': return inBytes + 3 * 2 * 4 * (a.n ?? 0); // weights, m, v: read and written per touched element
    case 'adagrad_rows': return inBytes + 2 * 4 * ((a.unique ?? 0) * (a.dim ?? 0) + (a.unique ?? 0));
    case 'scatter_rows': return inBytes + 4 * (a.unique ?? 0) * (a.dim ?? 0);
    case 'embedding_bag':
    case 'embedding_bag_vec4': return (ins[1]?.bindBytes ?? 0) + (ins[2]?.bindBytes ?? 0) + 4 * (ins[1]?.numel ?? 0) * (a.dim
      ?? 0) + outs.reduce((acc, s) => acc + s.bindBytes, 0);
    default: return inBytes + outs.reduce((acc, s) => acc + s.bindBytes, 0);
  }
}

export class GpuProfiler {
  /** Tag for the kernels recorded from now on. */
  step = 0;
  private sets: GPUQuerySet[] = [];
  private pending: Pending[] = [];
  private collected = false;

  constructor(private readonly device: GPUDevice, private readonly maxKernels = 65536) {}

  /** Kernels recorded so far. */
  get count(): number { return this.pending.length; }

  /** Records one launch; returns the timestampWrites for its pass (null once maxKernels are recorded). */
  record(kernel: string, args: unknown, ins: readonly { numel: number; bindBytes: number }[], outs: readonly { numel: number; bindBytes: number }[],
    workgroups: number): GPUComputePassTimestampWrites | null {
    if (this.collected) throw new Error('GpuProfiler: already collected; attach a new profiler');
    const slot = this.pending.length;
    if (slot >= this.maxKernels) return null;
    const setIndex = Math.floor((2 * slot) / QUERIES_PER_SET);
    while (this.sets.length <= setIndex) {
      this.sets.push(this.device.createQuerySet({ label: `profiler timestamps ${this.sets.length}`, type: 'timestamp', count: QUERIES_PER_SET }));
    }
    const op = currentOp();
    const inputElements = ins.map((s) => s.numel), outputElements = outs.map((s) => s.numel);
    this.pending.push({
      slot, kernel, op: op?.name ?? null, phase: currentPhase(), step: this.step, shapes: op?.shapes ?? [],
      inputElements, outputElements, bytes: kernelBytes(kernel, args, ins, outs),
      flops: kernelFlops(kernel, args, inputElements, outputElements), workgroups,
    });
    const base = (2 * slot) % QUERIES_PER_SET;
    return { querySet: this.sets[setIndex]!, beginningOfPassWriteIndex: base, endOfPassWriteIndex: base + 1 };
  }

  /**
   * Resolves every query set (one encoder, one submit, one map per set) and returns the kernels with
   * their GPU times. Call after the profiled work has been submitted (backend.done()).
   */
  async collect(): Promise<KernelEvent[]> {
    this.collected = true;
    const n = this.pending.length;
    if (!n) return [];
    const encoder = this.device.createCommandEncoder({ label: 'profiler resolve' });
    const reads = this.sets.map((set, i) => {
      const queries = Math.min(QUERIES_PER_SET, 2 * n - i * QUERIES_PER_SET);
      const resolve = this.device.createBuffer({ label: 'profiler resolve', size: queries * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      const read = this.device.createBuffer({ label: 'profiler readback', size: queries * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      encoder.resolveQuerySet(set, 0, queries, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, read, 0, queries * 8);
      return { resolve, read };
    });
    this.device.queue.submit([encoder.finish()]);
    const stamps: bigint[] = [];
    for (const { resolve, read } of reads) {
      await idleWait(() => read.mapAsync(GPUMapMode.READ));
      stamps.push(...new BigInt64Array(read.getMappedRange().slice(0)));
      read.unmap();
      read.destroy();
      resolve.destroy();
    }
    for (const s of this.sets) s.destroy();
    const t0 = stamps.filter((_, i) => i % 2 === 0 && i < 2 * n).reduce((a, b) => (b < a ? b : a), stamps[0]!);
    return this.pending.map(({ slot, ...e }) => {
      const begin = stamps[2 * slot]!, end = stamps[2 * slot + 1]!;
      return { ...e, startMs: Number(begin - t0) / 1e6, durationMs: Math.max(0, Number(end - begin) / 1e6) };
    });
  }
}
