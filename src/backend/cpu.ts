/**
 * The CPU backend runs each kernel's CPU twin from src/reference.ts on typed arrays. In 'f64' precision
 * it is the float64 specification used by gradcheck; in 'f32' it rounds every stored value like the GPU.
 * Always available; slow on purpose (plain loops).
 */
import { kernelPlan, type KernelPlan, type PlanOverrides } from '../kernel-plan.js';
import { kernelOf } from '../kernels.js';
import type { Data } from '../reference.js';
import { BackendError, type Backend, type DType, type KernelArgs, type MemoryStats, type Storage } from './index.js';

export class CpuStorage implements Storage {
  constructor(readonly data: Data, readonly dtype: DType) {}
  get numel(): number { return this.data.length; }
}

export class CpuBackend implements Backend {
  readonly name = 'cpu';
  readonly description: string;
  /** Typed arrays of up to 2³¹ − 1 elements work everywhere; keep storages below 2 GiB. */
  readonly maxStorageBytes = 2 ** 31 - 1;
  readonly limitName = 'the cpu backend\'s typed-array limit';
  readonly subgroupSize = null;
  private live = new Set<CpuStorage>();
  private high = 0;

  readonly plan: Readonly<KernelPlan>;

  constructor(readonly precision: 'f32' | 'f64' = 'f64', plan: PlanOverrides = {}) {
    this.plan = kernelPlan(plan);
    this.description = `cpu reference (${precision === 'f64' ? 'float64' : 'float32'})`;
  }

  private array(numel: number, dtype: DType): Data {
    if (dtype === 'i32') return new Int32Array(numel);
    if (dtype === 'u32') return new Uint32Array(numel);
    return this.precision === 'f64' ? new Float64Array(numel) : new Float32Array(numel);
  }

  private track(s: CpuStorage): CpuStorage {
    this.live.add(s);
    this.high = Math.max(this.high, this.memory().bytesInUse);
    return s;
  }

  private checkSize(numel: number): void {
    if (numel * 4 > this.maxStorageBytes) throw new BackendError(`${numel} elements (${numel * 4} bytes) exceed ${this.limitName} of ` +
      `${this.maxStorageBytes} bytes`);
  }

  alloc(numel: number, dtype: DType): CpuStorage {
    this.checkSize(numel);
    return this.track(new CpuStorage(this.array(numel, dtype), dtype));
  }

  upload(data: Data, dtype: DType): CpuStorage {
    this.checkSize(data.length);
    const arr = this.array(data.length, dtype);
    arr.set(data);
    return this.track(new CpuStorage(arr, dtype));
  }

  run<K extends string>(kernel: K, inputs: readonly Storage[], outputs: readonly Storage[], args: KernelArgs<K>): void {
    kernelOf(kernel).cpu(inputs.map((s) => this.own(s).data), outputs.map((s) => this.own(s).data), args);
  }

  prepareKernel(kernel: string): Promise<void> {
    kernelOf(kernel);
    return Promise.resolve();
  }

  write(storage: Storage, data: Data): void {
    const s = this.own(storage);
    if (data.length !== s.data.length) throw new BackendError(`write: ${data.length} values for a storage of ${s.data.length}`);
    s.data.set(data);
  }

  read(storage: Storage): Promise<Data> {
    return Promise.resolve(this.readSync(storage));
  }

  readSync(storage: Storage): Data {
    return this.own(storage).data.slice();
  }

  release(storage: Storage): void {
    this.live.delete(this.own(storage));
  }

  flush(): void {}

  async done(): Promise<void> {}

  memory(): MemoryStats {
    let bytes = 0;
    for (const s of this.live) bytes += s.data.byteLength;
    return { bytesInUse: bytes, bytesAllocated: bytes, highWater: Math.max(this.high, bytes), liveStorages: this.live.size };
  }

  resetHighWater(): void { this.high = this.memory().bytesInUse; }

  destroy(): void { this.live.clear(); }

  private own(s: Storage): CpuStorage {
    if (!(s instanceof CpuStorage)) throw new BackendError('cpu backend was given storage that belongs to another backend');
    return s;
  }
}
