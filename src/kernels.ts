/**
 * The kernel table: kernel id → WGSL shader + entry point + bindings + Params words + override
 * constants + grid + CPU twin. Ops call kernels by id through a Backend; nothing else knows WGSL.
 * Every entry is compiled at init (variants are enumerated as entries), so dispatch is synchronous.
 */
import type { ShaderName } from './backend/shaders.gen.js';
import { MAX_RANK } from './shape.js';
import {
  BINARY, CAST, UNARY, binaryVec4Ref, linearRef, sgdRef, adamRef, adamRowsRef, adagradRowsRef, peakFmaRef, bceWithLogitsRef, histogramRef, firstNonFiniteRef,
    divergencesRef, embeddingBagRef, embeddingBagBackwardRef, scatterRowsRef, layerNormRef, layerNormBackwardRef, binaryRef, castRef, copyRef, fillRef,
    matmulRef, reduceRef, reduceColsRef, unaryRef, whereRef, fmInteractionRef, fmInteractionBackwardRef,
  type AdamHyper, type BinaryKernel, type CastKernel, type Data, type FmLayout, type FmBackwardLayout, type MatmulLayout, type UnaryKernel,
} from './reference.js';

export interface Kernel<A> {
  shader: ShaderName;
  /** The `@compute fn` name in the shader. */
  entry: string;
  /** @group(0) bindings 0..inputs-1 are read-only storage; the next `outputs` are read_write. */
  inputs: number;
  outputs: number;
  /** WGSL `override` values (workgroup size, tile, variant); a function of the backend's plan where tuned (the matmul_vec4 tile). */
  constants: Record<string, number> | ((plan: { matmul: { tile: MatmulTile } }) => Record<string, number>);
  /** @group(1) @binding(0) uniform words, one 4-byte word per Params field in declaration order. */
  params: (a: A) => number[];
  /** Workgroups to launch; the backend splits counts above 65535 over x and y. */
  grid: (a: A) => number;
  cpu: (ins: Data[], outs: Data[], a: A) => void;
  /**
   * A device capability the WGSL needs: 'subgroups' means the 'subgroups' feature with one fixed subgroup
   * size, which the backend writes into the shader's `const SG` before compiling. Backends without it
   * build no pipeline for the kernel, and ops choose another (Backend.subgroupSize says which applies).
   */
  requires?: 'subgroups';
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);
export function f32Bits(x: number): number {
  f32Scratch[0] = x;
  return u32Scratch[0]!;
}

/** Pads a list to `len` words (arrays of vec4u in Params hold up to MAX_RANK entries). */
function words(xs: readonly number[], len = MAX_RANK): number[] {
  return [...xs, ...new Array<number>(len - xs.length).fill(0)];
}

const blocks = (n: number, wg: number): number => Math.ceil(n / wg);

const hyperWords = (h: AdamHyper): number[] => [h.lr, h.beta1, h.beta2, h.eps, h.wd, h.bc1, h.bc2].map(f32Bits);

export interface UnaryArgs { n: number; alpha: number }
export interface StridedArgs { n: number; shape: readonly number[]; strides: readonly (readonly number[])[] }
export interface CopyArgs extends StridedArgs { aOff: number; oOff: number }
/** transpose_vec4: out [cols, rows] (contiguous) from A's rows × cols at element offset aOff, row stride lda; all multiples of 4. */
export interface TransposeArgs { rows: number; cols: number; lda: number; aOff: number }
export interface FillArgs { n: number; value: number; dtype: 'f32' | 'i32' | 'u32' }
export interface RowsArgs { rows: number; len: number }
export interface MatmulTile { TX: number; TY: number }
/** matmul_vec4.wgsl's override defaults: TX column blocks (of 8 columns) × TY row blocks (of 16 rows) per workgroup. */
export const MATMUL_VEC4_TILE: Readonly<MatmulTile> = Object.freeze({ TX: 8, TY: 4 });
export interface MatmulArgs extends MatmulLayout {
  batch: number;
  /** matmul_sg only: the subgroup size its pipeline was built for (its grid depends on it). */
  sg?: number;
  /** matmul_vec4 only: the tile its pipeline was built with (default MATMUL_VEC4_TILE). */
  tile?: MatmulTile;
  /** matmul_vec4 only: > 0 maps blocks flat, this many lanes of each workgroup taking consecutive 16 × 8 blocks. */
  lanes?: number;
}
export interface BceArgs { rows: number; heads: number }
export interface NormArgs { rows: number; dim: number; eps: number }
export interface HistogramArgs { n: number; cohorts: number; bins: number }
export interface FiniteArgs { n: number; slot: number }
export interface DivergenceArgs { cohorts: number; bins: number; eps: number; blocks: number }
export interface SgdArgs { n: number; lr: number; momentum: number; wd: number }
export interface AdamArgs { n: number; h: AdamHyper }
export interface AdamRowsArgs { n: number; dim: number; h: AdamHyper }
export interface AdagradRowsArgs { unique: number; dim: number; lr: number; eps: number }
export interface PeakArgs { n: number; iters: number }
export interface BagArgs { bags: number; dim: number; mean: boolean }
export interface RowsOfArgs { unique: number; dim: number; mean: boolean }

const WG = 256;
function unaryKernel(op: UnaryKernel): Kernel<UnaryArgs> {
  return {
    shader: 'unary', entry: 'unary', inputs: 1, outputs: 1, constants: { OP: UNARY[op], WG },
    params: (a) => [a.n, f32Bits(a.alpha)],
    grid: (a) => blocks(a.n, WG),
    cpu: ([x], [y], a) => unaryRef(op, x!, y!, a.n, a.alpha),
  };
}

function binaryKernel(op: BinaryKernel): Kernel<StridedArgs> {
  return {
    shader: 'binary', entry: 'binary', inputs: 2, outputs: 1, constants: { OP: BINARY[op], WG },
    params: (a) => [a.n, a.shape.length, 0, 0, ...words(a.shape), ...words(a.strides[0]!), ...words(a.strides[1]!)], grid: (a) => blocks(a.n, WG),
    cpu: ([x, y], [z], a) => binaryRef(op, x!, y!, z!, a.shape, a.strides[0]!, a.strides[1]!),
  };
}

export interface UnaryVec4Args { n4: number; alpha: number }

function unaryVec4Kernel(op: UnaryKernel): Kernel<UnaryVec4Args> {
  return {
    shader: 'unary_vec4', entry: 'unary_vec4', inputs: 1, outputs: 1, constants: { OP: UNARY[op], WG },
    params: (a) => [a.n4, f32Bits(a.alpha)],
    grid: (a) => blocks(a.n4, WG),
    cpu: ([x], [y], a) => unaryRef(op, x!, y!, 4 * a.n4, a.alpha),
  };
}

/** binary_vec4's layout: n4 vec4s of output; an operand's period (in vec4s) when it repeats, else 0. */
export interface BinaryVec4Args { n4: number; aPeriod: number; bPeriod: number }

function binaryVec4Kernel(op: BinaryKernel): Kernel<BinaryVec4Args> {
  return {
    shader: 'binary_vec4', entry: 'binary_vec4', inputs: 2, outputs: 1, constants: { OP: BINARY[op], WG },
    params: (a) => [a.n4, a.aPeriod, a.bPeriod],
    grid: (a) => blocks(a.n4, WG),
    cpu: ([x, y], [z], a) => binaryVec4Ref(op, x!, y!, z!, a.n4, a.aPeriod, a.bPeriod),
  };
}

function castKernel(op: CastKernel): Kernel<{ n: number }> {
  return {
    shader: 'cast', entry: 'cast_words', inputs: 1, outputs: 1, constants: { MODE: CAST[op], WG },
    params: (a) => [a.n],
    grid: (a) => blocks(a.n, WG),
    cpu: ([x], [y], a) => castRef(op, x!, y!, a.n),
  };
}

function reduceKernel(op: 'sum' | 'max'): Kernel<RowsArgs> {
  return {
    shader: 'reduce', entry: 'reduce_rows', inputs: 1, outputs: 1, constants: { OP: op === 'sum' ? 0 : 1, WG: 64 },
      params: (a) => [a.rows, a.len], grid: (a) => a.rows,
    cpu: ([x], [y], a) => reduceRef(op, x!, y!, a.rows, a.len),
  };
}

/** Rows per partial of reduce_cols (the CHUNK override of reduce.wgsl). */
export const REDUCE_COLS_CHUNK = 256;

export interface ColsArgs { rows: number; cols: number }

function reduceColsKernel(op: 'sum' | 'max'): Kernel<ColsArgs> {
  return {
    shader: 'reduce', entry: 'reduce_cols', inputs: 1, outputs: 1, constants: { OP: op === 'sum' ? 0 : 1, WG: 64, CHUNK: REDUCE_COLS_CHUNK },
      params: (a) => [a.rows, a.cols],
    grid: (a) => blocks(Math.ceil(a.rows / REDUCE_COLS_CHUNK) * a.cols, 64),
    cpu: ([x], [y], a) => reduceColsRef(op, x!, y!, a.rows, a.cols, REDUCE_COLS_CHUNK),
  };
}

/** reduce_cols and its pass over the partials in one dispatch (rows <= REDUCE_COLS_CHUNK², bit-identical to the two passes): [rows, cols] → [cols]. */
function reduceColsOnceKernel(op: 'sum' | 'max'): Kernel<ColsArgs> {
  return {
    shader: 'reduce', entry: 'reduce_cols_once', inputs: 1, outputs: 1, constants: { OP: op === 'sum' ? 0 : 1, WG: 64, CHUNK: REDUCE_COLS_CHUNK },
      params: (a) => [a.rows, a.cols],
    grid: (a) => blocks(a.cols, 64),
    cpu: ([x], [y], a) => reduceColsRef(op, x!, y!, a.rows, a.cols, Math.max(a.rows, 1)),
  };
}

/** Floats of T = Qᵀ·R (rows and columns rounded up to 4) that fm_interaction keeps in workgroup memory (its TMAX: 16 KiB, WebGPU's default limit). */
export const FM_FUSED_MAX_T = 4096;

/** fm_interaction's workgroup size (pipeline constant WG). */
export const FM_WORKGROUP = 64;

/** fm_interaction's launch: the product's layout and how many samples one workgroup takes (fmSamplesPerWorkgroup). */
export interface FmArgs extends FmLayout { spw: number }

function fmKernel(accumulate: boolean, vec4 = false): Kernel<FmArgs> {
  const name = vec4 ? 'fm_interaction_vec4' : 'fm_interaction';
  return {
    shader: name, entry: name, inputs: 3, outputs: 1,
    constants: { WG: FM_WORKGROUP, ACC: accumulate ? 1 : 0, TMAX: FM_FUSED_MAX_T },
    params: (a) => [a.batch, a.n, a.m, a.k, a.pStride, a.qStride, a.rStride, a.spw],
    grid: (a) => Math.ceil(a.batch / a.spw),
    cpu: ([pm, qm, rm], [out], a) => fmInteractionRef(pm!, qm!, rm!, out!, a, accumulate),
  };
}

/** fm_interaction_backward_vec4's launch: the backward's layout and its samples per workgroup (fmBackwardSamplesPerWorkgroup). */
export interface FmBackwardArgs extends FmBackwardLayout { spw: number }

const FM_INTERACTION_BACKWARD_VEC4: Kernel<FmBackwardArgs> = {
  shader: 'fm_interaction_backward_vec4', entry: 'fm_interaction_backward_vec4', inputs: 3, outputs: 2,
  constants: { WG: FM_WORKGROUP, TMAX: FM_FUSED_MAX_T },
  params: (a) => [a.batch, a.n, a.d, a.k, a.xStride, a.yStride, a.gStride, a.spw],
  grid: (a) => Math.ceil(a.batch / a.spw),
  cpu: ([x, y, g], [dx, dy], a) => fmInteractionBackwardRef(x!, y!, g!, dx!, dy!, a),
};

function table<K extends string, A>(names: readonly K[], make: (k: K) => Kernel<A>): Record<K, Kernel<A>> {
  return Object.fromEntries(names.map((k) => [k, make(k)])) as Record<K, Kernel<A>>;
}

const keys = <T extends object>(o: T): (keyof T & string)[] => Object.keys(o) as (keyof T & string)[];

/** Entries `<name>_vec4` for every name (the four-wide variant of an elementwise family). */
function vec4Table<K extends string, A>(names: readonly K[], make: (k: K) => Kernel<A>): Record<`${K}_vec4`, Kernel<A>> {
  return Object.fromEntries(names.map((k) => [`${k}_vec4`, make(k)])) as Record<`${K}_vec4`, Kernel<A>>;
}

const MATMUL_VEC4: Kernel<MatmulArgs> = {
  shader: 'matmul_vec4', entry: 'matmul_vec4', inputs: 2, outputs: 1, constants: (plan) => ({ ...plan.matmul.tile }),
  params: (a) => [a.m, a.n / 4, a.k, a.batch, a.batchShape.length, a.sam, a.sak, a.kTotal ?? 0,
    ...words(a.batchShape, 4), ...words(a.aBatchStrides, 4), ...words(a.bBatchStrides.map((s) => s / 4), 4), a.lanes ?? 0],
  grid: (a) => matmulVec4Workgroups(a),
  cpu: ([x, y], [z], a) => matmulRef(x!, y!, z!, a),
};

/** lib/matmul_sg_params.wgsl's words, with `aStride`: A's stride in elements between what its vec4 loads walk (rows, or stored rows). */
const matmulSgParams = (a: MatmulArgs, aStride: number): number[] => [a.m, a.n / 4, a.k, a.batch, a.batchShape.length, aStride / 4, a.kTotal ?? 0, 0,
  ...words(a.batchShape, 4), ...words(a.aBatchStrides.map((s) => s / 4), 4), ...words(a.bBatchStrides.map((s) => s / 4), 4)];

const MATMUL_SG: Kernel<MatmulArgs> = {
  shader: 'matmul_sg', entry: 'matmul_sg', inputs: 2, outputs: 1, constants: {}, requires: 'subgroups',
  params: (a) => matmulSgParams(a, a.sam),
  grid: (a) => matmulSgWorkgroups(a),
  cpu: ([x, y], [z], a) => matmulRef(x!, y!, z!, a),
};

/** matmul_sg for A transposed (stored [K, M]): the same grid and Params, A's stride the stored row (sak) instead of sam. */
const MATMUL_SG_TA: Kernel<MatmulArgs> = { ...MATMUL_SG, shader: 'matmul_sg_ta', params: (a) => matmulSgParams(a, a.sak) };

/** LayerNorm with one invocation per row; its four-wide variants (dim % 4 == 0) take the same Params, grid and twin. */
const LAYER_NORM_ROWS: Kernel<NormArgs> = {
  shader: 'layer_norm', entry: 'layer_norm_rows', inputs: 3, outputs: 1, constants: { WG: 64 },
  params: (a) => [a.rows, a.dim, f32Bits(a.eps)],
  grid: (a) => blocks(a.rows, 64),
  cpu: ([x, g, b], [y], a) => layerNormRef(x!, g!, b!, y!, a.rows, a.dim, a.eps),
};

const LAYER_NORM_BACKWARD_ROWS: Kernel<NormArgs> = {
  shader: 'layer_norm_backward', entry: 'layer_norm_backward_rows', inputs: 3, outputs: 2, constants: { WG: 64 },
  params: (a) => [a.rows, a.dim, f32Bits(a.eps)],
  grid: (a) => blocks(a.rows, 64),
  cpu: ([x, g, dy], [dx, dyx], a) => layerNormBackwardRef(x!, g!, dy!, dx!, dyx!, a.rows, a.dim, a.eps),
};

/**
 * A Linear layer's forward in one dispatch: `base` (matmul_vec4 or matmul_sg, unsplit) whose stores add the
 * bias [N] (binding 2) and apply ACT (0 none, 1 relu) — bit-identical to the product, add and relu kernels
 * one after the other. Its twin, linearRef, is the same three steps in the reference's precision.
 */
function linearKernel(base: Kernel<MatmulArgs>, shader: 'linear' | 'linear_sg', act: 0 | 1): Kernel<MatmulArgs> {
  const baseConstants = base.constants;
  return {
    ...base, shader, inputs: 3,
    constants: typeof baseConstants === 'function' ? (plan) => ({ ...baseConstants(plan), ACT: act }) : { ...baseConstants, ACT: act },
    cpu: ([x, w, bias], [z], a) => linearRef(x!, w!, bias!, z!, a, act),
  };
}

export const kernels = {
  ...table(keys(UNARY), unaryKernel),
  ...table(keys(BINARY), binaryKernel),
  ...vec4Table(keys(UNARY), unaryVec4Kernel),
  ...vec4Table(keys(BINARY), binaryVec4Kernel),
  ...table(keys(CAST), castKernel),
  reduce_sum: reduceKernel('sum'),
  reduce_max: reduceKernel('max'),
  reduce_cols_sum: reduceColsKernel('sum'),
  reduce_cols_max: reduceColsKernel('max'),
  reduce_cols_sum_once: reduceColsOnceKernel('sum'),
  reduce_cols_max_once: reduceColsOnceKernel('max'),
  fm_interaction: fmKernel(false),
  fm_interaction_acc: fmKernel(true),
  fm_interaction_vec4: fmKernel(false, true),
  fm_interaction_acc_vec4: fmKernel(true, true),
  fm_interaction_backward_vec4: FM_INTERACTION_BACKWARD_VEC4,
  where: {
    shader: 'where', entry: 'where_select', inputs: 3, outputs: 1, constants: { WG },
    params: (a) => [a.n, a.shape.length, 0, 0, ...words(a.shape), ...a.strides.flatMap((s) => words(s))],
    grid: (a) => blocks(a.n, WG),
    cpu: ([c, x, y], [z], a) => whereRef(c!, x!, y!, z!, a.shape, a.strides[0]!, a.strides[1]!, a.strides[2]!),
  } satisfies Kernel<StridedArgs>,
  copy: {
    shader: 'copy', entry: 'copy_strided', inputs: 1, outputs: 1, constants: { WG },
    params: (a) => [a.n, a.shape.length, a.aOff, a.oOff, ...words(a.shape), ...words(a.strides[0]!), ...words(a.strides[1]!)], grid: (a) => blocks(a.n, WG),
    cpu: ([x], [y], a) => copyRef(x!, y!, a.shape, a.strides[0]!, a.strides[1]!, a.aOff, a.oOff),
  } satisfies Kernel<CopyArgs>,
  transpose_vec4: {
    shader: 'transpose_vec4', entry: 'transpose_vec4', inputs: 1, outputs: 1, constants: { WG: 64 },
    params: (a) => [a.rows, a.cols, a.lda, a.aOff], grid: (a) => blocks((a.rows / 4) * (a.cols / 4), 64),
    cpu: ([x], [y], a) => copyRef(x!, y!, [a.cols, a.rows], [1, a.lda], [a.rows, 1], a.aOff, 0),
  } satisfies Kernel<TransposeArgs>,
  fill: {
    shader: 'fill', entry: 'fill', inputs: 0, outputs: 1, constants: { WG },
    params: (a) => [a.n, a.dtype === 'f32' ? f32Bits(a.value) : a.value >>> 0],
    grid: (a) => blocks(a.n, WG),
    cpu: (_, [y], a) => fillRef(y!, a.n, a.value),
  } satisfies Kernel<FillArgs>,
  matmul: {
    shader: 'matmul', entry: 'matmul', inputs: 2, outputs: 1, constants: { WG },
    params: (a) => [a.m, a.n, a.k, a.batch, a.batchShape.length, a.sam, a.sak, a.sbk, a.sbn, 0, 0, 0,
      ...words(a.batchShape, 4), ...words(a.aBatchStrides, 4), ...words(a.bBatchStrides, 4)],
    grid: (a) => blocks(a.batch * a.m * a.n, WG),
    cpu: ([x, y], [z], a) => matmulRef(x!, y!, z!, a),
  } satisfies Kernel<MatmulArgs>,
  matmul_vec4: MATMUL_VEC4,
  matmul_sg_ta: MATMUL_SG_TA,
  matmul_dot4: {
    shader: 'matmul_dot4', entry: 'matmul_dot4', inputs: 2, outputs: 1, constants: { WG: 64 },
    params: (a) => [a.m, a.n, a.k / 4, a.batch, a.batchShape.length, a.sam / 4, a.sbn / 4, 0,
      ...words(a.batchShape, 4), ...words(a.aBatchStrides.map((s) => s / 4), 4), ...words(a.bBatchStrides.map((s) => s / 4), 4)],
    grid: (a) => blocks(a.batch * Math.ceil(a.m / 4) * Math.ceil(a.n / 4), 64),
    cpu: ([x, y], [z], a) => matmulRef(x!, y!, z!, a),
  } satisfies Kernel<MatmulArgs>,
  matmul_sg: MATMUL_SG,
  linear: linearKernel(MATMUL_VEC4, 'linear', 0),
  linear_relu: linearKernel(MATMUL_VEC4, 'linear', 1),
  linear_sg: linearKernel(MATMUL_SG, 'linear_sg', 0),
  linear_sg_relu: linearKernel(MATMUL_SG, 'linear_sg', 1),
  bce_with_logits: {
    shader: 'bce_with_logits', entry: 'bce_with_logits', inputs: 3, outputs: 2, constants: { WG },
    params: (a) => [a.rows, a.heads],
    grid: (a) => a.heads,
    cpu: ([x, y, w], [l, d], a) => bceWithLogitsRef(x!, y!, w!, l!, d!, a.rows, a.heads),
  } satisfies Kernel<BceArgs>,
  layer_norm: {
    shader: 'layer_norm', entry: 'layer_norm', inputs: 3, outputs: 1, constants: { WG: 64 },
    params: (a) => [a.rows, a.dim, f32Bits(a.eps)],
    grid: (a) => a.rows,
    cpu: ([x, g, b], [y], a) => layerNormRef(x!, g!, b!, y!, a.rows, a.dim, a.eps),
  } satisfies Kernel<NormArgs>,
  layer_norm_backward: {
    shader: 'layer_norm_backward', entry: 'layer_norm_backward', inputs: 3, outputs: 2, constants: { WG: 64 },
    params: (a) => [a.rows, a.dim, f32Bits(a.eps)],
    grid: (a) => a.rows,
    cpu: ([x, g, dy], [dx, dyx], a) => layerNormBackwardRef(x!, g!, dy!, dx!, dyx!, a.rows, a.dim, a.eps),
  } satisfies Kernel<NormArgs>,
  layer_norm_rows: LAYER_NORM_ROWS,
  layer_norm_rows_vec4: { ...LAYER_NORM_ROWS, shader: 'layer_norm_rows_vec4', entry: 'layer_norm_rows_vec4' } satisfies Kernel<NormArgs>,
  layer_norm_backward_rows: LAYER_NORM_BACKWARD_ROWS,
  layer_norm_backward_rows_vec4: {
    ...LAYER_NORM_BACKWARD_ROWS, shader: 'layer_norm_backward_rows_vec4', entry: 'layer_norm_backward_rows_vec4',
  } satisfies Kernel<NormArgs>,
  embedding_bag: {
    shader: 'embedding_bag', entry: 'embedding_bag', inputs: 3, outputs: 1, constants: { WG },
    params: (a) => [a.bags, a.dim, a.mean ? 1 : 0],
    grid: (a) => blocks(a.bags * a.dim, WG),
    cpu: ([t, r, o], [y], a) => embeddingBagRef(t!, r!, o!, y!, a.bags, a.dim, a.mean),
  } satisfies Kernel<BagArgs>,
  embedding_bag_vec4: {
    shader: 'embedding_bag_vec4', entry: 'embedding_bag_vec4', inputs: 3, outputs: 1, constants: { WG },
    params: (a) => [a.bags, a.dim / 4, a.mean ? 1 : 0],
    grid: (a) => blocks(a.bags * a.dim / 4, WG),
    cpu: ([t, r, o], [y], a) => embeddingBagRef(t!, r!, o!, y!, a.bags, a.dim, a.mean),
  } satisfies Kernel<BagArgs>,
  embedding_bag_backward: {
    shader: 'embedding_bag_backward', entry: 'embedding_bag_backward', inputs: 4, outputs: 1, constants: { WG },
    params: (a) => [a.unique, a.dim, a.mean ? 1 : 0],
    grid: (a) => blocks(a.unique * a.dim, WG),
    cpu: ([g, s, e, o], [v], a) => embeddingBagBackwardRef(g!, s!, e!, o!, v!, a.unique, a.dim, a.mean),
  } satisfies Kernel<RowsOfArgs>,
  scatter_rows: {
    shader: 'scatter_rows', entry: 'scatter_rows', inputs: 2, outputs: 1, constants: { WG },
    params: (a) => [a.unique, a.dim],
    grid: (a) => blocks(a.unique * a.dim, WG),
    cpu: ([v, r], [d], a) => scatterRowsRef(v!, r!, d!, a.unique, a.dim),
  } satisfies Kernel<RowsOfArgs>,
  histogram: {
    shader: 'histogram', entry: 'histogram', inputs: 2, outputs: 1, constants: { WG },
    params: (a) => [a.n, a.cohorts, a.bins],
    grid: (a) => blocks(a.n, WG),
    cpu: ([v, c], [h], a) => histogramRef(v!, c!, h!, a.n, a.cohorts, a.bins),
  } satisfies Kernel<HistogramArgs>,
  first_nonfinite: {
    shader: 'first_nonfinite', entry: 'first_nonfinite', inputs: 1, outputs: 1, constants: { WG },
    params: (a) => [a.n, a.slot],
    grid: (a) => blocks(a.n, WG),
    cpu: ([x], [flags], a) => firstNonFiniteRef(x!, flags!, a.n, a.slot),
  } satisfies Kernel<FiniteArgs>,
  divergences: {
    shader: 'divergences', entry: 'divergences', inputs: 1, outputs: 1, constants: { WG: 64 },
    params: (a) => [a.cohorts, a.bins, f32Bits(a.eps), a.blocks],
    grid: (a) => blocks(a.blocks * a.cohorts * a.cohorts, 64),
    cpu: ([h], [d], a) => divergencesRef(h!, d!, a.cohorts, a.bins, a.eps, a.blocks),
  } satisfies Kernel<DivergenceArgs>,
  sgd: {
    shader: 'sgd', entry: 'sgd', inputs: 1, outputs: 2, constants: { WG },
    params: (a) => [a.n, f32Bits(a.lr), f32Bits(a.momentum), f32Bits(a.wd)],
    grid: (a) => blocks(a.n, WG),
    cpu: ([g], [w, v], a) => sgdRef(g!, w!, v!, a.n, a.lr, a.momentum, a.wd),
  } satisfies Kernel<SgdArgs>,
  adam: {
    shader: 'adam', entry: 'adam', inputs: 1, outputs: 3, constants: { WG },
    params: (a) => [a.n, a.h.decoupled ? 1 : 0, ...hyperWords(a.h)],
    grid: (a) => blocks(a.n, WG),
    cpu: ([g], [w, m, v], a) => adamRef(g!, w!, m!, v!, a.n, a.h),
  } satisfies Kernel<AdamArgs>,
  adam_rows: {
    shader: 'adam_rows', entry: 'adam_rows', inputs: 2, outputs: 3, constants: { WG },
    params: (a) => [a.n, a.dim, a.h.decoupled ? 1 : 0, ...hyperWords(a.h)],
    grid: (a) => blocks(a.n, WG),
    cpu: ([g, r], [w, m, v], a) => adamRowsRef(g!, r!, w!, m!, v!, a.n, a.dim, a.h),
  } satisfies Kernel<AdamRowsArgs>,
  adagrad_rows: {
    shader: 'adagrad_rows', entry: 'adagrad_rows', inputs: 2, outputs: 2, constants: { WG: 64 },
    params: (a) => [a.unique, a.dim, f32Bits(a.lr), f32Bits(a.eps)],
    grid: (a) => blocks(a.unique, 64),
    cpu: ([g, r], [w, s], a) => adagradRowsRef(g!, r!, w!, s!, a.unique, a.dim, a.lr, a.eps),
  } satisfies Kernel<AdagradRowsArgs>,
  // Roofline probes (bench only): n counts vec4s.
  peak_fma: {
    shader: 'peak', entry: 'peak_fma', inputs: 1, outputs: 1, constants: { WG },
    params: (a) => [a.n, a.iters],
    grid: (a) => blocks(a.n, WG),
    cpu: ([x], [y], a) => peakFmaRef(x!, y!, a.n, a.iters),
  } satisfies Kernel<PeakArgs>,
  peak_copy: {
    shader: 'peak', entry: 'peak_copy', inputs: 1, outputs: 1, constants: { WG },
    params: (a) => [a.n, a.iters],
    grid: (a) => blocks(a.n, WG),
    cpu: ([x], [y], a) => { y!.set(x!.subarray(0, 4 * a.n)); },
  } satisfies Kernel<PeakArgs>,
};

/** Workgroups (one subgroup each) matmul_sg launches: 16 rows × 2·SG column vec4s per workgroup. */
export function matmulSgWorkgroups(a: Pick<MatmulArgs, 'm' | 'n' | 'batch' | 'sg'>): number {
  if (!a.sg) throw new Error('matmul_sg args need the subgroup size (sg)');
  return a.batch * Math.ceil(a.m / 16) * Math.ceil(Math.ceil(a.n / 8) / a.sg);
}

/** matmul_vec4's 16-row × 8-column output blocks over the batch (what its lanes compute). */
export function matmulVec4Blocks(a: Pick<MatmulArgs, 'm' | 'n' | 'batch'>): number {
  return a.batch * Math.ceil(a.m / 16) * Math.ceil(a.n / 8);
}

/** Workgroups matmul_vec4 launches for these args (without splitting), with their tile. */
export function matmulVec4Workgroups(a: Pick<MatmulArgs, 'm' | 'n' | 'batch' | 'tile' | 'lanes'>): number {
  if (a.lanes) return Math.ceil(matmulVec4Blocks(a) / a.lanes);
  const { TX, TY } = a.tile ?? MATMUL_VEC4_TILE;
  return a.batch * Math.ceil(Math.ceil(a.m / 16) / TY) * Math.ceil(Math.ceil(a.n / 8) / TX);
}

export type KernelName = keyof typeof kernels;

/** What running a kernel needs; built-in kernels add the shaders/ file they live in. */
export type KernelCore<A> = Omit<Kernel<A>, 'shader'>;

/** A kernel registered at run time (registerOp): its WGSL travels with it instead of living in shaders/. */
export interface UserKernel extends KernelCore<unknown> {
  /** WGSL source, and the file name compile errors should cite. */
  code: string;
  file: string;
}

export const userKernels = new Map<string, UserKernel>();

/** The table entry for a built-in or registered kernel id. */
export function kernelOf(name: string): KernelCore<unknown> {
  const k = (kernels as Record<string, KernelCore<unknown>>)[name] ?? userKernels.get(name);
  if (!k) throw new Error(`unknown kernel '${name}'`);
  return k;
}
export type ArgsOf<K extends KernelName> = (typeof kernels)[K] extends Kernel<infer A> ? A : never;
/** The largest Params block any kernel uses, in bytes; the uniform arena binds this much per dispatch. */
export const MAX_PARAMS_BYTES = 256;
