/**
 * The Backend contract: allocate untyped 32-bit storage, run a kernel from the table on storages,
 * read back, release. Backends share no semantics beyond this; ops never see which one they run on.
 */
import type { KernelPlan } from '../kernel-plan.js';
import type { ArgsOf, KernelName } from '../kernels.js';
import type { Data } from '../reference.js';

export type DType = 'f32' | 'i32' | 'u32';

/** The args of a kernel of the table; a registered kernel's args are its own business. */
export type KernelArgs<K extends string> = K extends KernelName ? ArgsOf<K> : unknown;

/** An opaque handle to a backend's memory for one tensor's elements (4 bytes each). */
export interface Storage {
  readonly numel: number;
  readonly dtype: DType;
}

export interface MemoryStats {
  /** Bytes held by live storages (pool bucket sizes). */
  bytesInUse: number;
  /** Bytes of every buffer the backend currently owns: in use plus kept free in the pool. */
  bytesAllocated: number;
  /** Highest bytesInUse seen since creation or the last resetHighWater(). */
  highWater: number;
  liveStorages: number;
}

export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  /** Human-readable device: the adapter description, or the CPU reference precision. */
  readonly description: string;
  /** The most bytes one storage may hold (the adapter's maxStorageBufferBindingSize on WebGPU). */
  readonly maxStorageBytes: number;
  /** The limit maxStorageBytes comes from, for error messages ('maxStorageBufferBindingSize', …). */
  readonly limitName: string;
  /** The fixed subgroup size kernels marked `requires: 'subgroups'` were built for; null where they are not available. */
  readonly subgroupSize: number | null;
  /** Which kernel ops choose and how they launch it (matmul variant, split-K, tiles): fixed at creation. */
  readonly plan: Readonly<KernelPlan>;
  alloc(numel: number, dtype: DType, label?: string): Storage;
  upload(data: Data, dtype: DType, label?: string): Storage;
  /**
   * Runs a kernel of the table, or one registered at run time (registerOp), by id. `refresh`, for args
   * that change from step to step (Adam's bias correction), gives them anew at every replay of a captured
   * step; without it a captured dispatch keeps its args.
   */
  run<K extends string>(kernel: K, inputs: readonly Storage[], outputs: readonly Storage[], args: KernelArgs<K>, refresh?: () => KernelArgs<K>): void;
  /** Host work to repeat at every replay of the step being captured (step counters); a no-op when not capturing. */
  onReplay?(fn: () => void): void;
  /** Makes a registered kernel runnable on this backend (compiles its pipeline on WebGPU). */
  prepareKernel(kernel: string): Promise<void>;
  /** Overwrites a storage's elements in place (after everything recorded so far has been submitted). */
  write(storage: Storage, data: Data): void;
  /** Flushes pending work, then copies the storage back to the host. */
  read(storage: Storage): Promise<Data>;
  release(storage: Storage): void;
  /** Submits recorded work (no-op on the CPU). */
  flush(): void;
  /** Submits recorded work and resolves when the device has finished everything submitted so far. */
  done(): Promise<void>;
  memory(): MemoryStats;
  resetHighWater(): void;
  destroy(): void;
}

export class BackendError extends Error {
  override name = 'BackendError';
}
