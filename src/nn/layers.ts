/**
 * Basic layers: Linear, LayerNorm, MLP. Inputs are [..., features]; the leading axes are batch axes.
 */
import type { Backend } from '../backend/index.js';
import { add, gelu, layerNorm, linear, matmul, mul, relu, silu } from '../ops.js';
import { tensor } from '../create.js';
import { mulberry32 } from '../random.js';
import { Tensor, TensorError } from '../tensor.js';
import { initTensor, type Init } from './init.js';
import { Module, beginBuild, endBuild } from './module.js';

export interface LayerOptions { seed?: number; backend?: Backend }

/** A layer's input must be a usable f32 tensor; the error names the layer. */
export function checkInput(what: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new TensorError(`${what}: input must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  x.assertUsable(`${what}: input`);
  if (x.dtype !== 'f32') throw new TensorError(`${what}: input must be f32, got ${x.describe()}`);
}

function checkFeatures(what: string, x: Tensor, features: number): void {
  checkInput(what, x);
  if (x.rank < 1 || x.shape[x.rank - 1] !== features) throw new TensorError(`${what}: expected input [..., ${features}], got ${x.describe()}`);
}

/** y = x·W + b with W [in, out] (Xavier-uniform by default) and b [out] (zeros). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LayerOptions & { bias?: boolean; init?: Init } = {}) {
    super(opts.backend);
    const mark = beginBuild();
    let built = false;
    try {
      const init = opts.init ?? { kind: 'xavierUniform', fanIn: inFeatures, fanOut: outFeatures };
      this.weight = this.param('weight', initTensor([inFeatures, outFeatures], init, opts.seed ?? 0, this.backend));
      this.bias = opts.bias === false ? null : this.param('bias', initTensor([outFeatures], { kind: 'constant', value: 0 }, 0, this.backend));
      built = true;
    } finally {
      endBuild(mark, built);
    }
  }

  forward(x: Tensor, activation: 'none' | 'relu' = 'none'): Tensor {
    checkFeatures('Linear', x, this.inFeatures);
    // One op (and one forward dispatch) for product, bias and relu; a rank-1 input keeps matmul's own error.
    if (this.bias && x.rank >= 2) return linear(x, this.weight, this.bias, activation);
    const y = matmul(x, this.weight);
    const z = this.bias ? add(y, this.bias) : y;
    return activation === 'relu' ? relu(z) : z;
  }
}

/** LayerNorm over the last axis with learned gamma (ones) and beta (zeros). */
export class LayerNorm extends Module {
  readonly gamma: Tensor;
  readonly beta: Tensor;

  constructor(readonly features: number, opts: LayerOptions & { eps?: number } = {}) {
    super(opts.backend);
    this.gamma = this.param('gamma', initTensor([features], { kind: 'constant', value: 1 }, 0, this.backend));
    this.beta = this.param('beta', initTensor([features], { kind: 'constant', value: 0 }, 0, this.backend));
    this.eps = opts.eps ?? 1e-5;
  }

  private readonly eps: number;

  forward(x: Tensor): Tensor {
    checkFeatures('LayerNorm', x, this.features);
    return layerNorm(x, this.gamma, this.beta, this.eps);
  }
}

export type Activation = 'relu' | 'gelu' | 'silu' | 'none';
const activations: Record<Activation, (x: Tensor) => Tensor> = { relu, gelu, silu, none: (x) => x };

/**
 * MLP: Linear layers of the given sizes ([in, hidden…, out]) with an activation (and optional LayerNorm,
 * and dropout in training mode) after every layer but the last. Layers are named `layers.i` (`norms.i`).
 * Dropout masks come from a seeded stream owned by the module: the same seed and call sequence give the
 * same masks on every backend; kept units are scaled by 1/(1 − p) (inverted dropout), eval mode is identity.
 */
export class MLP extends Module {
  readonly layers: Linear[];
  readonly norms: LayerNorm[];

  constructor(readonly sizes: readonly number[], opts: LayerOptions & { activation?: Activation; layerNorm?: boolean; init?: 'xavier' | 'he';
    dropout?: number } = {}) {
    super(opts.backend);
    const mark = beginBuild();
    let built = false;
    try {
      this.dropout = opts.dropout ?? 0;
      if (!(this.dropout >= 0 && this.dropout < 1)) throw new TensorError(`MLP: dropout must be in [0, 1), got ${opts.dropout}`);
      this.masks = mulberry32(((opts.seed ?? 0) * 7919 + 17) >>> 0);
      if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) throw new TensorError(`MLP: sizes must list at least two positive ` +
        `integers, got ${JSON.stringify(sizes)}`);
      this.activation = opts.activation ?? 'relu';
      const seed = opts.seed ?? 0;
      this.layers = sizes.slice(1).map((out, i) => this.child(`layers.${i}`, new Linear(sizes[i]!, out, {
        backend: this.backend, seed: seed * 1009 + i,
        init: opts.init === 'he' ? { kind: 'heNormal', fanIn: sizes[i]! } : undefined,
      })));
      this.norms = opts.layerNorm ? sizes.slice(1, -1).map((h, i) => this.child(`norms.${i}`, new LayerNorm(h, { backend: this.backend }))) : [];
      built = true;
    } finally {
      endBuild(mark, built);
    }
  }

  private readonly activation: Activation;
  readonly dropout: number;
  private readonly masks: () => number;

  forward(x: Tensor): Tensor {
    let h = x;
    this.layers.forEach((layer, i) => {
      const hidden = i < this.layers.length - 1;
      // relu straight after the product is fused into it; a LayerNorm in between, or another activation, runs on its own.
      const fused = hidden && this.activation === 'relu' && !this.norms[i];
      h = layer.forward(h, fused ? 'relu' : 'none');
      if (hidden) {
        if (this.norms[i]) h = this.norms[i]!.forward(h);
        if (!fused) h = activations[this.activation](h);
        if (this.training && this.dropout > 0) h = mul(h, this.dropoutMask(h.shape));
      }
    });
    return h;
  }

  private dropoutMask(shape: readonly number[]): Tensor {
    const keepScale = 1 / (1 - this.dropout);
    const n = shape.reduce((a, d) => a * d, 1);
    const mask = new Float32Array(n);
    for (let i = 0; i < n; i++) mask[i] = this.masks() < this.dropout ? 0 : keepScale;
    return tensor(mask, shape, { backend: this.backend });
  }
}
