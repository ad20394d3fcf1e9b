/**
 * The WebGPU backend: owns the GPUDevice, compiles every kernel of the table into a pipeline at
 * create() (explicit layouts, compile errors reported as shaders/<file>.wgsl:line:col) or, with
 * compile: 'lazy', each kernel at its first dispatch, records
 * dispatches into one open compute pass, packs Params into one uniform arena bound with dynamic
 * offsets, submits on flush(), and reads back asynchronously through staging buffers.
 */
import { kernelPlan, type KernelPlan, type PlanOverrides } from '../kernel-plan.js';
import { kernelOf, kernels, userKernels, MAX_PARAMS_BYTES, type Kernel, type KernelCore, type KernelName } from '../kernels.js';
import type { Data } from '../reference.js';
import { BindGroupCache } from './bind-groups.js';
import { BufferPool } from './buffers.js';
import { requestGpuDevice, type DeviceOptions, type GpuContext } from './device.js';
import { BackendError, type Backend, type DType, type KernelArgs, type MemoryStats, type Storage } from './index.js';
import { shaderLines, shaders, type ShaderName } from './shaders.gen.js';
import type { GpuProfiler } from './profiler.js';
import { CaptureError, CaptureRecorder, CapturedStep, type CaptureHost, type PreparedDispatch as Dispatch } from './capture.js';
import { idleWait } from './idle-wait.js';

export class ShaderCompileError extends Error {
  override name = 'ShaderCompileError';
}

export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

export class GpuStorage implements Storage {
  /** byteOffset: where the elements start in `buffer` (a multiple of minStorageBufferOffsetAlignment; tests bind sub-ranges to check guard regions). */
  constructor(readonly buffer: GPUBuffer, readonly numel: number, readonly dtype: DType, readonly byteOffset = 0) {}
  /** Bound size: exactly the tensor's bytes, so WGSL arrayLength() guards see the logical length. */
  get bindBytes(): number { return Math.max(4, this.numel * 4); }
}

const ARENA_BYTES = 1 << 20;
/** Bind groups kept for reuse: a C2AL step has ~170 dispatches; evaluation and several models add theirs. */
const BIND_GROUPS_KEPT = 4096;

export interface WebGpuOptions extends DeviceOptions {
  /**
   * 'eager' (the default): create() compiles every kernel, so compile errors surface there with file:line:col
   * and no step pays for a compile. 'lazy': a kernel is compiled at its first dispatch (the device's
   * synchronous createComputePipeline) and a compile error arrives as an uncaptured device error (ctx.errors);
   * for programs that use a few kernels where compiling all is slow (SwiftShader: ~15 s). Not with warm.
   */
  compile?: 'eager' | 'lazy';
  /** Dispatch every pipeline once at create(), so drivers that compile lazily (lavapipe) do it up front. */
  warm?: boolean;
  /** An existing context (tests share one device between backends). */
  context?: GpuContext;
  /** Kernel choices and launch shapes (matmul tile, split-K, matmul_sg threshold); the defaults are measured ones. */
  plan?: PlanOverrides;
}

/**
 * Pipelines already built on a device, by kernel and override constants: a second backend on the same
 * context (tests with another plan, the tile sweep) builds only what differs.
 */
const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();
/** The same, for pipelines built synchronously (compile: 'lazy'), and their shader modules. */
const builtPipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();
const builtModules = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();

/** `device`'s map in a per-device cache, made on first use. */
function onDevice<V>(cache: WeakMap<GPUDevice, Map<string, V>>, device: GPUDevice): Map<string, V> {
  let map = cache.get(device);
  if (!map) cache.set(device, (map = new Map()));
  return map;
}

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly description: string;
  readonly plan: Readonly<KernelPlan>;
  /** Milliseconds spent compiling pipelines (and warming them, if asked) in create(). */
  compileMs = 0;
  private pipelines = new Map<string, GPUComputePipeline>();
  private pool: BufferPool;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private arenaBuffer: GPUBuffer;
  private arenaWords = new Uint32Array(ARENA_BYTES / 4);
  private arenaUsed = 0;
  private arenaGroup: GPUBindGroup;
  private uniformLayout: GPUBindGroupLayout;
  private storageLayouts = new Map<string, GPUBindGroupLayout>();
  /** The dispatches' storage bind groups, reused from step to step. */
  readonly bindGroups = new BindGroupCache(BIND_GROUPS_KEPT);
  private alignment: number;
  private maxGroups: number;
  private destroyed = false;
  dispatches = 0;
  submits = 0;
  private timing: { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } | null = null;
  /** The bench timer's timestamps for the next pass begun, while timeDispatches records. */
  private timer: GPUComputePassTimestampWrites | null = null;
  /** While timeSubmitted records: whether its opening timestamp has been submitted yet. */
  private span: { opened: boolean } | null = null;
  /** A timeDispatches or timeSubmitted awaits the timing buffers. */
  private timingBusy = false;
  private profiler: GpuProfiler | null = null;
  private recorder: CaptureRecorder | null = null;
  private captures = new Set<CapturedStep>();

  private constructor(readonly ctx: GpuContext, plan: PlanOverrides, private readonly lazy: boolean) {
    const { device } = ctx;
    this.plan = kernelPlan(plan);
    this.description = ctx.adapter.description || `${ctx.adapter.vendor} ${ctx.adapter.architecture}`.trim() || 'unknown adapter';
    this.pool = new BufferPool(device);
    this.alignment = Math.max(ctx.limits.minUniformBufferOffsetAlignment ?? 256, 16);
    this.maxGroups = ctx.limits.maxComputeWorkgroupsPerDimension ?? 65535;
    this.arenaBuffer = device.createBuffer({
      label: 'uniform arena', size: ARENA_BYTES + MAX_PARAMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.uniformLayout = device.createBindGroupLayout({
      label: 'params layout',
      entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } }],
    });
    this.arenaGroup = device.createBindGroup({
      label: 'uniform arena group', layout: this.uniformLayout,
      entries: [{ binding: 0, resource: { buffer: this.arenaBuffer, size: MAX_PARAMS_BYTES } }],
    });
  }

  static async create(opts: WebGpuOptions = {}): Promise<WebGpuBackend> {
    const lazy = opts.compile === 'lazy';
    if (lazy && opts.warm) throw new BackendError("WebGpuBackend.create: warm dispatches every pipeline, so it needs compile: 'eager'");
    const ctx = opts.context ?? (await requestGpuDevice(opts));
    const backend = new WebGpuBackend(ctx, opts.plan ?? {}, lazy);
    const t0 = performance.now();
    await idleWait(() => backend.compileAll());
    if (opts.warm) await backend.warm();
    backend.compileMs = performance.now() - t0;
    return backend;
  }

  get device(): GPUDevice { return this.ctx.device; }

  get subgroupSize(): number | null { return this.ctx.subgroupSize; }

  /** Whether this device can run a built-in kernel (a kernel that `requires` a capability may not). */
  available(kernel: KernelName): boolean {
    return (kernels[kernel] as Kernel<unknown>).requires !== 'subgroups' || this.subgroupSize !== null;
  }

  /** Compiles WGSL and throws ShaderCompileError with file:line:col for each error message. */
  async compileShader(name: string, code: string, file = `shaders/${name}.wgsl`): Promise<GPUShaderModule> {
    const { device } = this.ctx;
    // Pop the scope right after the call it guards: scopes are a per-device stack, and compiles run concurrently.
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: file, code });
    const scope = device.popErrorScope();
    const info = await module.getCompilationInfo();
    const scopeError = await scope;
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length || scopeError) {
      const lines = code.split('\n');
      const detail = errors.map((m) => `${sourceOf(name, file, m.lineNum)}:${m.linePos}: error: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`);
      throw new ShaderCompileError(detail.length ? detail.join('\n') : `${file}: ${scopeError?.message}`);
    }
    return module;
  }

  private storageLayout(inputs: number, outputs: number): GPUBindGroupLayout {
    const key = `${inputs}:${outputs}`;
    let layout = this.storageLayouts.get(key);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      for (let i = 0; i < inputs + outputs; i++) {
        entries.push({ binding: i, visibility: GPUShaderStage.COMPUTE, buffer: { type: i < inputs ? 'read-only-storage' : 'storage' } });
      }
      layout = this.ctx.device.createBindGroupLayout({ label: `storage layout ${inputs} in / ${outputs} out`, entries });
      this.storageLayouts.set(key, layout);
    }
    return layout;
  }

  private async compileAll(): Promise<void> {
    const modules = new Map<ShaderName, Promise<GPUShaderModule>>();
    const module = (s: ShaderName, k: Kernel<unknown>): Promise<GPUShaderModule> => {
      let m = modules.get(s);
      if (!m) modules.set(s, (m = this.compileShader(s, this.codeOf(k))));
      return m;
    };
    const cache = onDevice(pipelineCache, this.ctx.device), settled = onDevice(builtPipelines, this.ctx.device);
    const builtIn = this.lazy ? [] : (Object.keys(kernels) as KernelName[]).filter((name) => this.available(name));
    await Promise.all(builtIn.map(async (name) => {
      const k = kernels[name] as Kernel<unknown>;
      const key = this.pipelineKey(name, k);
      let built = cache.get(key);
      if (!built) {
        built = module(k.shader, k).then((m) => this.buildPipeline(name, k, m));
        cache.set(key, built);
        built.catch(() => cache.delete(key));
      }
      const pipeline = await built;
      settled.set(key, pipeline);
      this.pipelines.set(name, pipeline);
    }));
    // Kernels registered before this backend existed.
    await Promise.all([...userKernels.keys()].map((name) => this.prepareKernel(name)));
  }

  /** A built-in kernel's pipeline, built now on a lazy backend; undefined where it is not prepared. */
  private pipelineOf(name: string): GPUComputePipeline | undefined {
    const ready = this.pipelines.get(name);
    if (ready || !this.lazy || !(name in kernels) || !this.available(name as KernelName)) return ready;
    const k = kernels[name as KernelName] as Kernel<unknown>;
    const { device } = this.ctx;
    const built = onDevice(builtPipelines, device), modules = onDevice(builtModules, device);
    const key = this.pipelineKey(name, k);
    let pipeline = built.get(key);
    if (!pipeline) {
      let module = modules.get(k.shader);
      if (!module) modules.set(k.shader, (module = device.createShaderModule({ label: `shaders/${k.shader}.wgsl`, code: this.codeOf(k) })));
      pipeline = device.createComputePipeline(this.pipelineDescriptor(name, k, module));
      built.set(key, pipeline);
    }
    this.pipelines.set(name, pipeline);
    return pipeline;
  }

  /** What a pipeline is cached by on its device: the kernel and its override constants on this backend's plan. */
  private pipelineKey(name: string, k: Kernel<unknown>): string {
    return `${name} ${JSON.stringify(this.constantsOf(k))}`;
  }

  /** A built-in kernel's WGSL on this device (subgroup kernels get the adapter's subgroup size). */
  private codeOf(k: Kernel<unknown>): string {
    return k.requires === 'subgroups' ? withSubgroupSize(k.shader, shaders[k.shader], this.subgroupSize!) : shaders[k.shader];
  }

  private pipelineDescriptor(name: string, k: KernelCore<unknown>, module: GPUShaderModule): GPUComputePipelineDescriptor {
    const layout = this.ctx.device.createPipelineLayout({
      label: `${name} layout`, bindGroupLayouts: [this.storageLayout(k.inputs, k.outputs), this.uniformLayout],
    });
    return { label: `kernel ${name}`, layout, compute: { module, entryPoint: k.entry, constants: this.constantsOf(k) } };
  }

  async prepareKernel(name: string): Promise<void> {
    if (this.pipelines.has(name)) return;
    const k = userKernels.get(name);
    if (!k) { kernelOf(name); return; }
    const module = await this.compileShader(k.file.replace(/\.wgsl$/, ''), k.code, k.file);
    this.pipelines.set(name, await this.buildPipeline(name, k, module));
  }

  async buildPipeline(name: string, k: KernelCore<unknown> & { shader?: string; file?: string }, module: GPUShaderModule): Promise<GPUComputePipeline> {
    const { device } = this.ctx;
    const where = `kernel ${name} (${k.file ?? `shaders/${k.shader}.wgsl`}, entry ${k.entry})`;
    device.pushErrorScope('validation');
    const pipeline = device.createComputePipelineAsync(this.pipelineDescriptor(name, k, module));
    const scope = device.popErrorScope();
    const [built, scopeError] = await Promise.allSettled([pipeline, scope]);
    if (scopeError.status === 'fulfilled' && scopeError.value) throw new ShaderCompileError(`${where}: ${scopeError.value.message}`);
    if (built.status === 'rejected') throw new ShaderCompileError(`${where}: ${(built.reason as Error).message}`);
    return built.value;
  }

  /** A kernel's override constants on this backend (tuned kernels read the plan). */
  private constantsOf(k: KernelCore<unknown>): Record<string, number> {
    return typeof k.constants === 'function' ? k.constants(this.plan) : k.constants;
  }

  /** One single-workgroup dispatch per pipeline with n = 0, so lazily compiling drivers compile now. */
  private async warm(): Promise<void> {
    const widest = Math.max(...Object.values(kernels).map((k) => k.inputs + k.outputs));
    const scratch = Array.from({ length: widest }, () => this.alloc(4, 'f32', 'warm-up scratch'));
    for (const name of this.pipelines.keys()) {
      const k = kernelOf(name);
      const words = new Array<number>(MAX_PARAMS_BYTES / 4).fill(0);
      this.dispatch(this.prepare(name, k, scratch.slice(0, k.inputs), scratch.slice(k.inputs, k.inputs + k.outputs), words, 1));
    }
    this.flush();
    await idleWait(() => this.ctx.device.queue.onSubmittedWorkDone());
    scratch.forEach((s) => this.release(s));
  }

  private checkAlive(what: string): void {
    if (this.destroyed) throw new DeviceLostError(`${what}: the webgpu backend was destroyed`);
    if (this.ctx.lost) throw new DeviceLostError(`${what}: the WebGPU device was lost (${this.ctx.lost.reason}): ${this.ctx.lost.message}`);
  }

  get maxStorageBytes(): number {
    return Math.min(this.ctx.limits.maxStorageBufferBindingSize ?? 134217728, this.ctx.limits.maxBufferSize ?? 268435456);
  }

  get limitName(): string {
    const { maxStorageBufferBindingSize: binding = 134217728, maxBufferSize: buffer = 268435456 } = this.ctx.limits;
    return binding <= buffer ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  }

  private checkSize(numel: number, label: string): number {
    const bytes = numel * 4;
    const limit = this.maxStorageBytes;
    if (!(bytes <= limit)) {
      throw new BackendError(`${label}: ${numel} elements (${bytes} bytes) exceed this adapter's ${this.limitName} of ${limit} bytes`);
    }
    return bytes;
  }

  alloc(numel: number, dtype: DType, label = 'tensor'): GpuStorage {
    this.checkAlive('alloc');
    const bytes = this.checkSize(numel, label);
    const fromPool = (): GPUBuffer => this.pool.acquire(bytes, false, label, this.ctx.limits.maxBufferSize);
    const buffer = this.recorder ? this.recorder.acquire(this.pool.sizeFor(bytes, this.ctx.limits.maxBufferSize), fromPool) : fromPool();
    return new GpuStorage(buffer, numel, dtype);
  }

  upload(data: Data, dtype: DType, label = 'tensor'): GpuStorage {
    this.checkAlive('upload');
    this.refuseWhileCapturing(`upload of ${data.length} values (${label})`);
    const bytes = this.checkSize(data.length, label);
    const buffer = this.pool.acquire(bytes, true, label, this.ctx.limits.maxBufferSize);
    const words = dtype === 'f32' ? Float32Array.from(data) : dtype === 'i32' ? Int32Array.from(data) : Uint32Array.from(data);
    if (words.byteLength) this.ctx.device.queue.writeBuffer(buffer, 0, words);
    return new GpuStorage(buffer, data.length, dtype);
  }

  run<K extends string>(kernel: K, inputs: readonly Storage[], outputs: readonly Storage[], args: KernelArgs<K>, refresh?: () => KernelArgs<K>): void {
    this.checkAlive(`kernel ${kernel}`);
    const k = kernelOf(kernel);
    if (!this.pipelineOf(kernel)) {
      if (kernel in kernels && !this.available(kernel as KernelName)) {
        throw new BackendError(`kernel ${kernel} needs the 'subgroups' feature with one fixed subgroup size, which ${this.description} does not offer`);
      }
      throw new BackendError(`kernel ${kernel} is not prepared on this backend: await registerOp(…, [backend]) or backend.prepareKernel('${kernel}')`);
    }
    const groups = k.grid(args);
    if (groups === 0) return;
    this.dispatch(this.prepare(kernel, k, inputs.map((s) => this.own(s)), outputs.map((s) => this.own(s)), k.params(args), groups, args, refresh));
  }

  /**
   * Runs `fn` (one static-shape step: forward, backward, optimizer) as usual while recording it, and
   * returns its result with a CapturedStep that replays it. Inside `fn`, host data cannot enter (no
   * upload, write or read: pass tensors made before), and the buffers it allocates stay with the capture.
   */
  capture<T>(fn: () => T): { step: CapturedStep; result: T } {
    this.checkAlive('capture');
    if (this.recorder) throw new CaptureError('capture: a capture is already recording on this backend (captures do not nest)');
    if (this.profiler) throw new CaptureError('capture: a profiler is attached; profile uncaptured steps (setProfiler(null) first)');
    const recorder = new CaptureRecorder();
    this.recorder = recorder;
    const plain = this.dispatch;
    this.dispatch = (d) => { recorder.record(d); plain(d); };
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.recorder = null;
      this.dispatch = plain;
      for (const [buffer, held] of recorder.owned) if (!held) this.pool.release(buffer, this.encoder !== null);
      throw e;
    }
    this.recorder = null;
    this.dispatch = plain;
    const step = new CapturedStep(this.captureHost(), recorder);
    this.captures.add(step);
    return { step, result };
  }

  /** Registers host work to repeat at every replay of the step being captured (nothing when not capturing). */
  onReplay(fn: () => void): void {
    this.recorder?.hooks.push(fn);
  }

  get capturing(): boolean { return this.recorder !== null; }

  private refuseWhileCapturing(what: string, waits = false): void {
    if (!this.recorder) return;
    throw new CaptureError(waits
      ? `${what} while capturing a step: a captured step cannot wait for the device (read its results after capture() returns, or after a replay)`
      : `${what} while capturing a step: host data enters a captured step only through tensors made before the capture (write them between replays)`);
  }

  private captureHost(): CaptureHost {
    return {
      device: this.ctx.device,
      uniformLayout: this.uniformLayout,
      paramsStride: Math.ceil(MAX_PARAMS_BYTES / this.alignment) * this.alignment,
      paramsBytes: MAX_PARAMS_BYTES,
      checkAlive: (what) => {
        this.checkAlive(what);
        if (this.recorder) throw new CaptureError(`${what}: a capture is recording on this backend`);
        if (this.profiler) throw new CaptureError(`${what}: a profiler is attached; profile uncaptured steps`);
      },
      flush: () => this.flush(),
      submit: (commands, dispatches) => {
        this.submit([commands]);
        this.dispatches += dispatches;
        this.submits++;
      },
      giveBack: (buffer) => this.pool.release(buffer, this.encoder !== null),
      forget: (step) => this.captures.delete(step),
    };
  }

  /**
   * Attaches a profiler (every dispatch then gets a timestamped pass of its own) or detaches it (null).
   * Work recorded so far is submitted first, so no pass mixes the two modes.
   */
  setProfiler(profiler: GpuProfiler | null): void {
    if (profiler && this.recorder) throw new CaptureError('setProfiler: a capture is recording; attach the profiler before or after it');
    if (profiler && !this.ctx.features.includes('timestamp-query')) {
      throw new BackendError(`profiling needs the 'timestamp-query' feature, which ${this.description} does not offer`);
    }
    this.flush();
    this.profiler = profiler;
    // One pass per kernel while profiling: its timestamps bracket exactly this dispatch.
    this.dispatch = profiler ? (d) => {
      this.encode(d, profiler.record(d.name, d.args, d.ins, d.outs, d.groups));
      this.endPass();
    } : (d) => this.encode(d, null);
  }

  /** A dispatch with its bindings and its slot in the uniform arena, ready to encode (and to record, when capturing). */
  private prepare(name: string, k: KernelCore<unknown>, ins: GpuStorage[], outs: GpuStorage[], words: number[], groups: number, args?: unknown,
    refresh?: () => unknown): Dispatch {
    const x = Math.min(groups, this.maxGroups);
    const y = Math.ceil(groups / x);
    if (y > this.maxGroups) throw new BackendError(`kernel ${name}: ${groups} workgroups exceed the adapter's ${this.maxGroups}² grid`);
    const stride = Math.ceil((words.length * 4) / this.alignment) * this.alignment;
    if (this.arenaUsed + stride > ARENA_BYTES) this.flush();
    const offset = this.arenaUsed;
    this.arenaWords.set(words, offset / 4);
    this.arenaUsed += stride;
    const ranges = [...ins, ...outs].map((s) => ({ buffer: s.buffer, offset: s.byteOffset, size: s.bindBytes }));
    const bindGroup = this.bindGroups.get(name, ranges, () => this.ctx.device.createBindGroup({
      label: `${name} bindings`,
      layout: this.storageLayout(k.inputs, k.outputs),
      entries: ranges.map((resource, i) => ({ binding: i, resource })),
    }));
    return {
      name, pipeline: this.pipelines.get(name)!, bindGroup, words, offset, x, y, groups, ins, outs, args,
      refresh: refresh ? () => { const a = refresh(); return { words: k.params(a), groups: k.grid(a) }; } : null,
    };
  }

  /**
   * How a prepared dispatch reaches the device: encoded into the step's open pass. setProfiler and capture
   * replace it with a wrapper (a timestamped pass per dispatch; recording for replay) around encode().
   */
  private dispatch: (d: Dispatch) => void = (d) => this.encode(d, null);

  /** Encodes into the open pass, beginning one (with `writes`, or the bench timer's) if none is open. */
  private encode(d: Dispatch, writes: GPUComputePassTimestampWrites | null): void {
    this.encoder ??= this.ctx.device.createCommandEncoder({ label: 'step encoder' });
    if (!this.pass) {
      const stamps = writes ?? this.timer;
      this.pass = this.encoder.beginComputePass({ label: writes ? `${d.name} pass` : 'step pass', ...(stamps ? { timestampWrites: stamps } : {}) });
    }
    this.pass.setPipeline(d.pipeline);
    this.pass.setBindGroup(0, d.bindGroup);
    this.pass.setBindGroup(1, this.arenaGroup, [d.offset]);
    this.pass.dispatchWorkgroups(d.x, d.y);
    this.dispatches++;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /**
   * Runs `record` (which dispatches kernels) in a pass of its own and returns the GPU time between the
   * pass's timestamps in milliseconds, or null when the adapter has no timestamp-query.
   */
  async timeDispatches(record: () => void): Promise<number | null> {
    this.flush();
    const timing = this.timingBuffers('timeDispatches');
    if (!timing) {
      record();
      this.flush();
      return null;
    }
    this.timer = { querySet: timing.set, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
    try {
      record();
    } finally {
      this.timer = null;
    }
    if (!this.encoder || !this.pass) return 0;
    this.pass.end();
    this.pass = null;
    this.resolveTiming(this.encoder);
    this.submitEncoder();
    return this.readTiming();
  }

  /**
   * Runs `record` and returns the GPU time from the start of the first work it submits (op by op, a
   * captured step's replay, a readback's copy) to the end of all of it, in milliseconds: 0 if it submitted
   * nothing, null when the adapter has no timestamp-query; idle gaps between its submits count. Resolves when that work is done, as done() would.
   * A timestamped empty pass goes in front of the first submit and another after the last, so host time
   * spent recording before the first submit is not counted, and the kernels run as they would untimed.
   */
  async timeSubmitted(record: () => void): Promise<number | null> {
    this.checkAlive('timeSubmitted');
    this.refuseWhileCapturing('timeSubmitted()', true);
    this.flush();
    const timing = this.timingBuffers('timeSubmitted');
    if (!timing) {
      record();
      await this.done();
      return null;
    }
    const span = { opened: false };
    this.span = span;
    try {
      record();
      this.flush();
    } finally {
      this.span = null;
    }
    if (!span.opened) return 0;
    const encoder = this.ctx.device.createCommandEncoder({ label: 'timeSubmitted end' });
    encoder.beginComputePass({ label: 'timeSubmitted end', timestampWrites: { querySet: timing.set, endOfPassWriteIndex: 1 } }).end();
    this.resolveTiming(encoder);
    this.ctx.device.queue.submit([encoder.finish()]);
    return this.readTiming();
  }

  /** The two timestamps timeDispatches and timeSubmitted share (null without timestamp-query); refuses a second timing while one awaits. */
  private timingBuffers(what: string): { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } | null {
    if (!this.ctx.features.includes('timestamp-query')) return null;
    if (this.timingBusy) throw new BackendError(`${what}: another timeDispatches or timeSubmitted is still waiting for its timestamps (await it first)`);
    const { device } = this.ctx;
    this.timing ??= {
      set: device.createQuerySet({ label: 'bench timestamps', type: 'timestamp', count: 2 }),
      resolve: device.createBuffer({ label: 'timestamp resolve', size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
      read: device.createBuffer({ label: 'timestamp readback', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
    };
    return this.timing;
  }

  private resolveTiming(encoder: GPUCommandEncoder): void {
    const t = this.timing!;
    encoder.resolveQuerySet(t.set, 0, 2, t.resolve, 0);
    encoder.copyBufferToBuffer(t.resolve, 0, t.read, 0, 16);
  }

  /** Waits for the timestamps just resolved and returns end − begin in milliseconds. */
  private async readTiming(): Promise<number> {
    const { read } = this.timing!;
    this.timingBusy = true;
    try {
      await idleWait(() => read.mapAsync(GPUMapMode.READ));
      const [begin, end] = new BigInt64Array(read.getMappedRange().slice(0));
      read.unmap();
      return Number(end! - begin!) / 1e6;
    } finally {
      this.timingBusy = false;
    }
  }

  /** Every submit of the backend's work: while timeSubmitted records, the first one opens its span with a timestamp. */
  private submit(commands: GPUCommandBuffer[]): void {
    const { device } = this.ctx;
    if (this.span && !this.span.opened) {
      const encoder = device.createCommandEncoder({ label: 'timeSubmitted begin' });
      encoder.beginComputePass({ label: 'timeSubmitted begin', timestampWrites: { querySet: this.timing!.set, beginningOfPassWriteIndex: 0 } }).end();
      commands = [encoder.finish(), ...commands];
      this.span.opened = true;
    }
    device.queue.submit(commands);
  }

  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    this.submitEncoder();
  }

  async done(): Promise<void> {
    this.checkAlive('done');
    this.refuseWhileCapturing('done()', true);
    this.flush();
    await idleWait(() => this.ctx.device.queue.onSubmittedWorkDone());
  }

  private submitEncoder(): void {
    if (!this.encoder) return;
    const { queue } = this.ctx.device;
    // The arena is written now, before the commands that read it are submitted (queue order).
    queue.writeBuffer(this.arenaBuffer, 0, this.arenaWords.buffer, 0, this.arenaUsed);
    this.submit([this.encoder.finish()]);
    this.submits++;
    this.encoder = null;
    this.arenaUsed = 0;
    this.pool.onFlush();
  }

  write(storage: Storage, data: Data): void {
    this.checkAlive('write');
    this.refuseWhileCapturing(`write of ${data.length} values`);
    const s = this.own(storage);
    if (data.length !== s.numel) throw new BackendError(`write: ${data.length} values for a storage of ${s.numel}`);
    // queue.writeBuffer runs before commands still being recorded: submit those first.
    this.flush();
    const words = s.dtype === 'f32' ? Float32Array.from(data) : s.dtype === 'i32' ? Int32Array.from(data) : Uint32Array.from(data);
    if (words.byteLength) this.ctx.device.queue.writeBuffer(s.buffer, s.byteOffset, words);
  }

  async read(storage: Storage): Promise<Data> {
    this.checkAlive('read');
    this.refuseWhileCapturing('read', true);
    const s = this.own(storage);
    this.flush();
    const { device } = this.ctx;
    const staging = device.createBuffer({ label: 'readback staging', size: s.bindBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder({ label: 'readback encoder' });
    encoder.copyBufferToBuffer(s.buffer, s.byteOffset, staging, 0, s.bindBytes);
    this.submit([encoder.finish()]);
    try {
      await idleWait(() => staging.mapAsync(GPUMapMode.READ));
    } catch (e) {
      staging.destroy();
      this.checkAlive('read');
      throw e;
    }
    const bytes = staging.getMappedRange().slice(0, s.numel * 4);
    staging.unmap();
    staging.destroy();
    return s.dtype === 'f32' ? new Float32Array(bytes) : s.dtype === 'i32' ? new Int32Array(bytes) : new Uint32Array(bytes);
  }

  release(storage: Storage): void {
    if (this.destroyed) return;
    const { buffer } = this.own(storage);
    if (this.recorder) {
      this.recorder.release(buffer);
      return;
    }
    for (const step of this.captures) if (step.release(buffer, buffer.label) === 'kept') return;
    this.pool.release(buffer, this.encoder !== null);
  }

  memory(): MemoryStats {
    const s = this.pool.stats();
    return { bytesInUse: s.bytesInUse, bytesAllocated: s.bytesAllocated, highWater: s.highWater, liveStorages: s.liveBuffers };
  }

  resetHighWater(): void { this.pool.resetHighWater(); }

  /** Frees pooled buffers no tensor uses. */
  trim(): void {
    this.flush();
    this.pool.trim(0);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.recorder = null;
    for (const step of [...this.captures]) step.dispose();
    this.flush();
    this.pool.destroyAll();
    this.bindGroups.clear();
    this.arenaBuffer.destroy();
    if (this.timing) {
      this.timing.set.destroy();
      this.timing.resolve.destroy();
      this.timing.read.destroy();
    }
    this.destroyed = true;
  }

  private own(s: Storage): GpuStorage {
    if (!(s instanceof GpuStorage)) throw new BackendError('webgpu backend was given storage that belongs to another backend');
    return s;
  }
}

/** Where packed line `line` of a built-in shader came from (a file under shaders/, includes resolved); other code cites `file`. */
function sourceOf(name: string, file: string, line: number): string {
  const runs = file === `shaders/${name}.wgsl` ? (shaderLines as Record<string, readonly (readonly [number, string, number])[]>)[name] : undefined;
  const run = runs?.findLast(([start]) => start <= line);
  return run ? `shaders/${run[1]}:${run[2] + line - run[0]}` : `${file}:${line}`;
}

/** A `requires: 'subgroups'` shader with its `const SG` set to the device's subgroup size. */
function withSubgroupSize(name: string, code: string, size: number): string {
  const marker = /^const SG: u32 = \d+u;$/m;
  if (!marker.test(code)) throw new ShaderCompileError(`shaders/${name}.wgsl: a kernel that requires subgroups must declare \`const SG: u32 = ` +
    `<n>u;\` on a line of its own`);
  return code.replace(marker, `const SG: u32 = ${size}u;`);
}
