/**
 * Custom ops as a public API: registerOp() takes a user's WGSL kernels (with their float64 CPU twins), a
 * forward that runs them and a backward written with ops or the op's own kernels, and returns a function
 * that behaves like a built-in op: autograd, scope, the buffer pool, input validation. WGSL compile errors
 * cite the user's file, line and column; the kernel's declared bindings are checked against its WGSL.
 */
import type { Backend } from './backend/index.js';
import type { Data } from './reference.js';
import { kernelOf, kernels, userKernels, type UserKernel } from './kernels.js';
import { apply, ops, userOps } from './ops.js';
import { tensor } from './create.js';
import { CpuBackend } from './backend/cpu.js';
import { getBackend, noGrad, scope, Tensor, TensorError } from './tensor.js';
import { fmt, sameShape, type Shape } from './shape.js';

export interface CustomKernel<A> {
  /** Kernel id (snake_case, unique across built-in and registered kernels). */
  name: string;
  /**
   * WGSL source with one `@compute` entry point; bindings as built-ins: @group(0) inputs (read) then
   * outputs (read_write), @group(1) @binding(0) a uniform Params.
   */
  code: string;
  /** File name compile errors cite (default `<name>.wgsl`). */
  file?: string;
  entry: string;
  inputs: number;
  outputs: number;
  constants?: Record<string, number>;
  /** Params words (u32, or f32 bits via f32Bits) in the struct's declaration order. */
  params: (args: A) => number[];
  /** Workgroups to launch (split over x and y above 65535 by the backend). */
  grid: (args: A) => number;
  /** The float64 reference: the specification of the kernel. */
  cpu: (inputs: Data[], outputs: Data[], args: A) => void;
}

/** What forward and backward use to run the op's kernels. */
export interface KernelRunner {
  run(kernel: string, inputs: Tensor[], outputs: Tensor[], args: unknown): void;
  /** An uninitialized f32 output of `shape` on `like`'s backend. */
  empty(shape: Shape, like: Tensor): Tensor;
}

export interface CustomOp<A> {
  name: string;
  kernels: CustomKernel<never>[];
  /** Checks inputs and attrs before anything runs; throw a TensorError naming the problem. */
  validate?: (inputs: Tensor[], attrs: A) => void;
  /** The output shape the forward must produce (checked after it runs). */
  outputShape?: (inputs: Tensor[], attrs: A) => Shape;
  forward: (inputs: Tensor[], attrs: A, k: KernelRunner) => { out: Tensor; saved?: Tensor[] };
  /** One gradient per input (null: none); omit for a non-differentiable op. */
  backward?: (dOut: Tensor, inputs: Tensor[], saved: Tensor[], attrs: A, k: KernelRunner) => (Tensor | null)[];
  /** FLOPs and bytes moved for given inputs (benchmarkOp reports GFLOP/s or GB/s from it). */
  cost?: (inputs: Tensor[], attrs: A) => { flops?: number; bytes: number };
}

export const customOps = new Map<string, CustomOp<never>>();

const runner: KernelRunner = {
  run(kernel, inputs, outputs, args) {
    const k = kernelOf(kernel);
    if (inputs.length !== k.inputs || outputs.length !== k.outputs) {
      throw new TensorError(`kernel ${kernel}: expects ${k.inputs} inputs and ${k.outputs} outputs, got ${inputs.length} and ${outputs.length}`);
    }
    [...inputs, ...outputs].forEach((t) => t.assertUsable(`kernel ${kernel}`));
    outputs[0]!.backend.run(kernel, inputs.map((t) => t.storage), outputs.map((t) => t.storage), args);
  },
  empty: (shape, like) => Tensor.empty(like.backend, shape),
};

/** Counts @group(0) bindings by access mode, to check a kernel's declared inputs/outputs against its WGSL. */
function declaredBindings(code: string): { read: number; readWrite: number } {
  const found = [...code.matchAll(/@group\(0\)\s*@binding\(\d+\)\s*var<storage,\s*(read_write|read)>/g)].map((m) => m[1]);
  return { read: found.filter((a) => a === 'read').length, readWrite: found.filter((a) => a === 'read_write').length };
}

/**
 * Registers an op and its kernels, prepares the kernels on `backends` (compiling them on WebGPU), and
 * returns the op as a function (inputs, attrs) → Tensor. Backends created later compile registered
 * kernels at their own create().
 */
export async function registerOp<A = Record<string, never>>(spec: CustomOp<A>,
  backends: Backend[] = [getBackend()]): Promise<(inputs: Tensor[], attrs?: A) => Tensor> {
  if (!/^[a-zA-Z][a-zA-Z0-9_]*$/.test(spec.name)) throw new TensorError(`registerOp: op name '${spec.name}' must be an identifier`);
  if (spec.name in ops || userOps.has(spec.name)) throw new TensorError(`registerOp: an op named '${spec.name}' already exists`);
  for (const k of spec.kernels) {
    if (!/^[a-z][a-z0-9_]*$/.test(k.name)) throw new TensorError(`registerOp ${spec.name}: kernel id '${k.name}' must be snake_case`);
    if (k.name in kernels || userKernels.has(k.name)) throw new TensorError(`registerOp ${spec.name}: a kernel named '${k.name}' already exists`);
    const b = declaredBindings(k.code);
    if (b.read !== k.inputs || b.readWrite !== k.outputs) {
      throw new TensorError(`registerOp ${spec.name}: kernel ${k.name} declares ${k.inputs} inputs and ${k.outputs} outputs, but its WGSL binds ${b.read} ` +
        `read and ${b.readWrite} read_write storage buffers in @group(0)`);
    }
    if (!new RegExp(`fn\\s+${k.entry}\\s*\\(`).test(k.code)) throw new TensorError(`registerOp ${spec.name}: kernel ${k.name} has no entry ` +
      `point '${k.entry}' in its WGSL`);
  }
  const added: string[] = [];
  try {
    for (const k of spec.kernels) {
      const entry: UserKernel = { ...(k as CustomKernel<unknown>), constants: k.constants ?? {}, file: k.file ?? `${k.name}.wgsl` };
      userKernels.set(k.name, entry);
      added.push(k.name);
    }
    for (const backend of backends) for (const k of spec.kernels) await backend.prepareKernel(k.name);
  } catch (e) {
    for (const name of added) userKernels.delete(name);
    throw e;
  }
  userOps.set(spec.name, {
    forward: (xs, attrs) => {
      const result = spec.forward(xs, attrs as A, runner);
      const want = spec.outputShape?.(xs, attrs as A);
      if (want && !sameShape(result.out.shape, want)) {
        throw new TensorError(`${spec.name}: forward produced ${fmt(result.out.shape)}, but outputShape says ${fmt(want)}`);
      }
      return result;
    },
    backward: spec.backward ? (d, xs, saved, attrs) => spec.backward!(d, xs, saved, attrs as A, runner) : null,
  });
  customOps.set(spec.name, spec as CustomOp<never>);
  return (inputs: Tensor[], attrs?: A) => {
    inputs.forEach((x, i) => {
      if (!(x instanceof Tensor)) throw new TensorError(`${spec.name}: input ${i} must be a Tensor`);
      x.assertUsable(`${spec.name}: input ${i}`);
      if (x.backend !== inputs[0]!.backend) throw new TensorError(`${spec.name}: input ${i} is on another backend than input 0`);
    });
    spec.validate?.(inputs, (attrs ?? {}) as A);
    return apply(spec.name, inputs, (attrs ?? {}) as A);
  };
}

export interface OpBenchmark { op: string; adapter: string; ms: number; gflops?: number; gbps?: number; maxAbsErr: number }

/**
 * Validates a registered op against the float64 reference on the given inputs, then times `reps` forward
 * calls (one submit) and reports GFLOP/s or GB/s from the op's `cost`. Throws if validation fails.
 */
export async function benchmarkOp(name: string, inputs: Tensor[], opts: { attrs?: unknown; reps?: number; atol?: number;
  rtol?: number } = {}): Promise<OpBenchmark> {
  const spec = customOps.get(name);
  if (!spec) throw new TensorError(`benchmarkOp: no registered op '${name}'`);
  const backend = inputs[0]!.backend;
  const ref = new CpuBackend('f64');
  const call = (xs: Tensor[]) => noGrad(() => apply(name, xs, (opts.attrs ?? {}) as never));
  const host = await Promise.all(inputs.map(async (x) => ({ shape: [...x.shape], data: Array.from(await x.read()) })));
  const got = call(inputs);
  const want = scope(() => call(host.map((h) => tensor(h.data, h.shape, { backend: ref }))));
  const [g, w] = [await got.read(), await want.read()];
  got.dispose();
  want.dispose();
  let maxAbsErr = 0;
  w.forEach((v, i) => {
    const e = Math.abs(g[i]! - v);
    maxAbsErr = Math.max(maxAbsErr, e);
    if (!(e <= (opts.atol ?? 1e-5) + (opts.rtol ?? 1e-4) * Math.abs(v))) throw new TensorError(`benchmarkOp ${name}: element ${i} is ${g[i]} on ` +
      `${backend.description}, ${v} on the float64 reference`);
  });
  const reps = opts.reps ?? 20;
  const sync = () => backend.done();
  call(inputs).dispose();
  await sync();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) call(inputs).dispose();
  await sync();
  const ms = (performance.now() - t0) / reps;
  const cost = spec.cost?.(inputs, (opts.attrs ?? {}) as never);
  return {
    op: name, adapter: backend.description, ms, maxAbsErr,
    ...(cost?.flops ? { gflops: cost.flops / ms / 1e6 } : {}), ...(cost ? { gbps: cost.bytes / ms / 1e6 } : {}),
  };
}
