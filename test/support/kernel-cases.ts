/**
 * Input builders for every kernel in the table, shared by the edge-shape and property suites, which
 * iterate over the whole table: a kernel added to src/kernels.ts without a case here fails them.
 */
import { kernels, mulberry32, type Backend, type DType, type KernelName, type WebGpuBackend } from '../../src/index.js';
import { strides } from '../../src/shape.js';
import { fmBackwardSamplesPerWorkgroup, fmSamplesPerWorkgroup } from '../../src/kernel-plan.js';
import { MATMUL_VEC4_TILE } from '../../src/kernels.js';
import type { Data } from '../../src/reference.js';

export interface KernelCase {
  inputs: { data: number[]; dtype: DType }[];
  /** Output buffers; `init` fills them first (guard values for partial writes). */
  outputs: { numel: number; dtype: DType; init?: number[] }[];
  /** The kernel's ArgsOf<K>; kept loose so one builder serves every kernel. */
  args: object;
  atol: number;
  rtol: number;
}

/** f32-exact random values, so the float64 reference sees the same inputs as the GPU. */
export function f32Values(n: number, next: () => number, low = -3, high = 3): number[] {
  return Array.from({ length: n }, () => Math.fround(low + (high - low) * next()));
}

const ARITH = { atol: 1e-30, rtol: 3e-7 }; // IEEE-rounded (division: WGSL allows 2.5 ULP)
const TRANSCENDENTAL = { atol: 2e-6, rtol: 4e-6 }; // WGSL exp/log/pow accuracy is a few ULP plus 2^-21 absolute
const domains: Partial<Record<KernelName, [number, number]>> = {
  log: [0.05, 5], sqrt: [0, 5], log1p: [-0.9, 5], pow_scalar: [0.05, 3],
};
const transcendental = new Set<KernelName>(['exp', 'log', 'log1p', 'sqrt', 'sigmoid', 'tanh', 'gelu', 'silu', 'pow_scalar', 'gelu_deriv', 'silu_deriv']);

function elementwise(kernel: KernelName, n: number, next: () => number): KernelCase {
  const scalar = kernel.replace(/_vec4$/, '') as KernelName;
  const [lo, hi] = domains[scalar] ?? [-3, 3];
  const tol = transcendental.has(scalar) ? TRANSCENDENTAL : ARITH;
  const family = kernels[kernel].shader;
  if (family === 'binary_vec4') {
    // A row broadcast (b a row of `cols` vec4s, a the whole output), or both whole; an odd vec4 count.
    const n4 = Math.max(1, Math.ceil(n / 4)), cols = next() < 0.5 ? 1 + Math.floor(next() * Math.min(n4, 9)) : 0;
    const rows4 = cols ? cols * Math.max(1, Math.round(n4 / cols)) : n4;
    const a = f32Values(4 * rows4, next), b = cols ? f32Values(4 * cols, next) : a.map((v, i) => (i % 7 === 0 ? v : Math.fround(-3 + 6 * next())));
    return { inputs: [{ data: a, dtype: 'f32' }, { data: b, dtype: 'f32' }], outputs: [{ numel: 4 * rows4, dtype: 'f32' }], args: { n4: rows4, aPeriod: 0, bPeriod: cols }, ...tol };
  }
  if (family === 'unary_vec4') {
    const n4 = Math.max(1, Math.ceil(n / 4));
    return { inputs: [{ data: f32Values(4 * n4, next, lo, hi), dtype: 'f32' }], outputs: [{ numel: 4 * n4, dtype: 'f32' }],
      args: { n4, alpha: scalar === 'pow_scalar' ? 1.5 : -0.75 }, ...tol };
  }
  if (family === 'binary') {
    // Some equal pairs, so eq / max_grad_mask see ties.
    const a = f32Values(n, next), b = a.map((v, i) => (i % 7 === 0 ? v : Math.fround(-3 + 6 * next())));
    return { inputs: [{ data: a, dtype: 'f32' }, { data: b, dtype: 'f32' }], outputs: [{ numel: n, dtype: 'f32' }],
      args: { n, shape: [n], strides: [[1], [1]] }, ...tol };
  }
  return { inputs: [{ data: f32Values(n, next, lo, hi), dtype: 'f32' }], outputs: [{ numel: n, dtype: 'f32' }],
    args: { n, alpha: kernel === 'pow_scalar' ? 1.5 : -0.75 }, ...tol };
}

/** One case of `kernel` with about n output elements. */
export function kernelCase(kernel: KernelName, n: number, seed: number): KernelCase {
  const next = mulberry32(seed);
  const int = (k: number): number => Math.floor(next() * k);
  // matmul_vec4's flat block mapping half the time, with any count of a workgroup's lanes.
  const flatLanes = (): number | undefined => (next() < 0.5 ? 1 + int(MATMUL_VEC4_TILE.TX * MATMUL_VEC4_TILE.TY) : undefined);
  switch (kernel) {
    case 'cast_i32_f32': return { inputs: [{ data: Array.from({ length: n }, () => int(2e6) - 1e6), dtype: 'i32' }], outputs: [{ numel: n, dtype: 'f32' }], args: { n }, ...ARITH };
    case 'cast_u32_f32': return { inputs: [{ data: Array.from({ length: n }, () => int(4e6)), dtype: 'u32' }], outputs: [{ numel: n, dtype: 'f32' }], args: { n }, ...ARITH };
    case 'cast_f32_i32': return { inputs: [{ data: f32Values(n, next, -1e5, 1e5), dtype: 'f32' }], outputs: [{ numel: n, dtype: 'i32' }], args: { n }, ...ARITH };
    case 'cast_f32_u32': return { inputs: [{ data: f32Values(n, next, -10, 1e5), dtype: 'f32' }], outputs: [{ numel: n, dtype: 'u32' }], args: { n }, ...ARITH };
    case 'reduce_sum':
    case 'reduce_max': {
      const len = Math.max(1, Math.round(Math.sqrt(n))), rows = Math.max(1, Math.ceil(n / len));
      return { inputs: [{ data: f32Values(rows * len, next), dtype: 'f32' }], outputs: [{ numel: rows, dtype: 'f32' }], args: { rows, len },
        atol: kernel === 'reduce_sum' ? 1e-6 * len : 0, rtol: 1e-6 };
    }
    case 'reduce_cols_sum':
    case 'reduce_cols_max': {
      // Up to a few chunks of rows, so partials (and a short last chunk) are exercised.
      const cols = 1 + int(24), rows = Math.max(1, Math.ceil(n / cols) + int(600));
      return { inputs: [{ data: f32Values(rows * cols, next), dtype: 'f32' }], outputs: [{ numel: Math.ceil(rows / 256) * cols, dtype: 'f32' }], args: { rows, cols },
        atol: kernel === 'reduce_cols_sum' ? 1e-6 * 256 : 0, rtol: 1e-6 };
    }
    case 'reduce_cols_sum_once':
    case 'reduce_cols_max_once': {
      // Zero to several chunks of 256 rows: one chunk returns its partial as is, several fold the partials.
      const cols = 1 + int(24), rows = Math.max(1, Math.ceil(n / cols) + int(900));
      return { inputs: [{ data: f32Values(rows * cols, next), dtype: 'f32' }], outputs: [{ numel: cols, dtype: 'f32' }], args: { rows, cols },
        atol: kernel === 'reduce_cols_sum_once' ? 1e-6 * rows : 0, rtol: 1e-6 };
    }
    case 'where': {
      const shape = [Math.max(1, Math.ceil(n / 3)), 3];
      const total = shape[0]! * 3;
      return {
        inputs: [
          { data: Array.from({ length: 3 }, () => (next() < 0.5 ? 0 : 1)), dtype: 'f32' },
          { data: f32Values(total, next), dtype: 'f32' },
          { data: f32Values(shape[0]!, next), dtype: 'f32' },
        ],
        outputs: [{ numel: total, dtype: 'f32' }],
        args: { n: total, shape, strides: [[0, 1], [3, 1], [1, 0]] }, ...ARITH,
      };
    }
    case 'copy': {
      // A transposing copy of an [r, c] block into the middle of a larger output: guards on both sides.
      const r = Math.max(1, Math.round(Math.sqrt(n))), c = Math.max(1, Math.ceil(n / r)), pad = 5;
      const guard = new Array<number>(r * c + 2 * pad).fill(-777);
      return {
        inputs: [{ data: f32Values(r * c, next), dtype: 'f32' }],
        outputs: [{ numel: guard.length, dtype: 'f32', init: guard }],
        args: { n: r * c, shape: [c, r], strides: [[1, c], strides([c, r])], aOff: 0, oOff: pad }, ...ARITH,
      };
    }
    case 'transpose_vec4': {
      // An [r, c] block of a wider matrix (row stride lda) at an offset, transposed; r, c, lda, offset multiples of 4.
      const r = 4 * Math.max(1, Math.round(Math.sqrt(n) / 4)), c = 4 * Math.max(1, Math.ceil(n / r / 4)), lda = c + 4 * int(3), aOff = 4 * int(3);
      return {
        inputs: [{ data: f32Values(aOff + r * lda, next), dtype: 'f32' }],
        outputs: [{ numel: r * c, dtype: 'f32' }],
        args: { rows: r, cols: c, lda, aOff }, ...ARITH,
      };
    }
    case 'fill': {
      const guard = new Array<number>(n + 3).fill(-1);
      return { inputs: [], outputs: [{ numel: n + 3, dtype: 'f32', init: guard }], args: { n, value: Math.fround(0.1 + next()), dtype: 'f32' }, ...ARITH };
    }
    case 'matmul': {
      const m = 1 + int(9), k = 1 + int(40), nn = Math.max(1, Math.ceil(n / m));
      return {
        inputs: [{ data: f32Values(2 * m * k, next), dtype: 'f32' }, { data: f32Values(k * nn, next), dtype: 'f32' }],
        outputs: [{ numel: 2 * m * nn, dtype: 'f32' }],
        // Batch of 2 over A, B broadcast; A transposed.
        args: { m, n: nn, k, batch: 2, batchShape: [2], aBatchStrides: [m * k], bBatchStrides: [0], sam: 1, sak: m, sbk: nn, sbn: 1 },
        atol: 1e-6 * k, rtol: 1e-5,
      };
    }
    case 'matmul_vec4': {
      if (next() < 0.4) {
        // Split-K partials: 3 k-splits (the last one short) of a product whose A and B are followed by more
        // data, so a split summing past its range shows.
        const m = 1 + int(20), nn = 4 * (1 + int(4)), k = 7 + int(40), chunk = Math.ceil(k / 3), transA = next() < 0.5;
        return {
          inputs: [{ data: f32Values(m * k + 5 * m, next), dtype: 'f32' }, { data: f32Values(k * nn + 2 * nn, next), dtype: 'f32' }],
          outputs: [{ numel: 3 * m * nn, dtype: 'f32' }],
          args: { m, n: nn, k: chunk, kTotal: k, batch: 3, batchShape: [3], aBatchStrides: [chunk * (transA ? m : 1)], bBatchStrides: [chunk * nn],
            sam: transA ? 1 : k, sak: transA ? m : 1, sbk: nn, sbn: 1, lanes: flatLanes() },
          atol: 1e-6 * k, rtol: 1e-5,
        };
      }
      // Edge blocks on purpose: M not a multiple of 16, N/4 odd half the time; A transposed half the time.
      const m = 1 + int(37), n4 = 1 + int(Math.max(1, Math.ceil(n / m / 4))), nn = 4 * n4, k = 1 + int(40), transA = next() < 0.5;
      return {
        inputs: [{ data: f32Values(3 * m * k, next), dtype: 'f32' }, { data: f32Values(k * nn, next), dtype: 'f32' }],
        outputs: [{ numel: 3 * m * nn, dtype: 'f32' }],
        args: { m, n: nn, k, batch: 3, batchShape: [3], aBatchStrides: [m * k], bBatchStrides: [0], sam: transA ? 1 : k, sak: transA ? m : 1, sbk: nn, sbn: 1,
          lanes: flatLanes() },
        atol: 1e-6 * k, rtol: 1e-5,
      };
    }
    case 'linear':
    case 'linear_relu':
    case 'linear_sg':
    case 'linear_sg_relu': {
      // A Linear layer's rows: A row-major (K % 4 == 0 for matmul_sg), batched over 2; B shared; a bias per column,
      // about half the outputs negative before relu. M past a 16-row block and N/4 odd half the time.
      const m = 1 + int(37), n4 = 1 + int(Math.max(1, Math.ceil(n / m / 4))), nn = 4 * n4;
      const k = kernel.startsWith('linear_sg') ? 4 * (1 + int(12)) : 1 + int(40);
      return {
        inputs: [{ data: f32Values(2 * m * k, next), dtype: 'f32' }, { data: f32Values(k * nn, next), dtype: 'f32' }, { data: f32Values(nn, next), dtype: 'f32' }],
        outputs: [{ numel: 2 * m * nn, dtype: 'f32' }],
        args: { m, n: nn, k, batch: 2, batchShape: [2], aBatchStrides: [m * k], bBatchStrides: [0], sam: k, sak: 1, sbk: nn, sbn: 1, sg: 0,
          lanes: kernel.startsWith('linear_sg') ? undefined : flatLanes() },
        atol: 1e-6 * k, rtol: 1e-5,
      };
    }
    case 'matmul_dot4': {
      // Both operands along k (A row-major, B transposed), K % 4 == 0, N anything; A batched, B broadcast or batched.
      const m = 1 + int(9), k = 4 * (1 + int(10)), nn = 1 + int(Math.max(1, Math.ceil(n / m / 2))), shareB = next() < 0.5;
      return {
        inputs: [{ data: f32Values(2 * m * k, next), dtype: 'f32' }, { data: f32Values((shareB ? 1 : 2) * nn * k, next), dtype: 'f32' }],
        outputs: [{ numel: 2 * m * nn, dtype: 'f32' }],
        args: { m, n: nn, k, batch: 2, batchShape: [2], aBatchStrides: [m * k], bBatchStrides: [shareB ? 0 : nn * k], sam: k, sak: 1, sbk: 1, sbn: k },
        atol: 1e-6 * k, rtol: 1e-5,
      };
    }
    case 'matmul_sg': {
      // A's rows load as vec4 along k (K % 4 == 0); M past a 16-row block and N/4 odd half the time; B shared
      // or batched; split-K partials (3 splits of a multiple of 4, the last one short) a third of the time.
      const m = 1 + int(37), n4 = 1 + int(Math.max(1, Math.ceil(n / m / 4))), nn = 4 * n4, k = 4 * (1 + int(12)), shareB = next() < 0.5;
      if (next() < 0.35 && k >= 12) {
        const chunk = 4 * Math.ceil(k / 12), splits = Math.ceil(k / chunk);
        return {
          inputs: [{ data: f32Values(m * k + 4 * m, next), dtype: 'f32' }, { data: f32Values(k * nn + 2 * nn, next), dtype: 'f32' }],
          outputs: [{ numel: splits * m * nn, dtype: 'f32' }],
          args: { m, n: nn, k: chunk, kTotal: k, batch: splits, batchShape: [splits], aBatchStrides: [chunk], bBatchStrides: [chunk * nn],
            sam: k, sak: 1, sbk: nn, sbn: 1, sg: 0 },
          atol: 1e-6 * k, rtol: 1e-5,
        };
      }
      return {
        inputs: [{ data: f32Values(2 * m * k, next), dtype: 'f32' }, { data: f32Values((shareB ? 1 : 2) * k * nn, next), dtype: 'f32' }],
        outputs: [{ numel: 2 * m * nn, dtype: 'f32' }],
        args: { m, n: nn, k, batch: 2, batchShape: [2], aBatchStrides: [m * k], bBatchStrides: [shareB ? 0 : k * nn], sam: k, sak: 1, sbk: nn, sbn: 1, sg: 0 },
        atol: 1e-6 * k, rtol: 1e-5,
      };
    }
    case 'matmul_sg_ta': {
      // A stored [K, M] (transposed), M and K multiples of 4, M past a 16-row block (an edge row quad) and N/4 odd
      // half the time; B shared or batched; split-K partials (3 splits, the last one short) a third of the time.
      const m = 4 * (1 + int(10)), n4 = 1 + int(Math.max(1, Math.ceil(n / m / 4))), nn = 4 * n4, k = 4 * (1 + int(12)), shareB = next() < 0.5;
      if (next() < 0.35 && k >= 12) {
        const chunk = 4 * Math.ceil(k / 12), splits = Math.ceil(k / chunk);
        return {
          inputs: [{ data: f32Values(m * k + 4 * m, next), dtype: 'f32' }, { data: f32Values(k * nn + 2 * nn, next), dtype: 'f32' }],
          outputs: [{ numel: splits * m * nn, dtype: 'f32' }],
          args: { m, n: nn, k: chunk, kTotal: k, batch: splits, batchShape: [splits], aBatchStrides: [chunk * m], bBatchStrides: [chunk * nn],
            sam: 1, sak: m, sbk: nn, sbn: 1, sg: 0 },
          atol: 1e-6 * k, rtol: 1e-5,
        };
      }
      return {
        inputs: [{ data: f32Values(2 * m * k, next), dtype: 'f32' }, { data: f32Values((shareB ? 1 : 2) * k * nn, next), dtype: 'f32' }],
        outputs: [{ numel: 2 * m * nn, dtype: 'f32' }],
        args: { m, n: nn, k, batch: 2, batchShape: [2], aBatchStrides: [m * k], bBatchStrides: [shareB ? 0 : k * nn], sam: 1, sak: m, sbk: nn, sbn: 1, sg: 0 },
        atol: 1e-6 * k, rtol: 1e-5,
      };
    }
    case 'fm_interaction':
    case 'fm_interaction_acc':
    case 'fm_interaction_vec4':
    case 'fm_interaction_acc_vec4': {
      // k not a multiple of 4 most of the time (edge column blocks), m and k multiples of 4 for the four-wide
      // kernels; Q or R shared across the batch at random.
      const vec4 = kernel.endsWith('_vec4');
      const nn = 1 + int(12), m = vec4 ? 4 * (1 + int(5)) : 1 + int(20), k = vec4 ? 4 * (1 + int(5)) : 1 + int(19), batch = Math.max(1, Math.min(40, Math.ceil(n / (nn * k))));
      const shareQ = next() < 0.3, shareR = next() < 0.5;
      return {
        inputs: [{ data: f32Values(batch * nn * m, next), dtype: 'f32' }, { data: f32Values((shareQ ? 1 : batch) * nn * m, next), dtype: 'f32' },
          { data: f32Values((shareR ? 1 : batch) * nn * k, next), dtype: 'f32' }],
        outputs: [{ numel: batch * nn * k, dtype: 'f32', init: f32Values(batch * nn * k, next) }],
        args: { batch, n: nn, m, k, pStride: nn * m, qStride: shareQ ? 0 : nn * m, rStride: shareR ? 0 : nn * k, spw: fmSamplesPerWorkgroup(nn, m, k) },
        atol: 1e-5 * nn * m, rtol: 1e-5,
      };
    }
    case 'fm_interaction_backward_vec4': {
      // d and k multiples of 4 (the kernel's condition), n not a multiple of 4 most of the time (edge row blocks),
      // Y shared across the batch at random, a batch that is not a multiple of the samples per workgroup.
      const nn = 1 + int(12), d = 4 * (1 + int(6)), k = 4 * (1 + int(4)), batch = Math.max(1, Math.min(40, Math.ceil(n / (nn * d))));
      const shareY = next() < 0.4;
      return {
        inputs: [{ data: f32Values(batch * nn * d, next), dtype: 'f32' }, { data: f32Values((shareY ? 1 : batch) * nn * k, next), dtype: 'f32' },
          { data: f32Values(batch * nn * k, next), dtype: 'f32' }],
        outputs: [{ numel: batch * nn * d, dtype: 'f32' }, { numel: batch * nn * k, dtype: 'f32' }],
        args: { batch, n: nn, d, k, xStride: nn * d, yStride: shareY ? 0 : nn * k, gStride: nn * k, spw: fmBackwardSamplesPerWorkgroup(nn, d, k) },
        atol: 2e-5 * nn * (d + k), rtol: 1e-5,
      };
    }
    case 'bce_with_logits': {
      const heads = 1 + int(4), rows = Math.max(1, Math.ceil(n / heads));
      // Logits up to ±60: the stable form must not overflow.
      return {
        inputs: [{ data: f32Values(rows * heads, next, -60, 60), dtype: 'f32' }, { data: Array.from({ length: rows * heads }, () => (next() < 0.3 ? 1 : 0)), dtype: 'f32' },
          { data: f32Values(rows * heads, next, 0, 2), dtype: 'f32' }],
        outputs: [{ numel: heads, dtype: 'f32' }, { numel: rows * heads, dtype: 'f32' }],
        args: { rows, heads }, atol: 1e-5 * rows, rtol: 1e-5,
      };
    }
    case 'layer_norm':
    case 'layer_norm_rows':
    case 'layer_norm_rows_vec4':
    case 'layer_norm_backward':
    case 'layer_norm_backward_rows':
    case 'layer_norm_backward_rows_vec4': {
      const forward = kernel.startsWith('layer_norm_rows') || kernel === 'layer_norm';
      // The per-row variants also get many short rows (more rows than a workgroup's 64 invocations); the
      // four-wide ones rows of a multiple of 4.
      const d = kernel.includes('_rows') && next() < 0.5 ? 1 + int(8) : 1 + int(200);
      const dim = kernel.endsWith('_vec4') ? 4 * Math.ceil(d / 4) : d, rows = Math.max(1, Math.ceil(n / dim));
      const third = forward ? f32Values(dim, next) : f32Values(rows * dim, next);
      const x = f32Values(rows * dim, next, -4, 6), gammaValues = f32Values(dim, next);
      // A short row of nearly equal values has a tiny variance and a huge 1/std, which amplifies f32
      // rounding in the backward's cancellations (g − mean(g) − x̂·mean(g·x̂)): the bound scales with
      // 1/std·max|dy|·max|gamma|. Measured over 3,000 cases: at most 1.9e-5 of that (2-element rows).
      // The forward's x − mean carries f32 rounding of |x| into y through the same 1/std: its bound scales
      // with 1/std·max|x|·max|gamma|, 4 f32 epsilons of it (3,000 cases measured at most 0.7 epsilon).
      let rstdMax = 0;
      for (let r = 0; r < rows; r++) {
        const row = x.slice(r * dim, (r + 1) * dim), mean = row.reduce((a, b) => a + b, 0) / dim;
        rstdMax = Math.max(rstdMax, 1 / Math.sqrt(row.reduce((a, b) => a + (b - mean) ** 2, 0) / dim + 1e-5));
      }
      const maxAbs = (v: number[]) => v.reduce((m, a) => Math.max(m, Math.abs(a)), 0);
      return {
        inputs: [{ data: x, dtype: 'f32' }, { data: gammaValues, dtype: 'f32' }, { data: third, dtype: 'f32' }],
        outputs: forward ? [{ numel: rows * dim, dtype: 'f32' }] : [{ numel: rows * dim, dtype: 'f32' }, { numel: rows * dim, dtype: 'f32' }],
        args: { rows, dim, eps: 1e-5 }, rtol: 2e-5,
        atol: 2e-5 + (forward ? 2.4e-7 * rstdMax * maxAbs(x) * maxAbs(gammaValues) : 5e-5 * rstdMax * maxAbs(third) * maxAbs(gammaValues)),
      };
    }
    case 'embedding_bag':
    case 'embedding_bag_vec4': {
      const dim = kernel === 'embedding_bag' ? 1 + int(24) : 4 * (1 + int(6)), vocab = 1 + int(50), bags = Math.max(1, Math.ceil(n / dim));
      const offsets = [0];
      for (let b = 0; b < bags; b++) offsets.push(offsets[b]! + int(4)); // 0-3 ids per bag, empty bags included
      return {
        inputs: [{ data: f32Values(vocab * dim, next), dtype: 'f32' }, { data: Array.from({ length: offsets[bags]! }, () => int(vocab)), dtype: 'u32' }, { data: offsets, dtype: 'u32' }],
        outputs: [{ numel: bags * dim, dtype: 'f32' }], args: { bags, dim, mean: next() < 0.5 }, atol: 1e-6, rtol: 1e-6,
      };
    }
    case 'embedding_bag_backward': {
      const dim = 1 + int(24), bags = Math.max(1, Math.ceil(n / dim)), unique = 1 + int(10);
      const offsets = [0];
      for (let b = 0; b < bags; b++) offsets.push(offsets[b]! + int(3));
      const nnz = offsets[bags]!;
      const cuts = Array.from({ length: unique - 1 }, () => int(nnz + 1)).sort((x, y) => x - y);
      return {
        inputs: [{ data: f32Values(bags * dim, next), dtype: 'f32' }, { data: [0, ...cuts, nnz], dtype: 'u32' },
          { data: Array.from({ length: nnz }, () => int(bags)), dtype: 'u32' }, { data: offsets, dtype: 'u32' }],
        // f32 rounding grows with the terms one segment sums (up to nnz): scale the tolerance with it.
        outputs: [{ numel: unique * dim, dtype: 'f32' }], args: { unique, dim, mean: next() < 0.5 }, atol: 2e-7 * Math.max(1, nnz), rtol: 1e-5,
      };
    }
    case 'scatter_rows': {
      const dim = 1 + int(16), rows = 2 + int(60), unique = 1 + int(rows - 1);
      const picked = Array.from({ length: rows }, (_, i) => i).sort(() => next() - 0.5).slice(0, unique);
      return {
        inputs: [{ data: f32Values(unique * dim, next), dtype: 'f32' }, { data: picked, dtype: 'u32' }],
        outputs: [{ numel: rows * dim, dtype: 'f32', init: new Array<number>(rows * dim).fill(0) }], args: { unique, dim, mean: false }, ...ARITH,
      };
    }
    case 'histogram': {
      const cohorts = 1 + int(6), bins = 1 + int(30);
      // Exact bin edges (0, 1, k/bins) and out-of-range ids on purpose.
      const values = f32Values(n, next, 0, 1).map((v, i) => (i % 17 === 0 ? 1 : i % 19 === 0 ? 0 : v));
      return {
        inputs: [{ data: values, dtype: 'f32' }, { data: Array.from({ length: n }, () => int(cohorts + 1)), dtype: 'u32' }],
        outputs: [{ numel: cohorts * bins, dtype: 'u32', init: new Array<number>(cohorts * bins).fill(0) }],
        args: { n, cohorts, bins }, atol: 0, rtol: 0,
      };
    }
    case 'first_nonfinite': {
      // NaN, +Inf and -Inf at random places (or none), in a slot between two untouched ones.
      const x = f32Values(n, next);
      const bad = int(4);
      for (let j = 0; j < bad; j++) x[int(n)] = [NaN, Infinity, -Infinity][j % 3]!;
      return { inputs: [{ data: x, dtype: 'f32' }], outputs: [{ numel: 3, dtype: 'u32', init: [0xffffffff, 0xffffffff, 0xffffffff] }], args: { n, slot: 1 }, atol: 0, rtol: 0 };
    }
    case 'divergences': {
      const cohorts = 1 + int(8), bins = 1 + int(40), blocks = 1 + int(3);
      const counts = Array.from({ length: blocks * cohorts * bins }, (_, i) => (Math.floor(i / bins) % cohorts === 1 ? 0 : int(next() < 0.3 ? 0 : 500)));
      return { inputs: [{ data: counts, dtype: 'u32' }], outputs: [{ numel: 4 * blocks * cohorts * cohorts, dtype: 'f32' }], args: { cohorts, bins, eps: 1e-6, blocks }, atol: 2e-5, rtol: 1e-4 };
    }
    case 'peak_fma':
    case 'peak_copy': {
      const v = Math.max(1, Math.ceil(n / 4)), iters = kernel === 'peak_fma' ? 1 + int(20) : 0;
      return { inputs: [{ data: f32Values(4 * v, next, -1, 1), dtype: 'f32' }], outputs: [{ numel: 4 * v, dtype: 'f32' }], args: { n: v, iters }, atol: 1e-5, rtol: 1e-5 };
    }
    case 'sgd': {
      const total = Math.max(1, n);
      return { inputs: [{ data: f32Values(total, next), dtype: 'f32' }],
        outputs: [{ numel: total, dtype: 'f32', init: f32Values(total, next) }, { numel: total, dtype: 'f32', init: f32Values(total, next, -0.1, 0.1) }],
        args: { n: total, lr: 0.05, momentum: 0.9, wd: 0.01 }, atol: 1e-6, rtol: 1e-5 };
    }
    case 'adam':
    case 'adam_rows':
    case 'adagrad_rows': {
      const dim = 1 + int(16), rows = Math.max(2, Math.ceil(n / dim)), total = rows * dim;
      const unique = 1 + int(rows - 1);
      const picked = Array.from({ length: rows }, (_, i) => i).sort(() => next() - 0.5).slice(0, unique).sort((x, y) => x - y);
      const h = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: next() < 0.5 ? 0 : 0.01, decoupled: next() < 0.5, bc1: 1 - 0.9 ** 3, bc2: 1 - 0.999 ** 3 };
      const param = { numel: total, dtype: 'f32' as const, init: f32Values(total, next) };
      if (kernel === 'adam') {
        return { inputs: [{ data: f32Values(total, next), dtype: 'f32' }],
          outputs: [param, { numel: total, dtype: 'f32', init: f32Values(total, next, -0.1, 0.1) }, { numel: total, dtype: 'f32', init: f32Values(total, next, 0, 0.1) }],
          args: { n: total, h }, atol: 1e-6, rtol: 1e-5 };
      }
      const sparse = [{ data: f32Values(unique * dim, next), dtype: 'f32' as const }, { data: picked, dtype: 'u32' as const }];
      if (kernel === 'adam_rows') {
        return { inputs: sparse,
          outputs: [param, { numel: total, dtype: 'f32', init: f32Values(total, next, -0.1, 0.1) }, { numel: total, dtype: 'f32', init: f32Values(total, next, 0, 0.1) }],
          args: { n: unique * dim, dim, h }, atol: 1e-6, rtol: 1e-5 };
      }
      return { inputs: sparse, outputs: [param, { numel: rows, dtype: 'f32', init: f32Values(rows, next, 0, 1) }], args: { unique, dim, lr: 0.05, eps: 1e-10 }, atol: 1e-6, rtol: 1e-5 };
    }
    default: {
      const family = kernels[kernel].shader;
      if (!['unary', 'binary', 'unary_vec4', 'binary_vec4'].includes(family)) throw new Error(`test/kernel-cases.ts has no case for kernel ${kernel}`);
      return elementwise(kernel, n, next);
    }
  }
}

function typed(data: number[], dtype: DType): Data {
  return dtype === 'f32' ? Float64Array.from(data) : dtype === 'i32' ? Int32Array.from(data) : Uint32Array.from(data);
}

/** A case's args for this backend: matmul_sg's grid needs the subgroup size its pipeline was built for. */
export function argsOn(backend: Backend, kernel: KernelName, c: KernelCase): unknown {
  return kernel.startsWith('matmul_sg') || kernel.startsWith('linear_sg') ? { ...(c.args as object), sg: backend.subgroupSize ?? 8 } : c.args;
}

/** Whether the test project's WebGPU backend (null: none) built this kernel (its device may lack a capability it requires). */
export function runnable(backend: WebGpuBackend | null, kernel: KernelName): boolean {
  return backend?.available(kernel) ?? false;
}

export async function runKernel(backend: Backend, kernel: KernelName, c: KernelCase): Promise<Data[]> {
  const ins = c.inputs.map((x) => backend.upload(typed(x.data, x.dtype), x.dtype));
  const outs = c.outputs.map((o) => (o.init ? backend.upload(typed(o.init, o.dtype), o.dtype) : backend.alloc(o.numel, o.dtype)));
  backend.run(kernel, ins, outs, argsOn(backend, kernel, c) as never);
  const result = await Promise.all(outs.map((s) => backend.read(s)));
  [...ins, ...outs].forEach((s) => backend.release(s));
  return result;
}

export { reference } from './util.js';
export const kernelNames = Object.keys(kernels) as KernelName[];
