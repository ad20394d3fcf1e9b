/**
 * CPU twins of every kernel: plain loops over typed arrays, the specification the WGSL must match.
 * Float outputs are Float64Array (gradcheck) or Float32Array (rounded per element, like the GPU).
 * Argument order follows the kernels: inputs, then outputs, then the kernel's arguments.
 */
export type Data = Float32Array | Float64Array | Int32Array | Uint32Array;

export const UNARY = {
  neg: 0, abs: 1, exp: 2, log: 3, log1p: 4, sqrt: 5, sigmoid: 6, tanh: 7, relu: 8, gelu: 9, silu: 10,
  pow_scalar: 11, mul_scalar: 12, sign: 13, step: 14, gelu_deriv: 15, silu_deriv: 16, add_scalar: 17,
} as const;
export type UnaryKernel = keyof typeof UNARY;

export const BINARY = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, equal: 6, greater: 7, max_grad_mask: 8, relu_grad: 9 } as const;
export type BinaryKernel = keyof typeof BINARY;

export const CAST = { cast_i32_f32: 0, cast_u32_f32: 1, cast_f32_i32: 2, cast_f32_u32: 3 } as const;
export type CastKernel = keyof typeof CAST;

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

function powScalar(x: number, alpha: number): number {
  if (alpha === 0) return 1;
  return x < 0 && !Number.isInteger(alpha) ? NaN : Math.pow(x, alpha);
}

export function unaryScalar(op: UnaryKernel, x: number, alpha: number): number {
  switch (op) {
    case 'neg': return -x;
    case 'abs': return Math.abs(x);
    case 'exp': return Math.exp(x);
    case 'log': return Math.log(x);
    case 'log1p': return Math.log1p(x);
    case 'sqrt': return Math.sqrt(x);
    case 'sigmoid': return sigmoid(x);
    case 'tanh': return Math.tanh(x);
    case 'relu': return x > 0 ? x : 0;
    case 'gelu': return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x ** 3)));
    case 'silu': return x * sigmoid(x);
    case 'pow_scalar': return powScalar(x, alpha);
    case 'mul_scalar': return alpha * x;
    case 'sign': return Math.sign(x);
    case 'step': return x > 0 ? 1 : 0;
    case 'gelu_deriv': {
      const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x ** 3));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
    }
    case 'silu_deriv': {
      const s = sigmoid(x);
      return s * (1 + x * (1 - s));
    }
    case 'add_scalar': return x + alpha;
    default: return op satisfies never;
  }
}

export function unaryRef(op: UnaryKernel, a: Data, out: Data, n: number, alpha: number): void {
  for (let i = 0; i < n; i++) out[i] = unaryScalar(op, a[i]!, alpha);
}

export function binaryScalar(op: BinaryKernel, x: number, y: number): number {
  switch (op) {
    case 'add': return x + y;
    case 'sub': return x - y;
    case 'mul': return x * y;
    case 'div': return x / y;
    case 'maximum': return Math.max(x, y);
    case 'minimum': return Math.min(x, y);
    case 'equal': return x === y ? 1 : 0;
    case 'greater': return x > y ? 1 : 0;
    case 'max_grad_mask': return x > y ? 1 : x === y ? 0.5 : 0;
    case 'relu_grad': return x * (y > 0 ? 1 : 0);
    default: return op satisfies never;
  }
}

/** Calls visit(outIndex, offsets...) for every index of `shape`, with per-operand strides. */
function forEachStrided(shape: readonly number[], strideSets: readonly (readonly number[])[], bases: readonly number[],
  visit: (i: number, offsets: number[]) => void): void {
  const n = shape.reduce((p, d) => p * d, 1);
  const offsets = new Array<number>(strideSets.length);
  for (let i = 0; i < n; i++) {
    let rem = i;
    for (let s = 0; s < strideSets.length; s++) offsets[s] = bases[s] ?? 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      const dim = shape[d]!;
      const q = rem % dim;
      rem = (rem - q) / dim;
      for (let s = 0; s < strideSets.length; s++) offsets[s]! += q * strideSets[s]![d]!;
    }
    visit(i, offsets);
  }
}

export function binaryRef(op: BinaryKernel, a: Data, b: Data, out: Data,
  shape: readonly number[], sa: readonly number[], sb: readonly number[]): void {
  forEachStrided(shape, [sa, sb], [], (i, [ia, ib]) => { out[i] = binaryScalar(op, a[ia!]!, b[ib!]!); });
}

/**
 * Twin of binary_vec4: out[i] = f(a[ia], b[ib]) over n4 vec4s (4 floats each), an operand with a
 * period p > 0 read at vec4 i % p (a row repeated over the leading axes), else at i.
 */
export function binaryVec4Ref(op: BinaryKernel, a: Data, b: Data, out: Data, n4: number, aPeriod: number, bPeriod: number): void {
  for (let i = 0; i < n4; i++) {
    const ia = aPeriod ? i % aPeriod : i, ib = bPeriod ? i % bPeriod : i;
    for (let c = 0; c < 4; c++) out[4 * i + c] = binaryScalar(op, a[4 * ia + c]!, b[4 * ib + c]!);
  }
}

export function whereRef(c: Data, a: Data, b: Data, out: Data, shape: readonly number[],
  sc: readonly number[], sa: readonly number[], sb: readonly number[]): void {
  forEachStrided(shape, [sc, sa, sb], [], (i, [ic, ia, ib]) => { out[i] = c[ic!] !== 0 ? a[ia!]! : b[ib!]!; });
}

export function copyRef(a: Data, out: Data, shape: readonly number[], sa: readonly number[], so: readonly number[],
  aOff: number, oOff: number): void {
  forEachStrided(shape, [sa, so], [aOff, oOff], (_, [ia, io]) => { out[io!] = a[ia!]!; });
}

export function fillRef(out: Data, n: number, value: number): void {
  out.fill(value, 0, n);
}

export function castRef(op: CastKernel, a: Data, out: Data, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    out[i] = op === 'cast_f32_i32' ? Math.trunc(x) : op === 'cast_f32_u32' ? Math.max(0, Math.trunc(x)) : x;
  }
}

/** Row reduction of a contiguous [rows, len] matrix. Summation in index order (float64 in f64 mode). */
export function reduceRef(op: 'sum' | 'max', a: Data, out: Data, rows: number, len: number): void {
  for (let r = 0; r < rows; r++) {
    let acc = op === 'sum' ? 0 : -Infinity;
    for (let j = 0; j < len; j++) {
      const v = a[r * len + j]!;
      acc = op === 'sum' ? acc + v : Math.max(acc, v);
    }
    out[r] = acc;
  }
}

/** Column partials of a [rows, cols] matrix: out[part, c] folds rows part·chunk … (part+1)·chunk − 1. */
export function reduceColsRef(op: 'sum' | 'max', a: Data, out: Data, rows: number, cols: number, chunk: number): void {
  const parts = Math.ceil(rows / chunk);
  for (let part = 0; part < parts; part++) {
    for (let c = 0; c < cols; c++) {
      let acc = op === 'sum' ? 0 : -Infinity;
      for (let r = part * chunk; r < Math.min(rows, (part + 1) * chunk); r++) {
        const v = a[r * cols + c]!;
        acc = op === 'sum' ? acc + v : Math.max(acc, v);
      }
      out[part * cols + c] = acc;
    }
  }
}

export interface MatmulLayout {
  m: number; n: number; k: number;
  /** A(i, k) = a[aBatch + i*sam + k*sak]; B(k, j) = b[bBatch + k*sbk + j*sbn]. */
  sam: number; sak: number; sbk: number; sbn: number;
  /** Output batch dims and each operand's stride per batch dim (0 where broadcast). */
  batchShape: readonly number[]; aBatchStrides: readonly number[]; bBatchStrides: readonly number[];
  /**
   * Split-K partials: when set, the leading batch dim indexes splits of a reduction this long, and split s
   * sums k over [s·k, min(kTotal, (s+1)·k)) only (its A/B batch strides step k along the reduction).
   */
  kTotal?: number;
}

export function matmulRef(a: Data, b: Data, out: Data, l: MatmulLayout): void {
  let o = 0;
  const perSplit = l.batchShape.slice(1).reduce((p, d) => p * d, 1);
  forEachStrided(l.batchShape, [l.aBatchStrides, l.bBatchStrides], [], (bi, [oa, ob]) => {
    const kCount = l.kTotal ? Math.min(l.k, l.kTotal - Math.floor(bi / perSplit) * l.k) : l.k;
    for (let i = 0; i < l.m; i++) {
      for (let j = 0; j < l.n; j++) {
        let acc = 0;
        for (let kk = 0; kk < kCount; kk++) acc += a[oa! + i * l.sam + kk * l.sak]! * b[ob! + kk * l.sbk + j * l.sbn]!;
        out[o++] = acc;
      }
    }
  });
}

/** The linear op: out = act(A·B + bias[column]) for the kernels linear and linear_sg (act 0 none, 1 relu). */
export function linearRef(a: Data, b: Data, bias: Data, out: Data, l: MatmulLayout, act: 0 | 1): void {
  matmulRef(a, b, out, l);
  const total = l.batchShape.reduce((x, d) => x * d, 1) * l.m * l.n;
  for (let i = 0; i < total; i++) {
    const v = out[i]! + bias[i % l.n]!;
    out[i] = act === 1 && !(v > 0) ? 0 : v;
  }
}

/** Fused sigmoid + BCE from logits over [rows, heads]: per-head weighted loss sums and dlogits. */
export function bceWithLogitsRef(x: Data, y: Data, w: Data, lossSum: Data, dlogits: Data, rows: number, heads: number): void {
  for (let h = 0; h < heads; h++) {
    let acc = 0;
    for (let b = 0; b < rows; b++) {
      const i = b * heads + h, xi = x[i]!, yi = y[i]!, wi = w[i]!;
      acc += wi * (Math.max(xi, 0) - xi * yi + Math.log1p(Math.exp(-Math.abs(xi))));
      dlogits[i] = wi * (sigmoid(xi) - yi);
    }
    lossSum[h] = acc;
  }
}

function rowStats(x: Data, base: number, dim: number, eps: number): { mean: number; rstd: number } {
  let s = 0;
  for (let j = 0; j < dim; j++) s += x[base + j]!;
  const mean = s / dim;
  let v = 0;
  for (let j = 0; j < dim; j++) v += (x[base + j]! - mean) ** 2;
  return { mean, rstd: 1 / Math.sqrt(v / dim + eps) };
}

/** Strides and sizes of out[b] = P[b]·(Q[b]ᵀ·R[b]) (fm_interaction.wgsl): P, Q [n, m], R [n, k]; batch stride 0 = shared. */
export interface FmLayout { batch: number; n: number; m: number; k: number; pStride: number; qStride: number; rStride: number }

/** out[b] (+)= P[b]·(Q[b]ᵀ·R[b]), with T = Qᵀ·R formed first, each sum in index order (as the kernel). */
export function fmInteractionRef(pm: Data, qm: Data, rm: Data, out: Data, l: FmLayout, accumulate: boolean): void {
  const t = new Float64Array(l.m * l.k);
  for (let b = 0; b < l.batch; b++) {
    const p0 = b * l.pStride, q0 = b * l.qStride, r0 = b * l.rStride, o0 = b * l.n * l.k;
    for (let c = 0; c < l.m; c++) {
      for (let j = 0; j < l.k; j++) {
        let acc = 0;
        for (let i = 0; i < l.n; i++) acc += qm[q0 + i * l.m + c]! * rm[r0 + i * l.k + j]!;
        t[c * l.k + j] = acc;
      }
    }
    for (let i = 0; i < l.n; i++) {
      for (let j = 0; j < l.k; j++) {
        let acc = 0;
        for (let c = 0; c < l.m; c++) acc += pm[p0 + i * l.m + c]! * t[c * l.k + j]!;
        out[o0 + i * l.k + j] = (accumulate ? out[o0 + i * l.k + j]! : 0) + acc;
      }
    }
  }
}

/** Strides and sizes of the FM backward (fm_interaction_backward_vec4.wgsl): X [n, d], Y and dG [n, k] per sample; Y's stride 0 = shared. */
export interface FmBackwardLayout { batch: number; n: number; d: number; k: number; xStride: number; yStride: number; gStride: number }

/**
 * The FM backward of G = X·(Xᵀ·Y) given dG, as the three products it fuses: dX = dG·(Yᵀ·X) + Y·(dGᵀ·X) and
 * dY[b] = X·(Xᵀ·dG) per sample ([batch, n, k]; summed over the batch by the op when Y is shared).
 */
export function fmInteractionBackwardRef(x: Data, y: Data, g: Data, dx: Data, dy: Data, l: FmBackwardLayout): void {
  const { batch, n, d, k } = l;
  fmInteractionRef(g, y, x, dx, { batch, n, m: k, k: d, pStride: l.gStride, qStride: l.yStride, rStride: l.xStride }, false);
  fmInteractionRef(y, g, x, dx, { batch, n, m: k, k: d, pStride: l.yStride, qStride: l.gStride, rStride: l.xStride }, true);
  fmInteractionRef(x, x, g, dy, { batch, n, m: d, k, pStride: l.xStride, qStride: l.xStride, rStride: l.gStride }, false);
}

/** LayerNorm over the last axis (biased variance). */
export function layerNormRef(x: Data, gamma: Data, beta: Data, y: Data, rows: number, dim: number, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const { mean, rstd } = rowStats(x, r * dim, dim, eps);
    for (let j = 0; j < dim; j++) y[r * dim + j] = (x[r * dim + j]! - mean) * rstd * gamma[j]! + beta[j]!;
  }
}

/** dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·gamma; dyxhat = dy·x̂. */
export function layerNormBackwardRef(x: Data, gamma: Data, dy: Data, dx: Data, dyxhat: Data, rows: number, dim: number, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    const { mean, rstd } = rowStats(x, base, dim, eps);
    let sg = 0, sgx = 0;
    for (let j = 0; j < dim; j++) {
      const g = dy[base + j]! * gamma[j]!;
      sg += g;
      sgx += g * (x[base + j]! - mean) * rstd;
    }
    for (let j = 0; j < dim; j++) {
      const xhat = (x[base + j]! - mean) * rstd;
      dx[base + j] = rstd * (dy[base + j]! * gamma[j]! - sg / dim - xhat * (sgx / dim));
      dyxhat[base + j] = dy[base + j]! * xhat;
    }
  }
}

/** Embedding-bag gather: out[i] = scale_i · Σ table[rows[e]] over e in offsets[i]..offsets[i+1]. */
export function embeddingBagRef(table: Data, rows: Data, offsets: Data, out: Data, bags: number, dim: number, mean: boolean): void {
  for (let i = 0; i < bags; i++) {
    const start = offsets[i]!, end = offsets[i + 1]!;
    for (let d = 0; d < dim; d++) {
      let acc = 0;
      for (let e = start; e < end; e++) acc += table[rows[e]! * dim + d]!;
      out[i * dim + d] = mean && end > start ? acc / (end - start) : acc;
    }
  }
}

/** Row-sparse embedding-bag gradient, summing each unique row's segment in sorted order. */
export function embeddingBagBackwardRef(dout: Data, seg: Data, entryBag: Data, offsets: Data, values: Data, unique: number, dim: number, mean: boolean): void {
  for (let u = 0; u < unique; u++) {
    for (let d = 0; d < dim; d++) {
      let acc = 0;
      for (let e = seg[u]!; e < seg[u + 1]!; e++) {
        const bag = entryBag[e]!;
        const g = dout[bag * dim + d]!;
        acc += mean ? g / Math.max(offsets[bag + 1]! - offsets[bag]!, 1) : g;
      }
      values[u * dim + d] = acc;
    }
  }
}

// Row-sparse kernels skip rows past the table: a LookupFeed pads its gradient rows with them.
export function scatterRowsRef(values: Data, rows: Data, dense: Data, unique: number, dim: number): void {
  for (let u = 0; u < unique; u++) {
    if ((rows[u]! + 1) * dim > dense.length) continue;
    for (let d = 0; d < dim; d++) dense[rows[u]! * dim + d] = values[u * dim + d]!;
  }
}

/** Per-cohort histograms of values in [0, 1] (see shaders/histogram.wgsl for the binning rules). */
export function histogramRef(values: Data, cohorts: Data, counts: Data, n: number, numCohorts: number, bins: number): void {
  for (let i = 0; i < n; i++) {
    const v = values[i]!, c = cohorts[i]!;
    if (Number.isNaN(v) || c >= numCohorts) continue;
    const k = Math.min(Math.floor(Math.min(Math.max(v, 0), 1) * bins), bins - 1);
    counts[c * bins + k]!++;
  }
}

/** flags[slot] = min(flags[slot], first i < n with x[i] NaN or ±Inf) (the NaN/Inf guard). */
export function firstNonFiniteRef(x: Data, flags: Data, n: number, slot: number): void {
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i]!)) {
      flags[slot] = Math.min(flags[slot]!, i);
      return;
    }
  }
}

/** The C×C matrices of symmetric KL, JS distance, Wasserstein-1 and cosine distance ([4, C, C]). */
export function divergencesRef(counts: Data, out: Data, numCohorts: number, bins: number, eps: number, blocks = 1): void {
  const cc = numCohorts * numCohorts;
  for (let b = 0; b < blocks; b++) {
    divergencesBlock(counts.subarray(b * numCohorts * bins, (b + 1) * numCohorts * bins), out.subarray(b * 4 * cc, (b + 1) * 4 * cc), numCohorts, bins, eps);
  }
}

function divergencesBlock(counts: Data, out: Data, numCohorts: number, bins: number, eps: number): void {
  const cc = numCohorts * numCohorts;
  const dist = (c: number): number[] => {
    let t = 0;
    for (let k = 0; k < bins; k++) t += counts[c * bins + k]!;
    return Array.from({ length: bins }, (_, k) => counts[c * bins + k]! / t);
  };
  for (let i = 0; i < numCohorts; i++) {
    for (let j = 0; j < numCohorts; j++) {
      const P = dist(i), Q = dist(j), t = i * numCohorts + j;
      if (P.some(Number.isNaN) || Q.some(Number.isNaN)) {
        for (let m = 0; m < 4; m++) out[m * cc + t] = NaN;
        continue;
      }
      const smooth = 1 + bins * eps;
      let kl = 0, js = 0, w1 = 0, fp = 0, fq = 0, dot = 0, np = 0, nq = 0;
      for (let k = 0; k < bins; k++) {
        const pk = P[k]!, qk = Q[k]!, ps = (pk + eps) / smooth, qs = (qk + eps) / smooth, m = (pk + qk) / 2;
        kl += (ps - qs) * Math.log(ps / qs);
        if (pk > 0) js += 0.5 * pk * Math.log(pk / m);
        if (qk > 0) js += 0.5 * qk * Math.log(qk / m);
        fp += pk;
        fq += qk;
        w1 += Math.abs(fp - fq);
        dot += pk * qk;
        np += pk * pk;
        nq += qk * qk;
      }
      out[t] = kl;
      out[cc + t] = Math.sqrt(Math.max(js, 0));
      out[2 * cc + t] = w1 / bins;
      out[3 * cc + t] = 1 - dot / Math.sqrt(np * nq);
    }
  }
}

/** Twin of peak_fma over vec4s stored as 4 floats each (see shaders/peak.wgsl). */
export function peakFmaRef(a: Data, out: Data, n: number, iters: number): void {
  for (let i = 0; i < 4 * n; i++) {
    const s = a[i]!;
    let sum = 0;
    for (let r = 0; r < 8; r++) {
      let x = s + r;
      for (let it = 0; it < iters; it++) x = x * 0.999 + s;
      sum += x;
    }
    out[i] = sum;
  }
}

export interface AdamHyper { lr: number; beta1: number; beta2: number; eps: number; wd: number; decoupled: boolean; bc1: number; bc2: number }

function adamElement(param: Data, m: Data, v: Data, i: number, grad: number, h: AdamHyper): void {
  let w = param[i]!, g = grad;
  if (h.decoupled) w *= 1 - h.lr * h.wd;
  else g += h.wd * w;
  const mi = h.beta1 * m[i]! + (1 - h.beta1) * g;
  const vi = h.beta2 * v[i]! + (1 - h.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = w - h.lr * (mi / h.bc1) / (Math.sqrt(vi / h.bc2) + h.eps);
}

/** Fused Adam / AdamW step in place (see shaders/adam.wgsl). */
export function adamRef(grad: Data, param: Data, m: Data, v: Data, n: number, h: AdamHyper): void {
  for (let i = 0; i < n; i++) adamElement(param, m, v, i, grad[i]!, h);
}

/** Adam on the rows of a row-sparse gradient only. */
export function adamRowsRef(values: Data, rows: Data, param: Data, m: Data, v: Data, n: number, dim: number, h: AdamHyper): void {
  for (let j = 0; j < n; j++) {
    const i = rows[Math.floor(j / dim)]! * dim + (j % dim);
    if (i < param.length) adamElement(param, m, v, i, values[j]!, h);
  }
}

/** Row-wise Adagrad: one accumulator per row, updated with the row's mean squared gradient. */
export function adagradRowsRef(values: Data, rows: Data, param: Data, state: Data, unique: number, dim: number, lr: number, eps: number): void {
  for (let u = 0; u < unique; u++) {
    const r = rows[u]!;
    if (r >= state.length || (r + 1) * dim > param.length) continue;
    let sq = 0;
    for (let d = 0; d < dim; d++) sq += values[u * dim + d]! ** 2;
    state[r] = state[r]! + sq / dim;
    const step = lr / (Math.sqrt(state[r]!) + eps);
    for (let d = 0; d < dim; d++) param[r * dim + d] = param[r * dim + d]! - step * values[u * dim + d]!;
  }
}

/** SGD with momentum in place (see shaders/sgd.wgsl). */
export function sgdRef(grad: Data, param: Data, velocity: Data, n: number, lr: number, momentum: number, wd: number): void {
  for (let i = 0; i < n; i++) {
    const v = momentum * velocity[i]! + grad[i]! + wd * param[i]!;
    velocity[i] = v;
    param[i] = param[i]! - lr * v;
  }
}
