/**
 * The op vocabulary: one table entry per differentiable op, forward (runs kernels) beside backward
 * (written with other ops, so gradients run on the same kernels and checks). The table's type makes a
 * missing op a compile error. Exported functions validate their inputs before anything is dispatched.
 */
import { withOp } from './backend/profile-tags.js';
import type { DType } from './backend/index.js';
import { REDUCE_COLS_CHUNK, type MatmulArgs } from './kernels.js';
import {
  binaryVec4Layout, embeddingBagKernel, fmBackwardFusedApplies, fmBackwardSamplesPerWorkgroup, fmFusedApplies, fmSamplesPerWorkgroup, fmVec4Applies,
  fmVec4SamplesPerWorkgroup, layerNormKernel, matmulKernelFor, matmulSgPreferred, matmulSplitChunk, matmulSplitK,
} from './kernel-plan.js';
import { ShapeError, assertValidShape, broadcastShapes, broadcastStrides, broadcastedAxes, collapseDims, fmt, normalizeAxes, numel, sameShape, strides,
  type Shape } from './shape.js';
import { RowSparse, Tensor, TensorError, assertFits, disposeOnThrow, installAutograd, isGradEnabled, runKernel } from './tensor.js';
import { check, checkIds, checkList, checkNumber, checkDType, checkOptions, show } from './validate.js';
import { full, onesLike, tensor } from './create.js';
import { BackendError } from './backend/index.js';
import { bagPlan, lookupPlan, sortedPlan, type BagPlan, type EmbeddingField } from './embedding-plan.js';
import { LookupFeed } from './embedding-feed.js';
import type { BinaryKernel, UnaryKernel } from './reference.js';

export type UnaryOpName = 'neg' | 'abs' | 'exp' | 'log' | 'log1p' | 'sqrt' | 'sigmoid' | 'tanh' | 'relu' | 'gelu' | 'silu';
export type BinaryOpName = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum';
export type OpName = UnaryOpName | BinaryOpName | 'powScalar' | 'mulScalar' | 'addScalar' | 'equal' | 'greater' | 'cast'
  | 'sum' | 'mean' | 'max' | 'reshape' | 'permute' | 'slice' | 'concat' | 'expand' | 'where' | 'matmul'
  | 'bceWithLogits' | 'layerNorm' | 'fmInteraction' | 'embeddingBag' | 'histogram' | 'divergences' | 'linear';

type Grads = (Tensor | RowSparse | null)[];
export interface OpDef<A> {
  /** Runs kernels; returns the output and whatever backward needs. */
  forward(xs: Tensor[], attrs: A): { out: Tensor; saved?: Tensor[] };
  /** One gradient per input (null: none), written with ops. null for ops that are not differentiable. */
  backward: ((d: Tensor, xs: Tensor[], saved: Tensor[], attrs: A) => Grads) | null;
}


// ---------- kernel plumbing ----------


function unaryKernel(kernel: UnaryKernel, x: Tensor, alpha = 0): Tensor {
  const out = Tensor.empty(x.backend, x.shape);
  if (x.backend.plan.elementwiseVec4 && x.size % 4 === 0 && x.size > 0) runKernel(`${kernel}_vec4`, [x], [out], { n4: x.size / 4, alpha });
  else runKernel(kernel, [x], [out], { n: x.size, alpha });
  return out;
}

function binaryKernel(kernel: BinaryKernel, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes([a.shape, b.shape], [`${kernel} input a`, `${kernel} input b`]);
  const out = Tensor.empty(a.backend, shape);
  const vec4 = a.backend.plan.elementwiseVec4 ? binaryVec4Layout(shape, a.shape, b.shape) : null;
  if (vec4) {
    runKernel(`${kernel}_vec4`, [a, b], [out], vec4);
    return out;
  }
  const walk = collapseDims(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)]);
  runKernel(kernel, [a, b], [out], { n: out.size, shape: walk.shape, strides: walk.strides });
  return out;
}

/** Contiguous copy of `shape` elements read through `sa` from offset aOff (permute, slice, expand). */
function gather(x: Tensor, shape: Shape, sa: readonly number[], aOff = 0): Tensor {
  const out = Tensor.empty(x.backend, shape, x.dtype);
  const walk = collapseDims(shape, [sa, strides(shape)]);
  // A 2-D transpose of whole 4 × 4 blocks (a linear layer's Xᵀ and Wᵀ): transpose_vec4, the same words.
  const [cols, rows] = walk.shape as [number, number], [unit, lda] = walk.strides[0]! as [number, number];
  if (out.size > 0 && walk.shape.length === 2 && unit === 1 && rows % 4 === 0 && cols % 4 === 0 && lda % 4 === 0 && aOff % 4 === 0) {
    runKernel('transpose_vec4', [x], [out], { rows, cols, lda, aOff });
    return out;
  }
  runKernel('copy', [x], [out], { n: out.size, shape: walk.shape, strides: walk.strides, aOff, oOff: 0 });
  return out;
}

/** Writes all of `src` into `dst` (contiguous) at element offset oOff with dst's strides (concat, slice backward). */
function scatterInto(dst: Tensor, src: Tensor, oOff: number): void {
  const walk = collapseDims(src.shape, [strides(src.shape), strides(dst.shape)]);
  runKernel('copy', [src], [dst], { n: src.size, shape: walk.shape, strides: walk.strides, aOff: 0, oOff });
}

export function copyOf(x: Tensor): Tensor {
  return gather(x, x.shape, strides(x.shape));
}

/** Ops registered at run time (registerOp), by name. */
export const userOps = new Map<string, OpDef<unknown>>();

/** The definition of a built-in or registered op. */
export function opDef(name: string): OpDef<unknown> {
  const def = (ops as Record<string, OpDef<unknown>>)[name] ?? userOps.get(name);
  if (!def) throw new TensorError(`unknown op '${name}'`);
  return def;
}

/** Records the graph when grad mode is on and an input requires grad; otherwise frees what backward would have needed. */
export function apply<A>(name: OpName | (string & {}), xs: Tensor[], attrs: A): Tensor {
  const def = opDef(name) as OpDef<A>;
  // A forward that throws part-way (an output over the adapter's limits) frees what it had allocated.
  const { out, saved = [] } = withOp(name, xs, () => disposeOnThrow(() => {
    try {
      return def.forward(xs, attrs);
    } catch (e) {
      if (e instanceof BackendError && !e.message.startsWith(`${name}: `)) e.message = `${name}: ${e.message}`;
      throw e;
    }
  }));
  if (def.backward && isGradEnabled() && xs.some((x) => x.requiresGrad)) {
    out.requiresGrad = true;
    out.op = name;
    out.inputs = xs;
    out.saved = saved;
    out.attrs = attrs;
  } else {
    for (const s of saved) if (s !== out && !xs.includes(s)) s.dispose();
  }
  return out;
}

// ---------- helpers used by backward rules ----------

/** Sums a broadcast gradient back to `shape`. */
export function sumTo(d: Tensor, shape: Shape): Tensor {
  if (sameShape(d.shape, shape)) return d;
  const axes = broadcastedAxes(shape, d.shape);
  const s = axes.length ? sum(d, axes, true) : d;
  return sameShape(s.shape, shape) ? s : reshape(s, shape);
}

const keepDimsShape = (shape: Shape, axes: readonly number[]): number[] => shape.map((d, i) => (axes.includes(i) ? 1 : d));

interface ReduceAttrs { axes: number[]; keepDims: boolean }

function reduceForward(x: Tensor, { axes, keepDims }: ReduceAttrs, kind: 'sum' | 'max'): Tensor {
  const rest = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outShape = keepDims ? keepDimsShape(x.shape, axes) : rest.map((i) => x.shape[i]!);
  const reduced = numel(axes.map((i) => x.shape[i]!));
  // Leading axes (a bias gradient, LayerNorm's dgamma): column partials in place of a permute copy. An empty
  // reduction takes the row path, which writes the identity (0 or -inf); column partials would have no rows.
  if (rest.length && axes.length && reduced > 0 && axes.every((a, i) => a === i)) {
    return reduceColumns(x, reduced, numel(rest.map((i) => x.shape[i]!)), outShape, kind);
  }
  const perm = [...rest, ...axes];
  const src = perm.every((p, i) => p === i) ? x : permuteForward(x, perm);
  const rows = numel(rest.map((i) => x.shape[i]!));
  const out = Tensor.empty(x.backend, outShape);
  runKernel(kind === 'sum' ? 'reduce_sum' : 'reduce_max', [src], [out], { rows, len: reduced });
  if (src !== x) src.dispose();
  return out;
}

/** Reduces the leading `rows` of x viewed as [rows, cols]: chunked column partials, repeated until one row is left. */
function reduceColumns(x: Tensor, rows: number, cols: number, outShape: Shape, kind: 'sum' | 'max'): Tensor {
  if (!(rows > 0)) throw new BackendError(`reduceColumns needs at least one row, got ${rows}`); // else it would never reach one partial
  if (rows <= REDUCE_COLS_CHUNK * REDUCE_COLS_CHUNK) {
    // Both levels in one dispatch (bit-identical to the loop below): a bias gradient over a batch costs one kernel, not two.
    const out = Tensor.empty(x.backend, outShape);
    try {
      runKernel(kind === 'sum' ? 'reduce_cols_sum_once' : 'reduce_cols_max_once', [x], [out], { rows, cols });
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  }
  let src = x, left = rows;
  for (;;) {
    const parts = Math.ceil(left / REDUCE_COLS_CHUNK);
    const out = Tensor.empty(x.backend, parts === 1 ? outShape : [parts, cols]);
    try {
      runKernel(kind === 'sum' ? 'reduce_cols_sum' : 'reduce_cols_max', [src], [out], { rows: left, cols });
    } catch (e) {
      out.dispose();
      throw e;
    } finally {
      if (src !== x) src.dispose();
    }
    if (parts === 1) return out;
    src = out;
    left = parts;
  }
}

function permuteForward(x: Tensor, perm: readonly number[]): Tensor {
  const st = strides(x.shape);
  return gather(x, perm.map((p) => x.shape[p]!), perm.map((p) => st[p]!));
}

function unary(kernel: UnaryKernel, grad: ((d: Tensor, x: Tensor, y: Tensor) => Tensor) | null, savesOut = false): OpDef<Record<string, never>> {
  return {
    forward: ([x]) => {
      const out = unaryKernel(kernel, x!);
      return { out, saved: savesOut ? [out] : [] };
    },
    backward: grad && ((d, [x], saved) => [grad(d, x!, saved[0]!)]),
  };
}

interface MatmulAttrs { transA: boolean; transB: boolean }
export type LinearActivation = 'none' | 'relu';
interface LinearAttrs { activation: LinearActivation }
interface SliceAttrs { begin: number[]; size: number[] }

// ---------- the table ----------

/** Infers one entry's attrs type (the table's `satisfies` alone would erase it). */
const def = <A>(d: OpDef<A>): OpDef<A> => d;

export const ops = {
  neg: unary('neg', (d) => neg(d)),
  abs: unary('abs', (d, x) => mul(d, unaryKernel('sign', x))),
  exp: unary('exp', (d, _x, y) => mul(d, y), true),
  log: unary('log', (d, x) => div(d, x)),
  log1p: unary('log1p', (d, x) => div(d, addScalar(x, 1))),
  sqrt: unary('sqrt', (d, _x, y) => div(mulScalar(d, 0.5), y), true),
  sigmoid: unary('sigmoid', (d, _x, y) => mul(d, mul(y, addScalar(neg(y), 1))), true),
  tanh: unary('tanh', (d, _x, y) => mul(d, addScalar(neg(mul(y, y)), 1)), true),
  relu: unary('relu', (d, x) => binaryKernel('relu_grad', d, x)), // = d · step(x), one dispatch instead of two
  gelu: unary('gelu', (d, x) => mul(d, unaryKernel('gelu_deriv', x))),
  silu: unary('silu', (d, x) => mul(d, unaryKernel('silu_deriv', x))),
  powScalar: def({
    forward: ([x], { exponent }: { exponent: number }) => ({ out: unaryKernel('pow_scalar', x!, exponent) }),
    backward: (d, [x], _s, { exponent }) => [mul(d, mulScalar(powScalar(x!, exponent - 1), exponent))],
  }),
  mulScalar: def({
    forward: ([x], { scalar }: { scalar: number }) => ({ out: unaryKernel('mul_scalar', x!, scalar) }),
    backward: (d, _x, _s, { scalar }) => [mulScalar(d, scalar)],
  }),
  addScalar: def({
    forward: ([x], { scalar }: { scalar: number }) => ({ out: unaryKernel('add_scalar', x!, scalar) }),
    backward: (d) => [d],
  }),
  add: {
    forward: ([a, b]) => ({ out: binaryKernel('add', a!, b!) }),
    backward: (d, [a, b]) => [sumTo(d, a!.shape), sumTo(d, b!.shape)],
  },
  sub: {
    forward: ([a, b]) => ({ out: binaryKernel('sub', a!, b!) }),
    backward: (d, [a, b]) => [sumTo(d, a!.shape), sumTo(neg(d), b!.shape)],
  },
  mul: {
    forward: ([a, b]) => ({ out: binaryKernel('mul', a!, b!) }),
    backward: (d, [a, b]) => [a!.requiresGrad ? sumTo(mul(d, b!), a!.shape) : null, b!.requiresGrad ? sumTo(mul(d, a!), b!.shape) : null],
  },
  div: {
    forward: ([a, b]) => {
      const out = binaryKernel('div', a!, b!);
      return { out, saved: [out] };
    },
    // d(a/b)/db = -(a/b)/b: reuse the output instead of squaring b.
    backward: (d, [a, b], [y]) => [sumTo(div(d, b!), a!.shape), b!.requiresGrad ? sumTo(neg(div(mul(d, y!), b!)), b!.shape) : null],
  },
  maximum: {
    forward: ([a, b]) => ({ out: binaryKernel('maximum', a!, b!) }),
    backward: (d, [a, b]) => [
      sumTo(mul(d, binaryKernel('max_grad_mask', a!, b!)), a!.shape),
      sumTo(mul(d, binaryKernel('max_grad_mask', b!, a!)), b!.shape),
    ],
  },
  minimum: {
    forward: ([a, b]) => ({ out: binaryKernel('minimum', a!, b!) }),
    backward: (d, [a, b]) => [
      sumTo(mul(d, binaryKernel('max_grad_mask', b!, a!)), a!.shape),
      sumTo(mul(d, binaryKernel('max_grad_mask', a!, b!)), b!.shape),
    ],
  },
  equal: { forward: ([a, b]) => ({ out: binaryKernel('equal', a!, b!) }), backward: null },
  greater: { forward: ([a, b]) => ({ out: binaryKernel('greater', a!, b!) }), backward: null },
  cast: def({
    forward: ([x], { dtype }: { dtype: DType }) => {
      const k = `cast_${x!.dtype}_${dtype}` as const;
      if (x!.dtype === dtype) return { out: copyOf(x!) };
      if (k !== 'cast_i32_f32' && k !== 'cast_u32_f32' && k !== 'cast_f32_i32' && k !== 'cast_f32_u32') {
        throw new TensorError(`cast: ${x!.dtype} -> ${dtype} is not supported (go through f32)`);
      }
      const out = Tensor.empty(x!.backend, x!.shape, dtype);
      runKernel(k, [x!], [out], { n: x!.size });
      return { out };
    },
    backward: null,
  }),
  sum: def({
    forward: ([x], a: ReduceAttrs) => ({ out: reduceForward(x!, a, 'sum') }),
    backward: (d, [x], _s, { axes }) => [expand(reshape(d, keepDimsShape(x!.shape, axes)), x!.shape)],
  }),
  mean: def({
    forward: ([x], a: ReduceAttrs) => {
      const s = reduceForward(x!, a, 'sum');
      const out = unaryKernel('mul_scalar', s, 1 / Math.max(1, numel(a.axes.map((i) => x!.shape[i]!))));
      s.dispose();
      return { out };
    },
    backward: (d, [x], _s, { axes }) =>
      [expand(reshape(mulScalar(d, 1 / Math.max(1, numel(axes.map((i) => x!.shape[i]!)))), keepDimsShape(x!.shape, axes)), x!.shape)],
  }),
  max: def({
    forward: ([x], a: ReduceAttrs) => {
      const out = reduceForward(x!, a, 'max');
      return { out, saved: [out] };
    },
    // Ties share the gradient evenly, as in PyTorch's amax.
    backward: (d, [x], [y], { axes }) => {
      const k = keepDimsShape(x!.shape, axes);
      const mask = binaryKernel('equal', x!, reshape(y!, k));
      const count = sum(mask, axes, true);
      return [div(mul(mask, reshape(d, k)), count)];
    },
  }),
  reshape: def({
    forward: ([x], { shape }: { shape: number[] }) => ({ out: x!.view(shape) }),
    backward: (d, [x]) => [reshape(d, x!.shape)],
  }),
  permute: def({
    forward: ([x], { perm }: { perm: number[] }) => ({ out: permuteForward(x!, perm) }),
    backward: (d, _x, _s, { perm }) => {
      const inverse = new Array<number>(perm.length);
      perm.forEach((p, i) => { inverse[p] = i; });
      return [permute(d, inverse)];
    },
  }),
  slice: def({
    forward: ([x], { begin, size }: SliceAttrs) => {
      const st = strides(x!.shape);
      return { out: gather(x!, size, st, begin.reduce((acc, b, i) => acc + b * st[i]!, 0)) };
    },
    backward: (d, [x], _s, { begin }) => {
      const z = full(x!.shape, 0, { backend: x!.backend });
      scatterInto(z, d, begin.reduce((acc, b, i) => acc + b * strides(x!.shape)[i]!, 0));
      return [z];
    },
  }),
  concat: def({
    forward: (xs, { axis }: { axis: number }) => {
      const shape = [...xs[0]!.shape];
      shape[axis] = xs.reduce((acc, x) => acc + x.shape[axis]!, 0);
      const out = Tensor.empty(xs[0]!.backend, shape, xs[0]!.dtype);
      const st = strides(shape);
      let at = 0;
      for (const x of xs) {
        scatterInto(out, x, at * st[axis]!);
        at += x.shape[axis]!;
      }
      return { out };
    },
    backward: (d, xs, _s, { axis }) => {
      let at = 0;
      return xs.map((x) => {
        const begin = x.shape.map((_, i) => (i === axis ? at : 0));
        at += x.shape[axis]!;
        return slice(d, begin, [...x.shape]);
      });
    },
  }),
  expand: def({
    forward: ([x], { shape }: { shape: number[] }) => ({ out: gather(x!, shape, broadcastStrides(x!.shape, shape)) }),
    backward: (d, [x]) => [sumTo(d, x!.shape)],
  }),
  where: {
    forward: ([c, a, b]) => {
      const shape = broadcastShapes([c!.shape, a!.shape, b!.shape], ['where condition', 'where a', 'where b']);
      const out = Tensor.empty(a!.backend, shape);
      const walk = collapseDims(shape, [c!, a!, b!].map((t) => broadcastStrides(t.shape, shape)));
      runKernel('where', [c!, a!, b!], [out], { n: out.size, shape: walk.shape, strides: walk.strides });
      return { out };
    },
    backward: (d, [c, a, b]) => {
      const zero = full([], 0, { backend: d.backend });
      return [null, sumTo(where(c!, d, zero), a!.shape), sumTo(where(c!, zero, d), b!.shape)];
    },
  },
  matmul: def({
    forward: ([a, b], attrs: MatmulAttrs) => ({ out: matmulForward(a!, b!, attrs) }),
    backward: (d, [a, b], _s, { transA, transB }) => {
      const [da, db] = !transA && !transB ? [matmul(d, b!, { transB: true }), matmul(a!, d, { transA: true })]
        : transA && !transB ? [matmul(b!, d, { transB: true }), matmul(a!, d)]
          : !transA && transB ? [matmul(d, b!), matmul(d, a!, { transA: true })]
            : [matmul(b!, d, { transA: true, transB: true }), matmul(d, a!, { transA: true, transB: true })];
      return [sumTo(da, a!.shape), sumTo(db, b!.shape)];
    },
  }),
  // act(x·W + b) in one dispatch where a register-blocked matmul runs it unsplit (else the product, add and
  // relu); the gradients are the ones matmul, add and relu give, from the same kernels: bit-identical.
  linear: def({
    forward: ([x, w, b], { activation }: LinearAttrs) => {
      const out = linearForward(x!, w!, b!, activation);
      return { out, saved: activation === 'relu' ? [out] : [] };
    },
    backward: (d, [x, w, b], saved, { activation }) => {
      // relu's mask from its output: y > 0 exactly where x·W + b > 0.
      const dz = activation === 'relu' ? binaryKernel('relu_grad', d, saved[0]!) : d;
      return [sumTo(matmul(dz, w!, { transB: true }), x!.shape), sumTo(matmul(x!, dz, { transA: true }), w!.shape), sumTo(dz, b!.shape)];
    },
  }),
  bceWithLogits: {
    forward: ([x, y, w]) => {
      const [rows, heads] = x!.shape as [number, number];
      const loss = Tensor.empty(x!.backend, [heads]);
      const dlogits = Tensor.empty(x!.backend, [rows, heads]);
      runKernel('bce_with_logits', [x!, y!, w!], [loss, dlogits], { rows, heads });
      return { out: loss, saved: [dlogits] };
    },
    // dlogits came out of the forward dispatch; labels and weights get no gradient.
    backward: (d, [x], [dlogits]) => [mul(dlogits!, reshape(d, [1, x!.shape[1]!])), null, null],
  },
  layerNorm: def({
    forward: ([x, gamma, beta], { eps }: { eps: number }) => {
      const dim = x!.shape[x!.rank - 1]!;
      const out = Tensor.empty(x!.backend, x!.shape);
      runKernel(layerNormKernel(x!.backend.plan, dim, 'layer_norm'), [x!, gamma!, beta!], [out],
        { rows: dim ? x!.size / dim : 0, dim, eps });
      return { out };
    },
    backward: (d, [x, gamma], _s, { eps }) => {
      const dim = x!.shape[x!.rank - 1]!;
      const dx = Tensor.empty(x!.backend, x!.shape), dyxhat = Tensor.empty(x!.backend, x!.shape);
      runKernel(layerNormKernel(x!.backend.plan, dim, 'layer_norm_backward'), [x!, gamma!, d], [dx, dyxhat],
        { rows: dim ? x!.size / dim : 0, dim, eps });
      const lead = [...Array(x!.rank - 1).keys()];
      return [dx, sum(dyxhat, lead), sum(d, lead)];
    },
  }),
  fmInteraction: def<Record<string, never>>({
    forward: ([x, y]) => ({ out: fmProduct(x!, x!, y!) }),
    // With T = Xᵀ·Y and dT = Xᵀ·dG: dX = dG·Tᵀ + Y·dTᵀ = dG·(Yᵀ·X) + Y·(dGᵀ·X), and dY = X·dT per sample,
    // summed over the batch (leading-axis column partials, fixed order) when Y is shared.
    backward: (d, [x, y]) => {
      const { dx, dyPerSample } = fmBackward(d, x!, y!);
      if (y!.rank === 3) return [dx, dyPerSample];
      const dy = sum(dyPerSample, 0);
      dyPerSample.dispose();
      return [dx, dy];
    },
  }),
  embeddingBag: def({
    forward: ([table, rows, offsets], { plan, shape }: { plan: BagPlan; shape: number[]; feed?: LookupFeed }) => {
      const dim = table!.shape[1]!;
      const out = Tensor.empty(table!.backend, shape);
      runKernel(embeddingBagKernel(dim), [table!, rows!, offsets!], [out], { bags: plan.bags, dim, mean: plan.mean });
      return { out };
    },
    backward: (d, [table, , offsets], _s, { plan, feed }) => {
      const dim = table!.shape[1]!, backend = table!.backend;
      const u32 = (data: Uint32Array): Tensor => Tensor.fromData(backend, data, [data.length], 'u32');
      // A feed's sorted plan is already on the device, padded to one segment per entry (padding segments
      // empty and past the table); a host lookup uploads its own.
      const sorted = feed ? null : sortedPlan(plan);
      const [rows, seg, entryBag] = sorted ? [u32(sorted.uniqueRows), u32(sorted.seg),
        u32(sorted.entryBag)] : [feed!.uniqueRows.detach(), feed!.seg, feed!.entryBag];
      const values = Tensor.empty(backend, [rows.size, dim]);
      runKernel('embedding_bag_backward', [d, seg, entryBag, offsets!], [values], { unique: rows.size, dim, mean: plan.mean });
      return [new RowSparse(rows, values, table!.shape), null, null];
    },
  }),
  histogram: def({
    forward: ([values, cohorts], { numCohorts, bins }: { numCohorts: number; bins: number }) => {
      const counts = full([numCohorts, bins], 0, { backend: values!.backend, dtype: 'u32' });
      runKernel('histogram', [values!, cohorts!], [counts], { n: values!.size, cohorts: numCohorts, bins });
      return { out: counts };
    },
    backward: null,
  }),
  divergences: def({
    forward: ([counts], { eps }: { eps: number }) => {
      const [numCohorts, bins] = counts!.shape.slice(-2) as [number, number];
      const blocks = counts!.rank === 3 ? counts!.shape[0]! : 1;
      const out = Tensor.empty(counts!.backend, [...counts!.shape.slice(0, -2), 4, numCohorts, numCohorts]);
      runKernel('divergences', [counts!], [out], { cohorts: numCohorts, bins, eps, blocks });
      return { out };
    },
    backward: null,
  }),
} satisfies Record<OpName, OpDef<never>>;

/** A dense tensor of g.shape holding g's rows (zeros elsewhere). */
export function densifyRows(g: RowSparse): Tensor {
  const dense = full(g.shape, 0, { backend: g.values.backend });
  const dim = numel(g.shape.slice(1));
  runKernel('scatter_rows', [g.values, g.rows], [dense], { unique: g.rows.size, dim, mean: false });
  return dense;
}

function matmulDims(a: Tensor, b: Tensor, { transA, transB }: MatmulAttrs): { m: number; n: number; k: number; batchShape: number[] } {
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`matmul: both inputs need rank >= 2, got a ${a.describe()} and b ${b.describe()}`);
  }
  const [a0, a1] = a.shape.slice(-2) as [number, number];
  const [b0, b1] = b.shape.slice(-2) as [number, number];
  const [m, ka] = transA ? [a1, a0] : [a0, a1];
  const [kb, n] = transB ? [b1, b0] : [b0, b1];
  if (ka !== kb) {
    throw new ShapeError(`matmul: inner dimensions differ: a ${a.describe()}${transA ? ' (transposed)' : ''} has K=${ka}, ` +
      `b ${b.describe()}${transB ? ' (transposed)' : ''} has K=${kb}`);
  }
  const batchShape = broadcastShapes([a.shape.slice(0, -2), b.shape.slice(0, -2)], ['matmul batch of a', 'matmul batch of b']);
  if (batchShape.length > 4) throw new ShapeError(`matmul: at most 4 batch dimensions, got ${fmt(batchShape)}`);
  return { m, n, k: ka, batchShape };
}

/** Outputs (M·N) from which a transposed A is copied row-major for matmul_sg (measured: docs/kernels.md). */
const TRANSPOSED_A_COPY_MIN_OUTPUTS = 65_536;

/** The kernels' view of op(a)·op(b): sizes, element strides, and each operand's stride per (broadcast) batch dim. */
function matmulLayout(a: Tensor, b: Tensor, attrs: MatmulAttrs, dims = matmulDims(a, b, attrs)): Omit<MatmulArgs, 'sg' | 'tile'> {
  const { m, n, k, batchShape } = dims;
  const [a0, a1] = a.shape.slice(-2) as [number, number];
  const [b0, b1] = b.shape.slice(-2) as [number, number];
  return {
    m, n, k, batch: numel(batchShape), batchShape,
    sam: attrs.transA ? 1 : a1, sak: attrs.transA ? a1 : 1,
    sbk: attrs.transB ? 1 : b1, sbn: attrs.transB ? b1 : 1,
    aBatchStrides: broadcastStrides(a.shape.slice(0, -2), batchShape).map((s) => s * a0 * a1),
    bBatchStrides: broadcastStrides(b.shape.slice(0, -2), batchShape).map((s) => s * b0 * b1),
  };
}

function matmulForward(a: Tensor, b: Tensor, attrs: MatmulAttrs): Tensor {
  const dims = matmulDims(a, b, attrs), { m, n, k, batchShape } = dims;
  // The register-blocked kernels want B row-major; transposing B first costs O(K·N), the product O(M·N·K).
  // (A transposed stays as it is below the size where copying it for matmul_sg pays: further down.)
  if (attrs.transB && n % 4 === 0 && m >= 16) {
    const bt = permuteForward(b, [...b.shape.keys()].map((i) => (i < b.rank - 2 ? i : 2 * b.rank - 3 - i)));
    const out = matmulForward(a, bt, { transA: attrs.transA, transB: false });
    bt.dispose();
    return out;
  }
  // A transposed: matmul_sg_ta (or matmul_vec4 without subgroups) reads it in place, but a large output (a
  // weight gradient Xᵀ·dY over a big batch) runs faster copied row-major into matmul_sg, whose A rows stay in
  // cache: matmul_sg_ta measured 0.88–0.91× of copy + matmul_sg at 416 × 416 outputs, 1.15–1.86× below 16k
  // (docs/kernels.md). Same products in the same order: the copy changes no bit.
  if (attrs.transA && !attrs.transB && a.rank === 2 && m * n >= TRANSPOSED_A_COPY_MIN_OUTPUTS && k % 4 === 0
    && matmulSgPreferred(a.backend.plan, a.backend.subgroupSize) && n % 4 === 0 && b.rank === 2) {
    const at = permuteForward(a, [1, 0]);
    const out = matmulForward(at, b, { transA: false, transB: false });
    at.dispose();
    return out;
  }
  const outShape = [...batchShape, m, n];
  const { kernel, args: full } = matmulKernelFor(matmulLayout(a, b, attrs, dims), a.backend.plan, a.backend.subgroupSize);
  if (kernel === 'matmul_vec4' || kernel === 'matmul_sg' || kernel === 'matmul_sg_ta') {
    const splits = matmulSplitK(full, a.backend.plan.matmul.split);
    if (splits > 1) return matmulSplitKForward(a, b, full, kernel, splits, outShape);
  }
  const out = Tensor.empty(a.backend, outShape);
  runKernel(kernel, [a, b], [out], full);
  return out;
}

/** Split-K: partial products over consecutive k ranges, then their fixed-order sum (deterministic, no atomics). */
function matmulSplitKForward(a: Tensor, b: Tensor, args: MatmulArgs, kernel: 'matmul_sg' | 'matmul_sg_ta' | 'matmul_vec4', splits: number,
  outShape: Shape): Tensor {
  const chunk = matmulSplitChunk(args, splits);
  const partials = Tensor.empty(a.backend, [splits, ...outShape]);
  try {
    runKernel(kernel, [a, b], [partials], {
      ...args, k: chunk, kTotal: args.k, batch: splits * args.batch, batchShape: [splits, ...args.batchShape],
      aBatchStrides: [chunk * args.sak, ...args.aBatchStrides], bBatchStrides: [chunk * args.sbk, ...args.bBatchStrides],
    });
    return reduceColumns(partials, splits, numel(outShape), outShape, 'sum');
  } finally {
    partials.dispose();
  }
}

/** act(x·W + b): the fused linear / linear_sg kernel where matmul() would run matmul_sg or matmul_vec4 unsplit, else three kernels. */
function linearForward(x: Tensor, w: Tensor, b: Tensor, activation: LinearActivation): Tensor {
  const plain = { transA: false, transB: false };
  const { kernel, args: full } = matmulKernelFor(matmulLayout(x, w, plain), x.backend.plan, x.backend.subgroupSize);
  if ((kernel === 'matmul_sg' || kernel === 'matmul_vec4') && matmulSplitK(full, x.backend.plan.matmul.split) === 1) {
    const out = Tensor.empty(x.backend, x.shape.slice(0, -1).concat(full.n));
    runKernel(`${kernel === 'matmul_sg' ? 'linear_sg' : 'linear'}${activation === 'relu' ? '_relu' : ''}`, [x, w, b], [out], full);
    return out;
  }
  const z = matmulForward(x, w, plain);
  const y = binaryKernel('add', z, b);
  z.dispose();
  if (activation === 'none') return y;
  const out = unaryKernel('relu', y);
  y.dispose();
  return out;
}

// ---------- public op functions (validate, then apply) ----------

const unaryFn = (name: UnaryOpName) => (x: Tensor): Tensor => {
  check(name, [x], ['x']);
  return apply(name, [x], {});
};
export const neg = unaryFn('neg');
export const abs = unaryFn('abs');
export const exp = unaryFn('exp');
export const log = unaryFn('log');
export const log1p = unaryFn('log1p');
export const sqrt = unaryFn('sqrt');
export const sigmoid = unaryFn('sigmoid');
export const tanh = unaryFn('tanh');
export const relu = unaryFn('relu');
/** GELU, tanh approximation (PyTorch's approximate='tanh'). */
export const gelu = unaryFn('gelu');
export const silu = unaryFn('silu');

export function powScalar(x: Tensor, exponent: number): Tensor {
  check('powScalar', [x], ['x']);
  return apply('powScalar', [x], { exponent: checkNumber('powScalar', 'exponent', exponent) });
}
export function mulScalar(x: Tensor, scalar: number): Tensor {
  check('mulScalar', [x], ['x']);
  return apply('mulScalar', [x], { scalar: checkNumber('mulScalar', 'scalar', scalar) });
}
export function addScalar(x: Tensor, scalar: number): Tensor {
  check('addScalar', [x], ['x']);
  return apply('addScalar', [x], { scalar: checkNumber('addScalar', 'scalar', scalar) });
}

const binaryFn = (name: BinaryOpName | 'equal' | 'greater') => (a: Tensor, b: Tensor): Tensor => {
  check(name, [a, b], ['a', 'b']);
  broadcastShapes([a.shape, b.shape], [`${name}: a ${a.describe()}`, `b ${b.describe()}`]);
  return apply(name, [a, b], {});
};
export const add = binaryFn('add');
export const sub = binaryFn('sub');
export const mul = binaryFn('mul');
export const div = binaryFn('div');
export const maximum = binaryFn('maximum');
export const minimum = binaryFn('minimum');
/** 1 where a == b else 0 (f32 mask); not differentiable. */
export const equal = binaryFn('equal');
/** 1 where a > b else 0 (f32 mask); not differentiable. */
export const greater = binaryFn('greater');

export function cast(x: Tensor, dtype: DType): Tensor {
  check('cast', [x], ['x'], null);
  return apply('cast', [x], { dtype: checkDType('cast', dtype) });
}

function reduceFn(name: 'sum' | 'mean' | 'max') {
  return (x: Tensor, axes?: number | number[], keepDims = false): Tensor => {
    check(name, [x], ['x']);
    if (typeof keepDims !== 'boolean') throw new TensorError(`${name}: keepDims must be a boolean, got ${show(keepDims)}`);
    const norm = normalizeAxes(axes, x.rank, `${name} of ${x.describe()}`);
    if (name === 'max' && norm.some((a) => x.shape[a] === 0)) throw new ShapeError(`max of ${x.describe()}: cannot reduce an empty axis`);
    return apply(name, [x], { axes: norm, keepDims });
  };
}
export const sum = reduceFn('sum');
export const mean = reduceFn('mean');
export const max = reduceFn('max');

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  check('reshape', [x], ['x'], null);
  checkList('reshape', 'shape', shape);
  const holes = shape.filter((d) => d === -1).length;
  const known = numel(shape.filter((d) => d !== -1));
  const resolved = shape.map((d) => (d === -1 ? (known === 0 ? 0 : x.size / known) : d));
  assertValidShape(resolved, `reshape of ${x.describe()} to ${fmt(shape)}`);
  if (holes > 1 || numel(resolved) !== x.size) {
    throw new ShapeError(`reshape: cannot view ${x.describe()} (${x.size} elements) as ${fmt(shape)}`);
  }
  return apply('reshape', [x], { shape: resolved });
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  check('permute', [x], ['x'], null);
  checkList('permute', 'perm', perm);
  const norm = normalizeAxes(perm, x.rank, `permute of ${x.describe()}`);
  if (perm.length !== x.rank || norm.length !== x.rank) {
    throw new ShapeError(`permute: ${JSON.stringify(perm)} is not a permutation of the ${x.rank} axes of ${x.describe()}`);
  }
  return apply('permute', [x], { perm: perm.map((p) => (p < 0 ? p + x.rank : p)) });
}

/** Swaps two axes (default: the last two). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  check('transpose', [x], ['x'], null);
  if (typeof axis0 !== 'number' || typeof axis1 !== 'number') throw new ShapeError(`transpose: axes must be integers, got ${show(axis0)} and ${show(axis1)}`);
  if (x.rank < 2) throw new ShapeError(`transpose: ${x.describe()} has fewer than two axes`);
  const [a, b] = normalizeAxes([axis0, axis1], x.rank, `transpose of ${x.describe()}`);
  const perm = x.shape.map((_, i) => i);
  perm[a!] = b!;
  perm[b!] = a!;
  return permute(x, perm);
}

/** The block starting at `begin` with extent `size` per axis (-1: to the end). */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  check('slice', [x], ['x'], null);
  checkList('slice', 'begin', begin);
  checkList('slice', 'size', size);
  if (begin.length !== x.rank || size.length !== x.rank) {
    throw new ShapeError(`slice of ${x.describe()}: begin ${fmt(begin)} and size ${fmt(size)} need ${x.rank} entries each`);
  }
  const resolved = size.map((s, i) => (s === -1 ? x.shape[i]! - begin[i]! : s));
  x.shape.forEach((d, i) => {
    const b = begin[i]!, s = resolved[i]!;
    if (!Number.isInteger(b) || !Number.isInteger(s) || b < 0 || s < 0 || b + s > d) {
      throw new ShapeError(`slice of ${x.describe()}: axis ${i} range [${b}, ${b + s}) is outside [0, ${d})`);
    }
  });
  return apply('slice', [x], { begin: [...begin], size: resolved });
}

export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs as unknown) || xs.length === 0) throw new TensorError(`concat: needs a non-empty array of tensors, got ${show(xs)}`);
  check('concat', [...xs], xs.map((_, i) => `input ${i}`), null);
  if (typeof axis !== 'number') throw new ShapeError(`concat: axis must be an integer, got ${show(axis)}`);
  const first = xs[0]!;
  const [ax] = normalizeAxes(axis, first.rank, `concat along axis ${axis}`);
  if (ax === undefined) throw new ShapeError('concat: scalars cannot be concatenated');
  for (const x of xs) {
    if (x.dtype !== first.dtype) throw new TensorError(`concat: ${x.describe()} has dtype ${x.dtype}, expected ${first.dtype} like ${first.describe()}`);
    if (x.rank !== first.rank || x.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new ShapeError(`concat along axis ${ax}: ${x.describe()} does not match ${first.describe()} outside that axis`);
    }
  }
  return apply('concat', [...xs], { axis: ax });
}

/** Broadcasts x to `shape` (materialized copy). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  check('expand', [x], ['x'], null);
  checkList('expand', 'shape', shape);
  assertValidShape(shape, `expand of ${x.describe()}`);
  const out = broadcastShapes([x.shape, shape], [`expand: x ${x.describe()}`, 'target']);
  if (!sameShape(out, shape)) throw new ShapeError(`expand: ${x.describe()} cannot broadcast to ${fmt(shape)}`);
  assertFits(x.backend, shape, x.dtype, `expand: output ${x.dtype} ${fmt(shape)}`);
  return apply('expand', [x], { shape: [...shape] });
}

/** condition != 0 ? a : b, all three broadcast together; condition is an f32 mask (no gradient). */
export function where(condition: Tensor, a: Tensor, b: Tensor): Tensor {
  check('where', [condition, a, b], ['condition', 'a', 'b']);
  broadcastShapes([condition.shape, a.shape, b.shape], [`where: condition ${condition.describe()}`, `a ${a.describe()}`, `b ${b.describe()}`]);
  return apply('where', [condition, a, b], {});
}

/** op(a) · op(b) over the last two axes, with transposes and batch broadcasting over up to 4 leading axes. */
export function matmul(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor {
  check('matmul', [a, b], ['a', 'b']);
  const o = checkOptions<{ transA: boolean; transB: boolean }>('matmul', opts);
  for (const k of ['transA', 'transB'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new TensorError(`matmul: ${k} must be a boolean, got ${show(o[k])}`);
  }
  const attrs = { transA: !!o.transA, transB: !!o.transB };
  const { m, n, batchShape } = matmulDims(a, b, attrs);
  assertFits(a.backend, [...batchShape, m, n], 'f32', `matmul: output f32 ${fmt([...batchShape, m, n])}`);
  return apply('matmul', [a, b], attrs);
}

/**
 * A Linear layer, act(x·W + b): x [..., in] (rank >= 2), W [in, out], b [out], activation 'none' or 'relu'.
 * The same numbers and gradients as matmul, add and relu, in one forward dispatch where the adapter's
 * register-blocked matmul applies.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor, activation: LinearActivation = 'none'): Tensor {
  check('linear', [x, weight, bias], ['x', 'weight', 'bias']);
  if (weight.rank !== 2) throw new ShapeError(`linear: weight must be [in, out], got ${weight.describe()}`);
  const [inF, outF] = weight.shape as [number, number];
  if (x.rank < 2 || x.shape[x.rank - 1] !== inF) throw new ShapeError(`linear: x must be [..., ${inF}] with rank >= 2, got ${x.describe()}`);
  if (x.rank > 6) throw new ShapeError(`linear: at most 4 batch dimensions in x, got ${x.describe()}`);
  if (bias.rank !== 1 || bias.shape[0] !== outF) {
    throw new ShapeError(`linear: bias must be [${outF}] (the columns of weight ${weight.describe()}), got ${bias.describe()}`);
  }
  if (activation !== 'none' && activation !== 'relu') throw new TensorError(`linear: activation must be 'none' or 'relu', got ${show(activation)}`);
  assertFits(x.backend, [...x.shape.slice(0, -1), outF], 'f32', `linear: output f32 ${fmt([...x.shape.slice(0, -1), outF])}`);
  return apply('linear', [x, weight, bias], { activation });
}

/** Softmax over `axis`, shifted by the (detached) max for stability; gradients come from exp, sum and div. */
export function softmax(x: Tensor, axis = -1): Tensor {
  check('softmax', [x], ['x']);
  if (typeof axis !== 'number') throw new ShapeError(`softmax: axis must be an integer, got ${show(axis)}`);
  const [ax] = normalizeAxes(axis, x.rank, `softmax of ${x.describe()}`);
  if (ax === undefined) throw new ShapeError(`softmax: ${x.describe()} has no axis ${axis}`);
  if (x.shape[ax] === 0) throw new ShapeError(`softmax of ${x.describe()}: axis ${ax} is empty`);
  return disposeOnThrow(() => {
    const e = exp(sub(x, max(x.detach(), ax, true)));
    return div(e, sum(e, ax, true));
  });
}

/**
 * Factorization-machine interaction G = X·(Xᵀ·Y) for X [B, n, d] and Y [n, k] (shared across the batch)
 * or [B, n, k] (per sample); the n×n matrix X·Xᵀ is never formed. Returns [B, n, k]. One fm_interaction dispatch
 * forward and one backward (dX = dG·(Yᵀ·X) + Y·(dGᵀ·X), dY = X·(Xᵀ·dG): fmBackward); where T does not fit
 * (fmFusedApplies), two batched matmuls and their backward. Both paths are checked in test/fm.test.ts.
 */
export function fmInteraction(x: Tensor, y: Tensor): Tensor {
  check('fmInteraction', [x, y], ['x', 'y']);
  if (x.rank !== 3) throw new ShapeError(`fmInteraction: x must be [batch, fields, dim], got ${x.describe()}`);
  const [batch, n, d] = x.shape as [number, number, number];
  const ok = (y.rank === 2 && y.shape[0] === n) || (y.rank === 3 && y.shape[0] === batch && y.shape[1] === n);
  if (!ok) throw new ShapeError(`fmInteraction: y ${y.describe()} must be [${n}, k] or [${batch}, ${n}, k] for x ${x.describe()}`);
  // T = Xᵀ·Y (d × k; the backward's Yᵀ·X is its transpose) must fit fm_interaction's workgroup memory; wider
  // products fall back to two batched matmuls.
  if (fmFusedApplies(d, y.shape[y.rank - 1]!)) return apply('fmInteraction', [x, y], {});
  return disposeOnThrow(() => matmul(x, matmul(x, y, { transA: true })));
}

/**
 * out[b] = P[b]·(Q[b]ᵀ·R[b]) in one dispatch of fm_interaction (fm[Vec4]SamplesPerWorkgroup samples per workgroup); a rank-2 operand is
 * shared across the batch. With `into`, adds to it instead of allocating.
 */
function fmProduct(pm: Tensor, qm: Tensor, rm: Tensor, into?: Tensor): Tensor {
  const batch = [pm, qm, rm].reduce((b, t) => (t.rank === 3 ? t.shape[0]! : b), 1);
  const [n, m] = pm.shape.slice(-2) as [number, number];
  const k = rm.shape[rm.rank - 1]!;
  const stride = (t: Tensor): number => (t.rank === 3 ? numel(t.shape.slice(1)) : 0);
  const out = into ?? Tensor.empty(pm.backend, [batch, n, k]);
  const layout = { batch, n, m, k, pStride: stride(pm), qStride: stride(qm), rStride: stride(rm) };
  const vec4 = fmVec4Applies(layout);
  const args = { ...layout, spw: vec4 ? fmVec4SamplesPerWorkgroup(n, m, k) : fmSamplesPerWorkgroup(n, m, k) };
  runKernel(`fm_interaction${into ? '_acc' : ''}${vec4 ? '_vec4' : ''}`, [pm, qm, rm], [out], args);
  return out;
}

/**
 * The FM backward's dX = dG·(Yᵀ·X) + Y·(dGᵀ·X) and dY = X·(Xᵀ·dG) per sample: one fm_interaction_backward_vec4 dispatch
 * where fmBackwardFusedApplies (the same bits as the three products), else three fm_interaction products.
 */
function fmBackward(g: Tensor, x: Tensor, y: Tensor): { dx: Tensor; dyPerSample: Tensor } {
  const [batch, n, d] = x.shape as [number, number, number];
  const k = y.shape[y.rank - 1]!;
  if (!fmBackwardFusedApplies(d, k)) {
    const dx = fmProduct(g, y, x);
    fmProduct(y, g, x, dx);
    return { dx, dyPerSample: fmProduct(x, x, g) };
  }
  const dx = Tensor.empty(x.backend, x.shape), dyPerSample = Tensor.empty(x.backend, [batch, n, k]);
  runKernel('fm_interaction_backward_vec4', [x, y, g], [dx, dyPerSample], { batch, n, d, k, xStride: n * d, yStride: y.rank === 3 ? n * k : 0,
    gStride: n * k, spw: fmBackwardSamplesPerWorkgroup(n, d, k) });
  return { dx, dyPerSample };
}

/**
 * Fused sigmoid + binary cross-entropy from logits for H heads: logits, labels and weights are [B, H]
 * (weights default to 1; a [B, 1] or [H] weight broadcasts). Returns the per-head weighted loss sums [H];
 * divide by B for the mean. Stable for any |logit|: max(x,0) − x·y + log1p(exp(−|x|)).
 */
export function bceWithLogits(logits: Tensor, labels: Tensor | ArrayLike<number>, weights?: Tensor | ArrayLike<number>): Tensor {
  check('bceWithLogits', [logits], ['logits']);
  if (logits.rank !== 2) throw new ShapeError(`bceWithLogits: logits must be [batch, heads], got ${logits.describe()}`);
  const [rows, heads] = logits.shape as [number, number];
  const backend = logits.backend;
  let weightShape: number[] | null = null;
  if (labels instanceof Tensor) {
    check('bceWithLogits', [logits, labels], ['logits', 'labels']);
    if (!sameShape(labels.shape, logits.shape)) throw new ShapeError(`bceWithLogits: labels ${labels.describe()} must match logits ${logits.describe()}`);
  } else {
    hostValues('labels', labels, rows * heads, heads, 0, 1, 'labels must be in [0, 1] (soft labels allowed)');
  }
  if (weights instanceof Tensor) {
    check('bceWithLogits', [logits, weights], ['logits', 'weights']);
    broadcastShapes([weights.shape, logits.shape], [`bceWithLogits: weights ${weights.describe()}`, `logits ${logits.describe()}`]);
  } else if (weights !== undefined) {
    const n = checkIds('bceWithLogits', 'weights', weights).length;
    weightShape = n === heads ? [heads] : n === rows ? [rows, 1] : n === rows * heads ? [rows, heads] : null;
    if (!weightShape) throw new ShapeError(`bceWithLogits: ${n} host weights for logits ${logits.describe()}: expected ${heads} (one per head), ${rows} ` +
      `(one per row) or ${rows * heads}`);
    hostValues('weights', weights, n, weightShape[1] ?? heads, 0, Infinity, 'loss weights must be finite and >= 0');
  }
  return disposeOnThrow(() => {
    const y = labels instanceof Tensor ? labels : tensor(labels as ArrayLike<number> as number[], [rows, heads], { backend });
    const given = weights instanceof Tensor ? weights : weightShape ? tensor(weights as ArrayLike<number> as number[], weightShape, { backend }) : null;
    const w = !given ? full(logits.shape, 1, { backend })
      : sameShape(given.shape, logits.shape) ? given : noGradExpand(given, logits.shape);
    const out = apply('bceWithLogits', [logits, y, w], {});
    if (!out.requiresGrad) {
      if (y !== labels) y.dispose();
      if (w !== weights) w.dispose();
    }
    if (given && given !== weights && given !== w) given.dispose();
    return out;
  });
}

/** Host labels or weights: `n` finite numbers in [lo, hi]; an error names the element, its row and head. */
function hostValues(name: string, v: unknown, n: number, heads: number, lo: number, hi: number, rule: string): void {
  const values = checkIds('bceWithLogits', name, v);
  if (values.length !== n) throw new ShapeError(`bceWithLogits: ${values.length} host ${name} for ${n} logits`);
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!(x >= lo && x <= hi) || !Number.isFinite(x)) {
      throw new TensorError(`bceWithLogits: ${name}[${i}] (row ${Math.floor(i / Math.max(1, heads))}, head ${i % Math.max(1, heads)}) is ${x}; ${rule}`);
    }
  }
}

function noGradExpand(x: Tensor, shape: Shape): Tensor {
  return gather(x, shape, broadcastStrides(x.shape, shape));
}

/** LayerNorm over the last axis: (x − mean)/sqrt(var + eps)·gamma + beta, gamma and beta of shape [dim]. */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  check('layerNorm', [x, gamma, beta], ['x', 'gamma', 'beta']);
  const dim = x.shape[x.rank - 1];
  if (dim === undefined) throw new ShapeError(`layerNorm: x must have at least one axis, got ${x.describe()}`);
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t.rank !== 1 || t.shape[0] !== dim) throw new ShapeError(`layerNorm: ${name} ${t.describe()} must be [${dim}] (the last axis of x ${x.describe()})`);
  }
  if (!(checkNumber('layerNorm', 'eps', eps) >= 0)) throw new TensorError(`layerNorm: eps must be >= 0, got ${eps}`);
  return apply('layerNorm', [x, gamma, beta], { eps });
}

function embeddingTable(what: string, table: Tensor): void {
  check(what, [table], ['table']);
  if (table.rank !== 2) throw new ShapeError(`${what}: table must be [rows, dim], got ${table.describe()}`);
}

function embeddingApply(what: string, table: Tensor, plan: BagPlan, shape: number[]): Tensor {
  assertFits(table.backend, shape, 'f32', `${what}: output f32 ${fmt(shape)}`);
  const upload = (data: Uint32Array): Tensor => Tensor.fromData(table.backend, data, [data.length], 'u32');
  return disposeOnThrow(() => apply('embeddingBag', [table, upload(plan.rows), upload(plan.offsets)], { plan, shape }));
}

/**
 * Looks up one id per field and row in stacked tables: `table` is [Σ vocab, dim] (field 0's rows first),
 * ids is [batch, fields] row-major (host array). Returns [batch, fields, dim]. Ids are checked against
 * each field's vocabulary before anything is dispatched. The gradient is deterministic and row-sparse
 * (set `table.sparseGrad = true` to receive it in `table.rowGrads` instead of a dense `table.grad`).
 */
export function embeddingLookup(table: Tensor, ids: ArrayLike<number> | LookupFeed, fields: readonly EmbeddingField[]): Tensor {
  embeddingTable('embeddingLookup', table);
  if (ids instanceof LookupFeed) return fedLookup(table, ids, fields);
  checkIds('embeddingLookup', 'ids', ids);
  if (!Array.isArray(fields) || fields.some((f) => !f || typeof f !== 'object' || !Number.isInteger(f.vocab) || f.vocab < 1)) {
    throw new TensorError(`embeddingLookup: fields must be an array of {name, vocab} with positive integer vocabularies, got ${show(fields)}`);
  }
  const plan = lookupPlan(ids, fields, table.shape[0]!);
  return embeddingApply('embeddingLookup', table, plan, [ids.length / fields.length, fields.length, table.shape[1]!]);
}

/** A lookup whose plan is already on the device (LookupFeed): nothing is uploaded, sizes never change. */
function fedLookup(table: Tensor, feed: LookupFeed, fields: readonly EmbeddingField[]): Tensor {
  const sameFields = feed.fields.length === fields.length && feed.fields.every((f, i) => f.name === fields[i]?.name && f.vocab === fields[i]?.vocab);
  if (!sameFields || feed.tableRows !== table.shape[0] || feed.backend !== table.backend) {
    throw new TensorError(`embeddingLookup: the LookupFeed was made for other fields, another table size (${feed.tableRows} rows) or another ` +
      `backend than ${table.describe()}`);
  }
  if (!feed.plan) throw new TensorError('embeddingLookup: the LookupFeed holds no batch yet (call feed.set(ids) first)');
  const shape = [feed.batch, fields.length, table.shape[1]!];
  assertFits(table.backend, shape, 'f32', `embeddingLookup: output f32 ${fmt(shape)}`);
  return apply('embeddingBag', [table, feed.rows, feed.offsets], { plan: feed.plan, shape, feed });
}

/**
 * Multi-hot bags from one table (rows rowOffset .. rowOffset + vocab of `table`): bag b pools
 * ids[offsets[b] .. offsets[b+1]] by sum or mean (empty bags give zeros). Returns [bags, dim].
 */
export function embeddingBag(table: Tensor, ids: ArrayLike<number>, offsets: ArrayLike<number>,
  opts: { mode?: 'sum' | 'mean'; name?: string; rowOffset?: number; vocab?: number } = {}): Tensor {
  embeddingTable('embeddingBag', table);
  checkIds('embeddingBag', 'ids', ids);
  checkIds('embeddingBag', 'offsets', offsets);
  const o = checkOptions<{ mode: 'sum' | 'mean'; name: string; rowOffset: number; vocab: number }>('embeddingBag', opts);
  const mode = o.mode ?? 'sum';
  if (mode !== 'sum' && mode !== 'mean') throw new TensorError(`embeddingBag: mode must be 'sum' or 'mean', got ${show(mode)}`);
  const rowOffset = o.rowOffset ?? 0, vocab = o.vocab ?? table.shape[0]! - rowOffset;
  if (!Number.isInteger(rowOffset) || !Number.isInteger(vocab) || rowOffset < 0 || vocab < 0 || rowOffset + vocab > table.shape[0]!) {
    throw new TensorError(`embeddingBag: rows ${show(rowOffset)} .. ${show(rowOffset + vocab)} (rowOffset, vocab) are outside ${table.describe()}`);
  }
  const plan = bagPlan(ids, offsets, { name: o.name ?? table.name ?? 'table', vocab, rowOffset }, mode === 'mean');
  return embeddingApply('embeddingBag', table, plan, [plan.bags, table.shape[1]!]);
}

/**
 * Per-cohort histograms of values in [0, 1]: counts [numCohorts, bins] (u32) with bin k = floor(v·bins)
 * (1 goes to the last bin). `cohorts` gives each value's cohort, as a u32 tensor or a host array (host
 * arrays are checked: every id must be < numCohorts). NaN values are not counted.
 */
export function histogram(values: Tensor, cohorts: Tensor | ArrayLike<number>, numCohorts: number, bins: number): Tensor {
  check('histogram', [values], ['values']);
  for (const [name, v] of [['numCohorts', numCohorts], ['bins', bins]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new TensorError(`histogram: ${name} must be a positive integer, got ${v}`);
  }
  let ids: Tensor;
  if (cohorts instanceof Tensor) {
    check('histogram', [values, cohorts], ['values', 'cohorts'], null);
    if (cohorts.dtype !== 'u32') throw new TensorError(`histogram: cohorts must be u32, got ${cohorts.describe()}`);
    ids = cohorts;
  } else {
    checkIds('histogram', 'cohorts', cohorts);
    if (cohorts.length !== values.size) throw new ShapeError(`histogram: ${cohorts.length} cohort ids for ${values.describe()} (${values.size} values)`);
    for (let i = 0; i < cohorts.length; i++) {
      const c = cohorts[i]!;
      if (!Number.isInteger(c) || c < 0 || c >= numCohorts) throw new TensorError(`histogram: cohort id ${c} at row ${i} is outside 0 .. ${numCohorts - 1}`);
    }
    ids = Tensor.fromData(values.backend, Uint32Array.from(cohorts), [cohorts.length], 'u32');
  }
  if (ids.size !== values.size) throw new ShapeError(`histogram: ${ids.size} cohort ids for ${values.describe()} (${values.size} values)`);
  try {
    return apply('histogram', [values, ids], { numCohorts, bins });
  } finally {
    if (ids !== cohorts) ids.dispose();
  }
}

/**
 * Pairwise divergences between cohorts' histograms (u32 counts [C, K] from histogram()): returns
 * [4, C, C] = symmetric KL (ε-smoothed), Jensen-Shannon distance, Wasserstein-1 on [0, 1], cosine
 * distance. Pairs with an empty cohort are NaN. Counts [B, C, K] (B labellings of the same rows, as
 * discovery's permutation null makes) give [B, 4, C, C] in one dispatch.
 */
export function divergences(counts: Tensor, eps = 1e-6): Tensor {
  check('divergences', [counts], ['counts'], 'u32');
  if (counts.rank !== 2 && counts.rank !== 3) throw new ShapeError(`divergences: counts must be [cohorts, bins] or [blocks, cohorts, ` +
    `bins], got ${counts.describe()}`);
  if (!(eps > 0)) throw new TensorError(`divergences: eps must be > 0, got ${eps}`);
  return apply('divergences', [counts], { eps });
}

installAutograd({ backwardRule: (op) => opDef(op).backward, onesLike, add, copyOf, densifyRows });
