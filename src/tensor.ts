/**
 * Tensor: a shape, a dtype and a storage on one backend, plus (when it needs a gradient) the op, inputs,
 * saved tensors and attrs that made it. backward() walks a topological order iteratively and calls
 * each op's backward rule from the table in ops.ts. Memory is explicit: scope(fn) disposes what fn
 * created except what it returns and kept tensors; dispose() releases one; views share refcounted storage.
 */
import { BackendError, type Backend, type DType, type KernelArgs, type Storage } from './backend/index.js';
import type { ArgsOf, KernelName } from './kernels.js';
import type { Data } from './reference.js';
import { fmt, numel, type Shape } from './shape.js';
import { withOp, withPhase } from './backend/profile-tags.js';

export class TensorError extends Error {
  override name = 'TensorError';
}

/**
 * A row-sparse gradient of a [rows, ...] tensor: values[u] belongs to row rows[u] (rows unique, ascending).
 * Embedding backward produces it; a leaf with `sparseGrad` keeps it in `rowGrads`, anything else gets it
 * densified.
 */
export class RowSparse {
  constructor(readonly rows: Tensor, readonly values: Tensor, readonly shape: Shape) {}
  dispose(): void {
    this.rows.dispose();
    this.values.dispose();
  }
}

let currentBackend: Backend | null = null;

export function setBackend(backend: Backend): void { currentBackend = backend; }

export function getBackend(): Backend {
  if (!currentBackend) throw new TensorError('no backend: call `await init()` (webgpu) or `await init({ backend: "cpu" })` first');
  return currentBackend;
}

/** A storage shared by a tensor and its views (reshape, detach); released when the last one is disposed. */
class StorageRef {
  refs = 1;
  constructor(readonly backend: Backend, readonly storage: Storage) {}
  drop(): void {
    if (--this.refs === 0) this.backend.release(this.storage);
  }
}

/**
 * What backward() needs from the op layer: the backward rule of an op (rules are written with ops), and
 * four ops of its own (the seed gradient, accumulation, a copy, densifying a row-sparse part). ops.ts
 * installs it when it loads, so this file imports no op and the op layer depends on tensors one way.
 */
export interface Autograd {
  backwardRule(op: string): ((d: Tensor, xs: Tensor[], saved: Tensor[], attrs: never) => (Tensor | RowSparse | null)[]) | null;
  onesLike(x: Tensor): Tensor;
  add(a: Tensor, b: Tensor): Tensor;
  copyOf(x: Tensor): Tensor;
  densifyRows(g: RowSparse): Tensor;
}

let autograd: Autograd | null = null;

export function installAutograd(a: Autograd): void { autograd = a; }

function rules(): Autograd {
  if (!autograd) throw new TensorError('backward(): the op layer is not loaded (import the ops, e.g. from the package entry, before calling backward)');
  return autograd;
}

let gradEnabled = true;

/** Runs fn without recording the autograd graph. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = prev; }
}

export function isGradEnabled(): boolean { return gradEnabled; }

const scopes: Set<Tensor>[] = [];
const live = new Set<Tensor>();
let debugMode = false;
let nextId = 1;

/** Records a creation stack for every tensor (see liveTensors()); slow, for leak hunting. */
export function setDebug(on: boolean): void { debugMode = on; }

/** Tensors not yet disposed (with creation stacks in debug mode). */
export function liveTensors(): Tensor[] { return [...live]; }

export class Tensor {
  readonly id = nextId++;
  name: string | undefined;
  requiresGrad = false;
  grad: Tensor | null = null;
  /** The op that made this tensor (a built-in OpName or a registered op's name). */
  op: string | null = null;
  inputs: Tensor[] = [];
  saved: Tensor[] = [];
  attrs: unknown = undefined;
  /** Kept tensors survive every scope (parameters, leaf gradients). */
  kept = false;
  readonly createdAt: string | undefined;
  private ref: StorageRef | null;

  constructor(readonly backend: Backend, storage: Storage | StorageRef, readonly shape: Shape, readonly dtype: DType) {
    this.ref = storage instanceof StorageRef ? storage : new StorageRef(backend, storage);
    if (storage instanceof StorageRef) storage.refs++;
    live.add(this);
    scopes[scopes.length - 1]?.add(this);
    if (debugMode) this.createdAt = new Error().stack?.split('\n').slice(2).join('\n');
  }

  /** An uninitialized tensor (kernel output). */
  static empty(backend: Backend, shape: Shape, dtype: DType = 'f32'): Tensor {
    assertFits(backend, shape, dtype);
    return new Tensor(backend, backend.alloc(numel(shape), dtype), [...shape], dtype);
  }

  static fromData(backend: Backend, data: Data, shape: Shape, dtype: DType): Tensor {
    assertFits(backend, shape, dtype);
    return new Tensor(backend, backend.upload(data, dtype), [...shape], dtype);
  }

  get size(): number { return numel(this.shape); }
  get rank(): number { return this.shape.length; }
  get disposed(): boolean { return this.ref === null; }

  /** "tensor 'w' (#12, f32 [2, 3])", for error messages. */
  describe(): string {
    return `tensor ${this.name ? `'${this.name}' ` : ''}(#${this.id}, ${this.dtype} ${fmt(this.shape)})`;
  }

  get storage(): Storage {
    if (!this.ref) throw new TensorError(`${this.describe()} was used after dispose()`);
    return this.ref.storage;
  }

  /** Throws a TensorError naming this tensor and `what` if it can no longer be used. */
  assertUsable(what: string): void {
    if (!this.ref) throw new TensorError(`${what}: ${this.describe()} was used after dispose()`);
  }

  /** A tensor of another shape over the same storage (no copy). */
  view(shape: Shape): Tensor {
    if (!this.ref) this.assertUsable('view');
    return new Tensor(this.backend, this.ref!, [...shape], this.dtype);
  }

  /** Same storage, no graph, no gradient. */
  detach(): Tensor {
    return this.view(this.shape);
  }

  named(name: string): this {
    this.name = name;
    return this;
  }

  /** Copies the elements to the host (Float32Array for f32 on the GPU; Float64Array on the f64 reference). */
  async read(): Promise<Data> {
    this.assertUsable('read');
    return this.backend.read(this.storage);
  }

  async toArray(): Promise<number[]> {
    return Array.from(await this.read());
  }

  async item(): Promise<number> {
    if (this.size !== 1) throw new TensorError(`item(): ${this.describe()} has ${this.size} elements, expected 1`);
    return (await this.read())[0]!;
  }

  dispose(): void {
    if (!this.ref) return;
    this.ref.drop();
    this.ref = null;
    live.delete(this);
    for (const s of scopes) s.delete(this);
    this.zeroGrad();
    this.inputs = [];
    this.saved = [];
  }

  /** Set on a gradient tensor owned by a leaf: disposed with it, never shared with another leaf. */
  isLeafGradOf: Tensor | null = null;
  /** When set on a leaf, row-sparse gradients (embedding tables) accumulate in rowGrads instead of grad. */
  sparseGrad = false;
  /** Row-sparse gradient parts, one per backward that reached this leaf sparsely; owned by this tensor. */
  rowGrads: RowSparse[] = [];

  /** Makes g this leaf's gradient: the previous one is freed; g is kept (survives scopes) and owned by this tensor. */
  setGrad(g: Tensor): void {
    if (this.grad && this.grad !== g && this.grad.isLeafGradOf === this) this.grad.dispose();
    g.isLeafGradOf = this;
    this.grad = keep(g);
  }

  zeroGrad(): void {
    if (this.grad?.isLeafGradOf === this) this.grad.dispose();
    this.grad = null;
    for (const g of this.rowGrads) g.dispose();
    this.rowGrads = [];
  }

  /**
   * Reverse-mode autodiff from this tensor. Leaf tensors (requiresGrad, no op) accumulate into .grad,
   * like PyTorch; intermediate gradients are freed when backward returns. A non-scalar root needs `grad`.
   */
  backward(grad?: Tensor): void {
    this.assertUsable('backward');
    if (!this.requiresGrad) throw new TensorError(`backward(): ${this.describe()} does not require grad (no input had requiresGrad)`);
    if (grad && grad.shape.join() !== this.shape.join()) {
      throw new TensorError(`backward(): gradient ${grad.describe()} does not match ${this.describe()}`);
    }
    if (!grad && this.size !== 1) {
      throw new TensorError(`backward(): ${this.describe()} is not a scalar; pass a gradient of shape ${fmt(this.shape)}`);
    }
    const { backwardRule, onesLike, add, densifyRows } = rules();
    const order = topologicalOrder(this);
    const created = new Set<Tensor>();
    scopes.push(created);
    try {
      withPhase('backward', () => noGrad(() => {
        const grads = new Map<Tensor, Tensor>([[this, grad ?? onesLike(this)]]);
        for (const t of order) {
          const g = grads.get(t);
          if (!g) continue;
          if (!t.op) {
            accumulateLeaf(t, g, created);
            continue;
          }
          t.inputs.forEach((x) => x.assertUsable(`backward of ${t.op}`));
          t.saved.forEach((x) => x.assertUsable(`backward of ${t.op} (saved for backward)`));
          const rule = backwardRule(t.op);
          if (!rule) continue;
          const inGrads = withOp(`${t.op} backward`, t.inputs, () => rule(g, t.inputs, t.saved, t.attrs as never));
          t.inputs.forEach((x, i) => {
            let gi = inGrads[i];
            if (!gi || !x.requiresGrad) return;
            if (gi instanceof RowSparse) {
              if (!x.op && x.sparseGrad) {
                for (const part of [gi.rows, gi.values]) { created.delete(part); keep(part); }
                x.rowGrads.push(gi);
                return;
              }
              gi = densifyRows(gi);
            }
            const prev = grads.get(x);
            grads.set(x, prev ? add(prev, gi) : gi);
          });
        }
      }));
    } finally {
      scopes.pop();
      for (const t of created) t.dispose();
    }
  }
}

function accumulateLeaf(leaf: Tensor, g: Tensor, created: Set<Tensor>): void {
  // A gradient that came from outside this backward, or that is already another leaf's, is copied.
  // Tensors made here that no leaf claims are freed with the rest of `created` when backward returns
  // (never earlier: add's backward hands one tensor to both of its inputs).
  const { add, copyOf } = rules();
  const own = created.has(g) && !g.isLeafGradOf ? g : copyOf(g);
  leaf.setGrad(leaf.grad ? add(leaf.grad, own) : own);
}

/** Nodes that lead to `root` through ops, root first; iterative so deep graphs do not overflow the stack. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, done] = stack.pop()!;
    if (done) { order.push(t); continue; }
    if (seen.has(t) || !t.requiresGrad) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const x of t.inputs) if (!seen.has(x)) stack.push([x, false]);
  }
  return order.reverse();
}

/** Runs a kernel of the table on the tensors' storages (on the outputs' backend). */
export function runKernel<K extends KernelName>(kernel: K, ins: readonly Tensor[], outs: readonly Tensor[], args: ArgsOf<K>): void {
  outs[0]!.backend.run(kernel, ins.map((t) => t.storage), outs.map((t) => t.storage), args as KernelArgs<K>);
}

/**
 * Throws a BackendError naming the shape and the adapter's limit when one tensor of `shape` would not fit
 * in one storage binding (maxStorageBufferBindingSize on WebGPU), before anything is allocated.
 */
export function assertFits(backend: Backend, shape: Shape, dtype: DType = 'f32', what = `${dtype} ${fmt(shape)}`): void {
  const bytes = numel(shape) * 4;
  if (bytes > backend.maxStorageBytes) {
    throw new BackendError(`${what} needs ${bytes} bytes, more than one storage binding holds on ${backend.description} (${backend.limitName} ` +
      `${backend.maxStorageBytes} bytes)`);
  }
}

/**
 * Runs fn; if it throws, disposes every tensor it created before rethrowing (ops that allocate several
 * outputs or temporaries leak nothing when a later allocation is refused). On success the tensors it
 * created belong to the enclosing scope as if fn had run there.
 */
export function disposeOnThrow<T>(fn: () => T): T {
  const created = new Set<Tensor>();
  scopes.push(created);
  try {
    const result = fn();
    scopes.pop();
    const parent = scopes[scopes.length - 1];
    if (parent) for (const t of created) if (!t.disposed && !t.kept) parent.add(t);
    return result;
  } catch (e) {
    scopes.pop();
    for (const t of created) if (!t.kept) t.dispose();
    throw e;
  }
}

/** Marks tensors to survive every enclosing scope (parameters, state). */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  for (const s of scopes) s.delete(t);
  return t;
}

function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (value instanceof Tensor) into.add(value);
  else if (depth < 4 && Array.isArray(value)) value.forEach((v) => collectTensors(v, into, depth + 1));
  else if (depth < 4 && value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into, depth + 1);
  }
}

/**
 * Runs fn and disposes every tensor it created, except the tensors in its return value (a tensor, or
 * arrays / plain objects of them) and kept tensors. Synchronous only: an async fn would interleave scopes.
 */
export function scope<T>(fn: () => T): T {
  const created = new Set<Tensor>();
  scopes.push(created);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of created) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of created) t.dispose();
    throw new TensorError('scope(fn): fn returned a Promise; scopes are synchronous (await outside, or dispose() by hand)');
  }
  const returned = new Set<Tensor>();
  collectTensors(result, returned);
  const parent = scopes[scopes.length - 1];
  for (const t of created) {
    if (returned.has(t)) parent?.add(t);
    else if (!t.kept) t.dispose();
  }
  return result;
}
