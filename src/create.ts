/**
 * Tensor creation: tensor() from numbers (nested arrays, or a flat array with a shape), full / zeros /
 * ones / onesLike. Options and values are checked before anything is allocated.
 */
import type { Backend, DType } from './backend/index.js';
import type { Data } from './reference.js';
import { assertValidShape, fmt, numel, ShapeError } from './shape.js';
import { assertFits, getBackend, runKernel, Tensor, TensorError } from './tensor.js';
import { check, checkDType, checkList, checkOptions, show } from './validate.js';

export interface CreateOptions { dtype?: DType; requiresGrad?: boolean; name?: string; backend?: Backend }

type Nested = number | readonly Nested[];

function inferShape(values: Nested): number[] {
  const shape: number[] = [];
  let v: Nested = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = (v as readonly Nested[])[0] ?? 0;
  }
  return shape;
}

/** Checks creation options before anything is allocated; returns the backend and dtype. */
function createOptions(what: string, opts: unknown): { backend: Backend; dtype: DType; o: CreateOptions } {
  const o = checkOptions<CreateOptions>(what, opts) as CreateOptions;
  const dtype = o.dtype === undefined ? 'f32' : checkDType(what, o.dtype);
  if (o.requiresGrad && dtype !== 'f32') throw new TensorError(`${what}: only f32 tensors can require grad, got dtype ${dtype}`);
  if (o.name !== undefined && typeof o.name !== 'string') throw new TensorError(`${what}: name must be a string, got ${show(o.name)}`);
  return { backend: o.backend ?? getBackend(), dtype, o };
}

function finish(t: Tensor, opts: CreateOptions): Tensor {
  if (opts.name) t.name = opts.name;
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** A tensor from numbers: nested arrays, or a flat array / typed array with an explicit shape. */
export function tensor(values: Nested | Data, shape?: readonly number[], opts: CreateOptions = {}): Tensor {
  const what = `tensor${typeof opts?.name === 'string' ? ` '${opts.name}'` : ''}`;
  const { backend, dtype } = createOptions(what, opts);
  const isTyped = ArrayBuffer.isView(values) && !(values instanceof DataView);
  if (!isTyped && typeof values !== 'number' && !Array.isArray(values)) throw new TensorError(`${what}: values must be a number, a (nested) array or a ` +
    `typed array, got ${show(values)}`);
  if (shape !== undefined) checkList(what, 'shape', shape);
  const flat: ArrayLike<number> = isTyped ? (values as Data)
    : typeof values === 'number' ? [values] : (values as readonly Nested[]).flat(Infinity as 1) as number[];
  const s = shape ? [...shape] : isTyped ? [flat.length] : inferShape(values as Nested);
  assertValidShape(s, what);
  if (flat.length !== numel(s)) throw new ShapeError(`${what}: ${flat.length} values do not fill shape ${fmt(s)} (${numel(s)} elements)`);
  if (!isTyped) for (let i = 0; i < flat.length; i++) if (typeof flat[i] !== 'number') throw new TensorError(`${what}: element ${i} is ` +
    `${show(flat[i])}, not a number`);
  assertFits(backend, s, dtype, what);
  const data = dtype === 'f32' ? (backend.name === 'cpu' ? Float64Array.from(flat) : Float32Array.from(flat))
    : dtype === 'i32' ? new Int32Array(flat.length) : new Uint32Array(flat.length);
  if (dtype !== 'f32') {
    const [lo, hi] = dtype === 'i32' ? [-(2 ** 31), 2 ** 31 - 1] : [0, 2 ** 32 - 1];
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i]!;
      if (!Number.isInteger(v) || v < lo || v > hi) throw new TensorError(`${what}: element ${i} is ${v}, not a ${dtype} value`);
      data[i] = v;
    }
  }
  return finish(Tensor.fromData(backend, data, s, dtype), opts);
}

export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  const { backend, dtype } = createOptions('full', opts);
  assertValidShape(shape, 'full');
  if (typeof value !== 'number') throw new TensorError(`full: value must be a number, got ${show(value)}`);
  if (dtype !== 'f32') {
    const [lo, hi] = dtype === 'i32' ? [-(2 ** 31), 2 ** 31 - 1] : [0, 2 ** 32 - 1];
    if (!Number.isInteger(value) || value < lo || value > hi) throw new TensorError(`full: value ${value} is not a ${dtype} value`);
  }
  const t = Tensor.empty(backend, shape, dtype);
  runKernel('fill', [], [t], { n: t.size, value, dtype });
  return finish(t, opts);
}

export const zeros = (shape: readonly number[], opts: CreateOptions = {}): Tensor => full(shape, 0, opts);
export const ones = (shape: readonly number[], opts: CreateOptions = {}): Tensor => full(shape, 1, opts);
export function onesLike(x: Tensor): Tensor {
  check('onesLike', [x], ['x'], null);
  return full(x.shape, 1, { backend: x.backend, dtype: x.dtype });
}
