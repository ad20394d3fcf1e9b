/**
 * Argument checks shared by the op functions, tensor creation and the layers: each throws a typed error
 * naming the op, the argument, what was expected and what it got, before anything is allocated.
 */
import type { Backend, DType } from './backend/index.js';
import { ShapeError } from './shape.js';
import { Tensor, TensorError } from './tensor.js';

export function check(op: string, xs: Tensor[], names: readonly string[], dtype: DType | null = 'f32'): Backend {
  xs.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw new TensorError(`${op}: ${names[i] ?? `input ${i}`} must be a Tensor, got ${typeof x}`);
    x.assertUsable(`${op}: ${names[i] ?? `input ${i}`}`);
    if (dtype && x.dtype !== dtype) {
      throw new TensorError(`${op}: ${names[i] ?? `input ${i}`} must be ${dtype}, got ${x.describe()}`);
    }
    if (x.backend !== xs[0]!.backend) {
      throw new TensorError(`${op}: ${x.describe()} is on ${x.backend.description}, but ${xs[0]!.describe()} is on ${xs[0]!.backend.description}`);
    }
  });
  return xs[0]!.backend;
}

export function checkNumber(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TensorError(`${op}: ${name} must be a finite number, got ${show(v)}`);
  return v;
}

/** A short rendering of any user value for error messages (never throws). */
export function show(v: unknown): string {
  if (v instanceof Tensor) return v.describe();
  if (typeof v === 'string') return `'${v.slice(0, 40)}'`;
  if (typeof v === 'symbol' || typeof v === 'function') return typeof v;
  if (Array.isArray(v)) return v.length > 8 ? `an array of ${v.length}` : `[${v.map(show).join(', ')}]`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`;
  if (v && typeof v === 'object') return `an object (${Object.keys(v).slice(0, 4).join(', ') || 'no keys'})`;
  return String(v);
}

/** An array of numbers (shape, begin, size, perm); other values are a ShapeError naming the argument. */
export function checkList(op: string, name: string, v: unknown): readonly number[] {
  if (!Array.isArray(v) || v.some((d) => typeof d !== 'number')) throw new ShapeError(`${op}: ${name} must be an array of integers, got ${show(v)}`);
  return v as readonly number[];
}

/** Host ids / offsets: an array or typed array of numbers. */
export function checkIds(op: string, name: string, v: unknown): ArrayLike<number> {
  const typed = ArrayBuffer.isView(v) && !(v instanceof DataView);
  if (!typed && !(Array.isArray(v) && v.every((x) => typeof x === 'number'))) {
    throw new TensorError(`${op}: ${name} must be an array or typed array of integers, got ${show(v)}`);
  }
  return v as ArrayLike<number>;
}

const DTYPES: readonly DType[] = ['f32', 'i32', 'u32'];
export function checkDType(op: string, v: unknown): DType {
  if (!DTYPES.includes(v as DType)) throw new TensorError(`${op}: dtype must be one of ${DTYPES.join(', ')}, got ${show(v)}`);
  return v as DType;
}

/** An options bag: undefined or a plain object. */
export function checkOptions<T extends object>(op: string, v: unknown): Partial<T> {
  if (v === undefined) return {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new TensorError(`${op}: options must be an object, got ${show(v)}`);
  return v as Partial<T>;
}
