/**
 * Interaction modules over field embeddings X [B, n, d]; each returns [B, m, d] (m output fields).
 *   FmAttention       G = X·(Xᵀ·Y), Y a learned [n, k] parameter or generated per sample by an attention
 *                     MLP from LN(vec X) (optionally plus a learned Y₀); vec(G) → LayerNorm → MLP → [B, m, d].
 *   LinearCompress    W·X over the field axis, W [m, n].
 *   CrossNet          DCN-v2 cross layers on x0 = vec(X): x_{l+1} = x0 ⊙ (W_l·x_l + b_l) + x_l, W full or low-rank U·Vᵀ.
 *   DotInteraction    DLRM: the upper triangle (i < j) of X·Xᵀ → MLP → [B, m, d].
 *   FieldAttention    multi-head self-attention over fields: softmax(Q·Kᵀ/√dk)·V per head, then a projection to d.
 * The DHEN layer (dhen.ts) ensembles them.
 */
import { add, concat, fmInteraction, matmul, mul, mulScalar, permute, reshape, slice, softmax } from '../ops.js';
import { TensorError, type Tensor } from '../tensor.js';
import { initTensor } from './init.js';
import { LayerNorm, Linear, MLP, checkInput, type Activation, type LayerOptions } from './layers.js';
import { Module, beginBuild, endBuild } from './module.js';

export interface Interaction extends Module {
  readonly outFields: number;
  forward(x: Tensor): Tensor;
}

function checkX(what: string, x: Tensor, n: number, d: number): number {
  checkInput(what, x);
  if (x.rank !== 3 || x.shape[1] !== n || x.shape[2] !== d) throw new TensorError(`${what}: expected X [batch, ${n}, ${d}], got ${x.describe()}`);
  return x.shape[0]!;
}

export interface FmAttentionOptions extends LayerOptions {
  /** Columns of Y. */
  k: number;
  /** Y from a learned parameter ('learned'), or per sample from an attention MLP ('generated'). */
  y?: 'learned' | 'generated';
  /** With 'generated': add a learned Y₀ to the generated Y. */
  y0?: boolean;
  /** Hidden sizes of the attention MLP ('generated'). */
  attentionHidden?: number[];
  /** Hidden sizes of the output MLP (vec G → vec of m·d). */
  hidden?: number[];
  outFields?: number;
  activation?: Activation;
}

export class FmAttention extends Module implements Interaction {
  readonly outFields: number;
  readonly y: Tensor | null;
  readonly attention: MLP | null;
  readonly attentionNorm: LayerNorm | null;
  readonly normG: LayerNorm;
  readonly mlp: MLP;
  /** The Y of the last forward ([n, k] learned, or the generated [B, n, k] batch), for diagnostics. */
  lastY: Tensor | null = null;

  constructor(readonly fields: number, readonly dim: number, readonly opts: FmAttentionOptions) {
    super(opts.backend);
    const mark = beginBuild();
    let built = false;
    try {
      const seed = opts.seed ?? 0, k = opts.k;
      this.outFields = opts.outFields ?? fields;
      const generated = (opts.y ?? 'learned') === 'generated';
      this.y = !generated || opts.y0 ? this.param('y', initTensor([fields, k], { kind: 'normal', std: 1 / Math.sqrt(fields) }, seed, this.backend)) : null;
      this.attentionNorm = generated ? this.child('attention_norm', new LayerNorm(fields * dim, { backend: this.backend })) : null;
      this.attention = generated ? this.child('attention', new MLP([fields * dim, ...(opts.attentionHidden ?? [64]), fields * k],
        { backend: this.backend, seed: seed + 1, activation: opts.activation })) : null;
      this.normG = this.child('norm', new LayerNorm(fields * k, { backend: this.backend }));
      this.mlp = this.child('mlp', new MLP([fields * k, ...(opts.hidden ?? []), this.outFields * dim],
        { backend: this.backend, seed: seed + 2, activation: opts.activation }));
      built = true;
    } finally {
      endBuild(mark, built);
    }
  }

  forward(x: Tensor): Tensor {
    const b = checkX('FmAttention', x, this.fields, this.dim);
    let y: Tensor;
    if (this.attention) {
      const generated = reshape(this.attention.forward(this.attentionNorm!.forward(reshape(x, [b, this.fields * this.dim]))), [b, this.fields, this.opts.k]);
      y = this.y ? add(generated, this.y) : generated;
    } else {
      y = this.y!;
    }
    this.lastY = y;
    const g = fmInteraction(x, y);
    return reshape(this.mlp.forward(this.normG.forward(reshape(g, [b, this.fields * this.opts.k]))), [b, this.outFields, this.dim]);
  }
}

export class LinearCompress extends Module implements Interaction {
  readonly weight: Tensor;
  constructor(readonly fields: number, readonly dim: number, readonly outFields: number, opts: LayerOptions = {}) {
    super(opts.backend);
    this.weight = this.param('weight', initTensor([outFields, fields], { kind: 'xavierUniform', fanIn: fields, fanOut: outFields },
      opts.seed ?? 0, this.backend));
  }

  forward(x: Tensor): Tensor {
    checkX('LinearCompress', x, this.fields, this.dim);
    return matmul(this.weight, x);
  }
}

export class CrossNet extends Module implements Interaction {
  readonly outFields: number;
  readonly layers: { w: Linear | null; u: Tensor | null; v: Tensor | null; b: Tensor }[];

  constructor(readonly fields: number, readonly dim: number, opts: LayerOptions & { layers?: number; rank?: number } = {}) {
    super(opts.backend);
    const mark = beginBuild();
    let built = false;
    try {
      this.outFields = fields;
      const D = fields * dim, seed = opts.seed ?? 0;
      this.layers = Array.from({ length: opts.layers ?? 2 }, (_, l) => {
        if (opts.rank) {
          const init = { kind: 'xavierUniform' as const, fanIn: D, fanOut: opts.rank };
          return {
            w: null,
            u: this.param(`cross.${l}.u`, initTensor([D, opts.rank], init, seed + 3 * l, this.backend)),
            v: this.param(`cross.${l}.v`, initTensor([D, opts.rank], init, seed + 3 * l + 1, this.backend)),
            b: this.param(`cross.${l}.b`, initTensor([D], { kind: 'constant', value: 0 }, 0, this.backend)),
          };
        }
        return { w: this.child(`cross.${l}`, new Linear(D, D, { backend: this.backend, seed: seed + l, bias: false })), u: null, v: null,
          b: this.param(`cross.${l}.b`, initTensor([D], { kind: 'constant', value: 0 }, 0, this.backend)) };
      });
      built = true;
    } finally {
      endBuild(mark, built);
    }
  }

  forward(x: Tensor): Tensor {
    const b = checkX('CrossNet', x, this.fields, this.dim);
    const x0 = reshape(x, [b, this.fields * this.dim]);
    let xl = x0;
    for (const layer of this.layers) {
      const wx = layer.w ? layer.w.forward(xl) : matmul(matmul(xl, layer.v!), layer.u!, { transB: true });
      xl = add(mul(x0, add(wx, layer.b)), xl);
    }
    return reshape(xl, [b, this.fields, this.dim]);
  }
}

export class DotInteraction extends Module implements Interaction {
  readonly outFields: number;
  readonly mlp: MLP;

  constructor(readonly fields: number, readonly dim: number, opts: LayerOptions & { hidden?: number[]; outFields?: number; activation?: Activation } = {}) {
    super(opts.backend);
    if (fields < 2) throw new TensorError(`DotInteraction: needs at least 2 fields, got ${fields}`);
    this.outFields = opts.outFields ?? fields;
    const pairs = (fields * (fields - 1)) / 2;
    this.mlp = this.child('mlp', new MLP([pairs, ...(opts.hidden ?? []), this.outFields * dim],
      { backend: this.backend, seed: opts.seed, activation: opts.activation }));
  }

  forward(x: Tensor): Tensor {
    const b = checkX('DotInteraction', x, this.fields, this.dim);
    const z = matmul(x, x, { transB: true }); // [B, n, n]
    // Row i contributes z[i, i+1 .. n): slices keep the gradient exact and need no index tensors.
    const rows = Array.from({ length: this.fields - 1 }, (_, i) => reshape(slice(z, [0, i, i + 1], [b, 1, this.fields - i - 1]), [b, this.fields - i - 1]));
    return reshape(this.mlp.forward(concat(rows, 1)), [b, this.outFields, this.dim]);
  }
}

export class FieldAttention extends Module implements Interaction {
  readonly outFields: number;
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly output: Linear;
  readonly heads: number;
  readonly headDim: number;

  constructor(readonly fields: number, readonly dim: number, opts: LayerOptions & { heads?: number; headDim?: number } = {}) {
    super(opts.backend);
    const mark = beginBuild();
    let built = false;
    try {
      this.outFields = fields;
      this.heads = opts.heads ?? 2;
      this.headDim = opts.headDim ?? Math.max(1, Math.floor(dim / this.heads));
      const inner = this.heads * this.headDim, seed = opts.seed ?? 0, backend = this.backend;
      this.query = this.child('query', new Linear(dim, inner, { backend, seed: seed + 1, bias: false }));
      this.key = this.child('key', new Linear(dim, inner, { backend, seed: seed + 2, bias: false }));
      this.value = this.child('value', new Linear(dim, inner, { backend, seed: seed + 3, bias: false }));
      this.output = this.child('output', new Linear(inner, dim, { backend, seed: seed + 4 }));
      built = true;
    } finally {
      endBuild(mark, built);
    }
  }

  forward(x: Tensor): Tensor {
    const b = checkX('FieldAttention', x, this.fields, this.dim);
    const split = (t: Tensor): Tensor => permute(reshape(t, [b, this.fields, this.heads, this.headDim]), [0, 2, 1, 3]); // [B, h, n, dk]
    const [q, k, v] = [this.query, this.key, this.value].map((l) => split(l.forward(x))) as [Tensor, Tensor, Tensor];
    const attention = softmax(mulScalar(matmul(q, k, { transB: true }), 1 / Math.sqrt(this.headDim)), -1); // [B, h, n, n]
    const heads = permute(matmul(attention, v), [0, 2, 1, 3]); // [B, n, h, dk]
    return this.output.forward(reshape(heads, [b, this.fields, this.heads * this.headDim]));
  }
}
