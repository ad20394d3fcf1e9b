/**
 * Which kernel runs an op, and with what launch shape: the matmul variant (matmul_sg, matmul_vec4 or the
 * v1 kernel) and whether it splits K, the matmul_vec4 tile, whether fm_interaction's T fits workgroup
 * memory, and which LayerNorm kernel a row length takes. Every threshold lives in a KernelPlan that a
 * backend is created with (`init({ plan })`, `new CpuBackend(precision, plan)`): tests and benchmarks
 * pass their own instead of overwriting shared settings. The numbers behind the defaults are in
 * docs/kernels.md.
 */
import {
  FM_FUSED_MAX_T, FM_WORKGROUP, MATMUL_VEC4_TILE, matmulSgWorkgroups, matmulVec4Blocks, matmulVec4Workgroups, type MatmulArgs, type MatmulTile,
} from './kernels.js';
import type { FmLayout } from './reference.js';

export interface MatmulSplitRule {
  /** Split only outputs that fill fewer workgroups than this… */
  minWorkgroups: number;
  /** …with at least this long a reduction… */
  minK: number;
  /** …into splits of at least this many k… */
  minChunk: number;
  /** …and at most this many of them. */
  maxSplits: number;
}

export interface KernelPlan {
  matmul: {
    /** matmul_vec4's workgroup: TX column blocks (of 8 columns) × TY row blocks (of 16 rows); pipeline constants. */
    tile: MatmulTile;
    /** The smallest fixed subgroup size at which matmul() prefers matmul_sg over matmul_vec4. */
    minSubgroup: number;
    split: MatmulSplitRule;
    /** matmul_vec4 maps the blocks of a batch of small products flat (matmulVec4Flat); false: always tiled. */
    flat: boolean;
  };
  /** LayerNorm rows up to this length run one invocation per row; longer rows one workgroup per row. */
  layerNormRowMaxDim: number;
  /** Elementwise ops take the four-wide kernels (unary_vec4, binary_vec4) where their layout allows. */
  elementwiseVec4: boolean;
}

/**
 * The defaults, each chosen by a measurement recorded in docs/kernels.md: the tile by
 * bench/matmul-sweep.bench.ts; matmul_sg from 8 lanes up (slower than matmul_vec4 at 4); the split-K
 * thresholds; the flat block mapping for batches of small products; the per-row LayerNorm kernel up to 512 columns.
 */
export const DEFAULT_PLAN: Readonly<KernelPlan> = deepFreeze({
  matmul: { tile: { ...MATMUL_VEC4_TILE }, minSubgroup: 8, split: { minWorkgroups: 32, minK: 1024, minChunk: 256, maxSplits: 32 }, flat: true },
    layerNormRowMaxDim: 512, elementwiseVec4: true,
});

/** A plan with `overrides` merged over the defaults (one level of nesting per section). */
export interface PlanOverrides {
  matmul?: { tile?: Partial<MatmulTile>; minSubgroup?: number; split?: Partial<MatmulSplitRule>; flat?: boolean };
  layerNormRowMaxDim?: number;
  elementwiseVec4?: boolean;
}

export function kernelPlan(overrides: PlanOverrides = {}): Readonly<KernelPlan> {
  const m = overrides.matmul ?? {};
  return deepFreeze({
    matmul: {
      tile: { ...DEFAULT_PLAN.matmul.tile, ...m.tile },
      minSubgroup: m.minSubgroup ?? DEFAULT_PLAN.matmul.minSubgroup,
      split: { ...DEFAULT_PLAN.matmul.split, ...m.split },
      flat: m.flat ?? DEFAULT_PLAN.matmul.flat,
    },
    layerNormRowMaxDim: overrides.layerNormRowMaxDim ?? DEFAULT_PLAN.layerNormRowMaxDim,
    elementwiseVec4: overrides.elementwiseVec4 ?? DEFAULT_PLAN.elementwiseVec4,
  });
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}

/** matmul_vec4 applies when B is row-major with N % 4 == 0 (its rows load as vec4). */
export function matmulVec4Applies(a: MatmulArgs): boolean {
  return a.n % 4 === 0 && a.sbn === 1 && a.sbk === a.n && a.bBatchStrides.every((s) => s % 4 === 0);
}

/**
 * matmul_sg applies on top of matmul_vec4's conditions when A's rows load as vec4 along k: A row-major
 * (k stride 1) with K, its row stride and its batch strides multiples of 4.
 */
export function matmulSgApplies(a: MatmulArgs): boolean {
  return matmulVec4Applies(a) && a.sak === 1 && a.k % 4 === 0 && a.sam % 4 === 0 && a.aBatchStrides.every((s) => s % 4 === 0);
}

/**
 * matmul_sg_ta applies on top of matmul_vec4's conditions where A is transposed (stored [K, M], row stride 1)
 * and loads as vec4 along its stored rows: M, K, the stored row and the batch strides multiples of 4.
 */
export function matmulSgTaApplies(a: MatmulArgs): boolean {
  const four = (s: number) => s % 4 === 0;
  return matmulVec4Applies(a) && a.sam === 1 && four(a.m) && four(a.k) && four(a.sak) && a.aBatchStrides.every(four);
}

/**
 * matmul_dot4 applies where both operands run contiguously along k (A row-major, B in the transB layout)
 * with K, the row strides and the batch strides multiples of 4: outputs too narrow for the vec4 kernels.
 */
export function matmulDot4Applies(a: MatmulArgs): boolean {
  const four = (s: number) => s % 4 === 0;
  return a.sak === 1 && a.sbk === 1 && four(a.k) && four(a.sam) && four(a.sbn) && a.aBatchStrides.every(four) && a.bBatchStrides.every(four) && !a.kTotal;
}

/** Whether matmul() runs matmul_sg on a device with this fixed subgroup size (null: none). */
export function matmulSgPreferred(plan: KernelPlan, subgroupSize: number | null): subgroupSize is number {
  return subgroupSize !== null && subgroupSize >= plan.matmul.minSubgroup;
}

export type MatmulKernel = 'matmul_sg' | 'matmul_sg_ta' | 'matmul_vec4' | 'matmul_dot4' | 'matmul';

/**
 * The matmul kernel for these args on a backend with this plan and fixed subgroup size (null: none):
 * matmul_sg where it applies and measured faster, else matmul_vec4 where B's rows load as vec4, else the
 * v1 kernel. The args gain what the chosen kernel's grid needs (the subgroup size, the tile).
 */
export function matmulKernelFor(a: MatmulArgs, plan: KernelPlan, subgroupSize: number | null): { kernel: MatmulKernel; args: MatmulArgs } {
  if (matmulSgPreferred(plan, subgroupSize)) {
    if (matmulSgApplies(a)) return { kernel: 'matmul_sg', args: { ...a, sg: subgroupSize } };
    if (matmulSgTaApplies(a)) return { kernel: 'matmul_sg_ta', args: { ...a, sg: subgroupSize } };
  }
  if (matmulVec4Applies(a)) {
    const tile = plan.matmul.tile;
    return { kernel: 'matmul_vec4', args: plan.matmul.flat && matmulVec4Flat(a, tile) ? { ...a, tile, lanes: tile.TX * tile.TY } : { ...a, tile } };
  }
  return matmulDot4Applies(a) ? { kernel: 'matmul_dot4', args: a } : { kernel: 'matmul', args: a };
}

/**
 * Whether matmul_vec4 maps its blocks flat (MatmulArgs.lanes): a batch whose entries' outputs fill less than
 * half a tile, where tiling would leave most lanes of every workgroup idle (the FM generator's 14 × 14 by
 * [512, 14, 16]: 2 of 32 lanes busy, 2.2–2.4× slower than flat; docs/kernels.md). A single product that
 * fills few tiles measured no faster flat, so it stays tiled.
 */
export function matmulVec4Flat(a: Pick<MatmulArgs, 'm' | 'n' | 'batch'>, tile: MatmulTile): boolean {
  return a.batch > 1 && 2 * matmulVec4Blocks({ ...a, batch: 1 }) < tile.TX * tile.TY;
}

/**
 * How many K splits a matmul_vec4 or matmul_sg product takes (1: none). An output that fills fewer than
 * `minWorkgroups` workgroups leaves most of the device idle while one workgroup walks a long K; splits
 * write partials [splits, …batch, M, N] and a fixed-order column sum adds them (bit-identical reruns, no
 * atomics). The kernels' Params carry at most 4 batch dims, one for the split. The count is the one
 * matmulSplitChunk's chunks give, so no split is empty.
 */
export function matmulSplitK(a: MatmulArgs, rule: MatmulSplitRule): number {
  // matmul_vec4's tiled grid even where it maps flat, so the flat mapping splits nothing tiling would not.
  const groups = a.sg ? matmulSgWorkgroups(a) : matmulVec4Workgroups({ ...a, lanes: undefined });
  if (a.k < rule.minK || groups >= rule.minWorkgroups || a.batchShape.length > 3 || a.kTotal) return 1;
  const splits = Math.min(rule.maxSplits, Math.floor(a.k / rule.minChunk), Math.ceil(rule.minWorkgroups / groups));
  return splits >= 2 ? Math.ceil(a.k / matmulSplitChunk(a, splits)) : 1;
}

/** The k each of `splits` splits sums (the last one fewer); matmul_sg steps k by 4, so its chunks are multiples of 4. */
export function matmulSplitChunk(a: Pick<MatmulArgs, 'k' | 'sg'>, splits: number): number {
  const step = a.sg ? 4 : 1;
  return step * Math.ceil(a.k / splits / step);
}

/**
 * binary_vec4's layout for an output of `shape` from operands of shapes `a` and `b` (NumPy broadcast), or
 * null where it does not apply: the output's elements a multiple of 4, and each operand either the whole
 * output (period 0) or a row repeated over leading axes (its shape, leading 1s dropped, is the output's
 * trailing dims, with a multiple of 4 elements: a bias).
 */
export function binaryVec4Layout(shape: readonly number[], a: readonly number[],
  b: readonly number[]): { n4: number; aPeriod: number; bPeriod: number } | null {
  const n = shape.reduce((x, d) => x * d, 1);
  if (n === 0 || n % 4 !== 0) return null;
  const period = (s: readonly number[]): number | null => {
    let i = 0;
    while (i < s.length && s[i] === 1 && s.length - i > 0) i++;
    const t = s.slice(i), tail = shape.slice(shape.length - t.length);
    if (t.length > shape.length || t.some((d, j) => d !== tail[j])) return null;
    const m = t.reduce((x, d) => x * d, 1);
    return m === n ? 0 : m % 4 === 0 ? m / 4 : null;
  };
  const [pa, pb] = [period(a), period(b)];
  return pa === null || pb === null ? null : { n4: n / 4, aPeriod: pa, bPeriod: pb };
}

/**
 * The LayerNorm kernel (forward or backward) for rows of `dim`: one invocation per row up to the plan's
 * layerNormRowMaxDim, four columns per load where dim % 4 == 0 (1.2–2.2× at 16–224 columns, the same bits);
 * one workgroup per row beyond.
 */
export function layerNormKernel(plan: KernelPlan, dim: number, pass: 'layer_norm' | 'layer_norm_backward'):
  'layer_norm' | 'layer_norm_rows' | 'layer_norm_rows_vec4' | 'layer_norm_backward' | 'layer_norm_backward_rows' | 'layer_norm_backward_rows_vec4' {
  if (dim > plan.layerNormRowMaxDim) return pass;
  return dim % 4 === 0 ? `${pass}_rows_vec4` : `${pass}_rows`;
}

/** The embedding gather for rows of `dim`: four dims per invocation where dim % 4 == 0 (2.8× at d 16, the same bits). */
export function embeddingBagKernel(dim: number): 'embedding_bag' | 'embedding_bag_vec4' {
  return dim % 4 === 0 ? 'embedding_bag_vec4' : 'embedding_bag';
}

/**
 * Samples one fm_interaction workgroup takes for P [n, m] · (Q [n, m]ᵀ · R [n, k]): as many as leave each
 * sample enough of the FM_WORKGROUP lanes for its 4 × 4 blocks in both products (a power of two), and their
 * T's fit workgroup memory together. The FM benchmark shapes take one; the experiment's 14 fields × 16 × 4
 * take 16 (4 blocks each), where one per workgroup left 60 of 64 lanes idle. Each output's sum is the same
 * either way.
 */
export function fmSamplesPerWorkgroup(n: number, m: number, k: number): number {
  const kb = Math.ceil(k / 4), tBlocks = Math.ceil(m / 4) * kb;
  return samplesPerWorkgroup(Math.max(tBlocks, Math.ceil(n / 4) * kb), 16 * tBlocks);
}

/**
 * Samples one fm_interaction_vec4 workgroup takes. Where k / 4 is even its T takes 4 × 8 blocks, and each lane
 * takes two blocks of the larger product: at B 4096 n 32 d 64 k 16 four samples per workgroup instead of one
 * (1.11-1.19x, alternated in one process; 1.21-1.25x at 2048 × 26 × 16 × 16). Else as fmSamplesPerWorkgroup.
 */
export function fmVec4SamplesPerWorkgroup(n: number, m: number, k: number): number {
  const kb = Math.ceil(k / 4), mb = Math.ceil(m / 4);
  if (kb % 2 !== 0) return fmSamplesPerWorkgroup(n, m, k);
  return samplesPerWorkgroup(Math.max(mb * (kb / 2), Math.ceil(n / 4) * kb), 16 * mb * kb, 2);
}

/**
 * Samples per FM_WORKGROUP lanes when each sample has `blocks` per-invocation blocks (a power of two of lanes
 * each, covering the blocks at `perLane` a lane, up to the whole workgroup) and `floats` of workgroup memory,
 * all within FM_FUSED_MAX_T.
 */
function samplesPerWorkgroup(blocks: number, floats: number, perLane = 1): number {
  let lanes = 1;
  while (lanes * perLane < blocks && lanes < FM_WORKGROUP) lanes *= 2;
  let spw = FM_WORKGROUP / lanes;
  while (spw > 1 && spw * floats > FM_FUSED_MAX_T) spw /= 2;
  return spw;
}

/**
 * Samples one fm_interaction_backward_vec4 workgroup takes for X [n, d], Y and dG [n, k]: as fmSamplesPerWorkgroup,
 * for its 4 × 4 (or 4 × 8) blocks of T1 and T2 (computed together) and 8 × 4 blocks of dX and dY, with both
 * T's of every sample in workgroup memory.
 */
export function fmBackwardSamplesPerWorkgroup(n: number, d: number, k: number): number {
  const db = d / 4, kb = k / 4, tBlocks = kb * db;
  // Where d / 4 is even, T1 and T2 take two column blocks an invocation (half the blocks).
  return samplesPerWorkgroup(Math.max(db % 2 === 0 ? tBlocks / 2 : tBlocks, Math.ceil(n / 8) * (db + kb)), 32 * tBlocks);
}

/**
 * Whether the FM backward runs as one fm_interaction_backward_vec4 dispatch: d and k multiples of 4 (every load
 * four-wide) and T1 = Yᵀ·X and T2 = dGᵀ·X fitting workgroup memory together. Else three fm_interaction products.
 */
export function fmBackwardFusedApplies(d: number, k: number): boolean {
  return d % 4 === 0 && k % 4 === 0 && 2 * d * k <= FM_FUSED_MAX_T;
}

/** Whether fm_interaction_vec4 applies: P, Q and R load as vec4 rows (m, k and every batch stride multiples of 4). */
export function fmVec4Applies(a: Pick<FmLayout, 'm' | 'k' | 'pStride' | 'qStride' | 'rStride'>): boolean {
  return [a.m, a.k, a.pStride, a.qStride, a.rStride].every((x) => x % 4 === 0);
}

/** Whether fm_interaction holds T = Qᵀ·R (m × k, each rounded up to a 4-block) for these sizes; the kernel writes nothing otherwise. */
export function fmFusedApplies(m: number, k: number): boolean {
  return 16 * Math.ceil(m / 4) * Math.ceil(k / 4) <= FM_FUSED_MAX_T;
}
