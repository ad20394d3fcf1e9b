/**
 * Pure shape helpers: element counts, row-major strides, broadcasting, axis normalization.
 * Nothing here touches a backend; every function is total or throws a ShapeError that names its inputs.
 */
export type Shape = readonly number[];

/** The largest rank the strided kernels (copy, binary, where) accept; shapes travel as uniform words. */
export const MAX_RANK = 8;

export class ShapeError extends Error {
  override name = 'ShapeError';
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function strides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function fmt(shape: Shape): string {
  return Array.isArray(shape) ? `[${shape.map(String).join(', ')}]` : String(shape);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function assertValidShape(shape: Shape, what: string): void {
  if (!Array.isArray(shape)) throw new ShapeError(`${what}: shape must be an array of integers, got ${String(shape)}`);
  if (shape.length > MAX_RANK) throw new ShapeError(`${what}: rank ${shape.length} exceeds the maximum rank ${MAX_RANK}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${what}: shape ${fmt(shape)} must hold non-negative integers`);
  }
}

/** NumPy broadcasting: align from the right; a dimension of 1 stretches. */
export function broadcastShapes(shapes: readonly Shape[], names: readonly string[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (let i = 0; i < rank; i++) {
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      const o = out[i]!;
      if (d === o || d === 1) continue;
      if (o === 1) out[i] = d;
      else {
        const listed = shapes.map((sh, k) => `${names[k] ?? `input ${k}`} ${fmt(sh)}`).join(', ');
        throw new ShapeError(`shapes do not broadcast: ${listed} (dimension ${i - rank} is ${o} vs ${d})`);
      }
    }
  }
  return out;
}

/** Strides for reading `shape` as if it had shape `out` (broadcast dims get stride 0). */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const s = strides(shape);
  const off = out.length - shape.length;
  return out.map((_, i) => (i < off || shape[i - off] === 1 ? 0 : s[i - off]!));
}

/** Normalizes possibly-negative axes, rejects duplicates and out-of-range values; sorted ascending. */
export function normalizeAxes(axes: number | readonly number[] | undefined, rank: number, what: string): number[] {
  if (axes !== undefined && typeof axes !== 'number' && !Array.isArray(axes)) throw new ShapeError(`${what}: axes must be an integer or an array of ` +
    `integers, got ${axes === null ? 'null' : typeof axes}`);
  const list = axes === undefined ? [...Array(rank).keys()] : typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= Math.max(rank, 1) || (rank === 0 && a !== 0 && a !== -1)) {
      throw new ShapeError(`${what}: axis ${a} is out of range for rank ${rank}`);
    }
    return a < 0 ? a + rank : a;
  });
  if (new Set(out).size !== out.length) throw new ShapeError(`${what}: repeated axis in ${JSON.stringify(list)}`);
  return out.filter((a) => a < rank).sort((x, y) => x - y);
}

/** The axes (of a tensor broadcast to `out`) along which `shape` was stretched, for summing gradients back. */
export function broadcastedAxes(shape: Shape, out: Shape): number[] {
  const off = out.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < out.length; i++) {
    if (i < off || (shape[i - off] === 1 && out[i] !== 1)) axes.push(i);
  }
  return axes;
}

/**
 * The same strided walk over fewer dimensions: drops size-1 dimensions and merges neighbours that every
 * stride list walks contiguously (s[i] = s[i+1]·shape[i+1]). Element order is unchanged, so kernels
 * that decompose a flat index per element do less integer division (a same-shape add becomes rank 1).
 */
export function collapseDims(shape: Shape, strideLists: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const dims: number[] = [], out: number[][] = strideLists.map(() => []);
  shape.forEach((d, i) => {
    if (d === 1) return;
    const last = dims.length - 1;
    if (last >= 0 && strideLists.every((s, k) => out[k]![last] === s[i]! * d)) {
      dims[last] = dims[last]! * d;
      strideLists.forEach((s, k) => { out[k]![last] = s[i]!; });
      return;
    }
    dims.push(d);
    strideLists.forEach((s, k) => out[k]!.push(s[i]!));
  });
  return { shape: dims, strides: out };
}
