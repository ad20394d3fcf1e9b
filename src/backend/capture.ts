/**
 * Captured steps: the WebGPU backend records one run of a static-shape step (every dispatch's pipeline,
 * bind group, Params words and grid, and every buffer the step allocates) and replays it with no JS op,
 * autograd or allocator work: one command encoder, one compute pass, one submit. New data enters
 * through tensors made before the capture (written with `write` between replays); buffers the step
 * allocated stay with the capture, so live memory is the same after every replay. Host state that
 * changes per step (Adam's bias correction, step counters) is refreshed by closures the ops registered
 * while recording. See docs/profiling.md ("Captured steps").
 */
import { BackendError } from './index.js';

export class CaptureError extends BackendError {
  override name = 'CaptureError';
}

/** One recorded dispatch. `refresh` recomputes its Params words at every replay (null: frozen). */
export interface RecordedDispatch {
  name: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  words: number[];
  x: number;
  y: number;
  groups: number;
  refresh: null | (() => { words: number[]; groups: number });
}

/** A dispatch as the backend prepared it: what it encodes, and what a capture records. */
export interface PreparedDispatch extends RecordedDispatch {
  /** Its Params' byte offset in the backend's uniform arena. */
  offset: number;
  ins: readonly { buffer: GPUBuffer; numel: number; bindBytes: number }[];
  outs: readonly { buffer: GPUBuffer; numel: number; bindBytes: number }[];
  args: unknown;
}

/** What a captured step needs from the backend that recorded it. */
export interface CaptureHost {
  device: GPUDevice;
  uniformLayout: GPUBindGroupLayout;
  /** Bytes between two dispatches' Params (the uniform offset alignment). */
  paramsStride: number;
  paramsBytes: number;
  /** Throws if the backend is destroyed or its device lost. */
  checkAlive(what: string): void;
  /** Submits work recorded outside the capture, so the replay runs after it. */
  flush(): void;
  /** Submits a replay's commands on the backend's queue, counting its dispatches and submit in the backend's statistics. */
  submit(commands: GPUCommandBuffer, dispatches: number): void;
  /** Gives a buffer back to the backend's pool. */
  giveBack(buffer: GPUBuffer): void;
  /** Forgets a disposed capture. */
  forget(step: CapturedStep): void;
}

/** Records while a capture runs: the dispatch list, host refreshes, and the buffers the step allocates. */
export class CaptureRecorder {
  readonly dispatches: RecordedDispatch[] = [];
  readonly hooks: (() => void)[] = [];
  /** Every buffer the step allocated (or adopted); true while a tensor still holds it. */
  readonly owned = new Map<GPUBuffer, boolean>();
  /** Every buffer a recorded dispatch binds. */
  readonly bound = new Set<GPUBuffer>();
  /** Buffers the step released, by size: later allocations of the step reuse them (dispatches run in order). */
  private free = new Map<number, GPUBuffer[]>();

  /** Keeps a dispatch of the step for replay, and the buffers it binds. */
  record(d: PreparedDispatch): void {
    for (const s of [...d.ins, ...d.outs]) this.bound.add(s.buffer);
    this.dispatches.push({ name: d.name, pipeline: d.pipeline, bindGroup: d.bindGroup, words: d.words, x: d.x, y: d.y, groups: d.groups, refresh: d.refresh });
  }

  acquire(size: number, fromPool: () => GPUBuffer): GPUBuffer {
    const buffer = this.free.get(size)?.pop() ?? fromPool();
    this.owned.set(buffer, true);
    return buffer;
  }

  /**
   * A buffer released while recording stays with the capture, whoever allocated it: a recorded
   * dispatch may bind it, so the pool must not hand it to anyone else while the capture lives.
   */
  release(buffer: GPUBuffer): void {
    this.owned.set(buffer, false);
    const list = this.free.get(buffer.size);
    if (list) list.push(buffer);
    else this.free.set(buffer.size, [buffer]);
  }
}

export class CapturedStep {
  /** Dispatches per replay. */
  readonly dispatches: number;
  /** Dispatches whose Params are recomputed at each replay (the rest are frozen at capture). */
  readonly dynamicDispatches: number;
  /** Bytes of the buffers the step allocated and keeps (intermediates and outputs). */
  readonly bytes: number;
  replays = 0;
  private list: RecordedDispatch[];
  private hooks: (() => void)[];
  private owned: Map<GPUBuffer, boolean>;
  /** Buffers the step binds but does not own (inputs, parameters, optimizer state). */
  private external: Set<GPUBuffer>;
  private broken: string | null = null;
  private params: GPUBuffer;
  private paramsGroup: GPUBindGroup;
  private shadow: Uint32Array<ArrayBuffer>;
  private disposed = false;

  constructor(private host: CaptureHost, rec: CaptureRecorder) {
    this.list = rec.dispatches;
    this.hooks = rec.hooks;
    this.owned = rec.owned;
    this.external = new Set([...rec.bound].filter((b) => !rec.owned.has(b)));
    this.dispatches = this.list.length;
    this.dynamicDispatches = this.list.filter((d) => d.refresh).length;
    this.bytes = [...this.owned.keys()].reduce((acc, b) => acc + b.size, 0);
    const stride = host.paramsStride;
    this.shadow = new Uint32Array((this.list.length * stride + host.paramsBytes) / 4);
    this.list.forEach((d, i) => this.shadow.set(d.words, (i * stride) / 4));
    this.params = host.device.createBuffer({ label: 'captured step params', size: this.shadow.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    host.device.queue.writeBuffer(this.params, 0, this.shadow);
    this.paramsGroup = host.device.createBindGroup({
      label: 'captured step params group', layout: host.uniformLayout,
      entries: [{ binding: 0, resource: { buffer: this.params, size: host.paramsBytes } }],
    });
  }

  /**
   * Runs the recorded step again on the current contents of its input tensors: host refreshes first
   * (in recorded order), then every dispatch in one pass and one submit. Returns at once; read an
   * output, or await backend.done(), to wait for the device.
   */
  replay(): void {
    if (this.disposed) throw new CaptureError('replay: this captured step was disposed');
    if (this.broken) throw new CaptureError(`replay: ${this.broken}; capture the step again`);
    this.host.checkAlive('replay of a captured step');
    this.host.flush();
    const stride = this.host.paramsStride;
    let dirty = false;
    this.list.forEach((d, i) => {
      if (!d.refresh) return;
      const { words, groups } = d.refresh();
      if (groups !== d.groups) {
        throw new CaptureError(`replay: dispatch ${i} (${d.name}) now needs ${groups} workgroups instead of the ${d.groups} captured; the step's shapes ` +
          `changed, capture it again`);
      }
      this.shadow.set(words, (i * stride) / 4);
      dirty = true;
    });
    for (const hook of this.hooks) hook();
    const { device } = this.host;
    if (dirty) device.queue.writeBuffer(this.params, 0, this.shadow);
    const encoder = device.createCommandEncoder({ label: 'captured step' });
    const pass = encoder.beginComputePass({ label: 'captured step pass' });
    this.list.forEach((d, i) => {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.setBindGroup(1, this.paramsGroup, [i * stride]);
      pass.dispatchWorkgroups(d.x, d.y);
    });
    pass.end();
    this.host.submit(encoder.finish(), this.list.length);
    this.replays++;
  }

  /**
   * A buffer was released. One the step made stays with the capture until dispose(); one it binds but
   * does not own (an input or a parameter was disposed) makes every later replay refuse to run.
   */
  release(buffer: GPUBuffer, label: string): 'kept' | 'free' {
    if (this.owned.has(buffer)) {
      this.owned.set(buffer, false);
      return 'kept';
    }
    if (this.external.has(buffer)) {
      this.broken ??= `a tensor the step reads or writes (${label}) was disposed after the capture`;
      this.external.delete(buffer);
    }
    return 'free';
  }

  /**
   * Gives the step's buffers back to the pool. Tensors the step returned that are still alive keep
   * theirs (they are ordinary tensors from now on).
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const [buffer, held] of this.owned) if (!held) this.host.giveBack(buffer);
    this.owned.clear();
    this.external.clear();
    this.params.destroy();
    this.host.forget(this);
  }
}
