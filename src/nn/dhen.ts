/**
 * DHEN (Deep and Hierarchical Ensemble Network) over field embeddings, built from a plain JSON config.
 *   layer:  X_{l+1} = LayerNorm_d(Ensemble_i(module_i(X_l)) + Shortcut(X_l))
 *           ensemble 'sum' | 'concat' (concatenate output fields, then LinearCompress back to n fields) |
 *           'weighted' (softmax of learned logits over modules); shortcut 'identity' | 'project' (LinearCompress n → n).
 *   model:  ids → Embeddings → [dense projection as extra fields] → L layers → heads (MLPs on vec(X_L)).
 * Heads: 'primary' always; extra named heads (C2AL's 'head' and 'tail') are training-only: forInference()
 * returns the same model without them (same parameters, same cost as the baseline).
 */
import type { Backend } from '../backend/index.js';
import { add, concat, mul, reshape, softmax, sum } from '../ops.js';
import { Tensor, TensorError, disposeOnThrow } from '../tensor.js';
import { Embeddings, EmbeddingsFeed } from './embedding.js';
import { initTensor } from './init.js';
import { LayerNorm, Linear, MLP, checkInput, type Activation } from './layers.js';
import { Module, beginBuild, endBuild } from './module.js';
import { CrossNet, DotInteraction, FieldAttention, FmAttention, LinearCompress, type Interaction } from './interactions.js';
import type { EmbeddingField } from '../embedding-plan.js';

export type InteractionConfig =
  | { type: 'fm'; k: number; y?: 'learned' | 'generated'; y0?: boolean; hidden?: number[]; attentionHidden?: number[] }
  | { type: 'linearCompress'; fields?: number }
  | { type: 'cross'; layers?: number; rank?: number }
  | { type: 'dot'; hidden?: number[]; fields?: number }
  | { type: 'attention'; heads?: number; headDim?: number };

export interface DhenLayerConfig {
  modules: InteractionConfig[];
  ensemble?: 'sum' | 'concat' | 'weighted';
  shortcut?: 'identity' | 'project';
}

export interface DhenConfig {
  fields: EmbeddingField[];
  dim: number;
  /** Dense (numeric) features, projected to `denseFields` extra field embeddings. */
  dense?: number;
  denseFields?: number;
  layers: DhenLayerConfig[];
  /** The primary head's MLP on vec(X_L); dropout after each hidden layer while training. */
  head: { hidden: number[]; activation?: Activation; dropout?: number };
  /** Extra training-only heads (C2AL: ['head', 'tail']). */
  auxHeads?: string[];
  /** The auxiliary heads' MLP (default: the same as `head`); smaller heads cost less to train. */
  auxHead?: { hidden: number[]; activation?: Activation; dropout?: number };
  seed?: number;
}

const CONFIG_KEYS: Record<string, readonly string[]> = {
  model: ['fields', 'dim', 'dense', 'denseFields', 'layers', 'head', 'auxHeads', 'auxHead', 'seed'],
  layer: ['modules', 'ensemble', 'shortcut'],
  fm: ['type', 'k', 'y', 'y0', 'hidden', 'attentionHidden'],
  linearCompress: ['type', 'fields'],
  cross: ['type', 'layers', 'rank'],
  dot: ['type', 'hidden', 'fields'],
  attention: ['type', 'heads', 'headDim'],
  head: ['hidden', 'activation', 'dropout'],
};

function fail(msg: string): never {
  throw new TensorError(`DHEN config: ${msg}`);
}

const render = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : v === undefined ? 'nothing' : typeof v === 'object'
  && v !== null ? JSON.stringify(v) : String(v));

function checkObject(path: string, v: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail(`${path} must be an object, got ${render(v)}`);
  const unknown = Object.keys(v).filter((k) => !allowed.includes(k));
  if (unknown.length) fail(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} in ${path} ` +
    `(allowed: ${allowed.join(', ')})`);
  return v as Record<string, unknown>;
}

function positiveInt(path: string, v: unknown, optional = true): void {
  if (v === undefined && optional) return;
  if (!(Number.isInteger(v) && (v as number) > 0)) fail(`${path} must be a positive integer, got ${render(v)}`);
}

function sizes(path: string, v: unknown): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) fail(`${path} must be an array of positive integers, got ${render(v)}`);
  Array.from(v).forEach((x, i) => positiveInt(`${path}[${i}]`, x, false));
}

function oneOf(path: string, v: unknown, allowed: readonly unknown[]): void {
  if (v !== undefined && !allowed.includes(v)) fail(`${path} must be one of ${allowed.map(render).join(', ')}, got ${render(v)}`);
}

function dropoutRate(path: string, v: unknown): void {
  if (v !== undefined && !(typeof v === 'number' && v >= 0 && v < 1)) fail(`${path} must be a number in [0, 1), got ${render(v)}`);
}

/** Rejects unknown keys, missing parts and impossible values, naming the path of the offending value. */
export function validateConfig(c: DhenConfig): void {
  checkObject('the model', c, CONFIG_KEYS.model!);
  if (!Array.isArray(c.fields) || c.fields.length === 0) fail('fields must list at least one {name, vocab}');
  Array.from(c.fields).forEach((f, i) => {
    checkObject(`fields[${i}]`, f, ['name', 'vocab']);
    if (typeof f.name !== 'string') fail(`fields[${i}].name must be a string, got ${render(f.name)}`);
    if (!(Number.isInteger(f.vocab) && f.vocab > 0)) fail(`fields[${i}] ('${f.name}') needs a positive integer vocab, got ${render(f.vocab)}`);
  });
  if (!(Number.isInteger(c.dim) && c.dim > 0)) fail(`dim must be a positive integer, got ${render(c.dim)}`);
  positiveInt('dense', c.dense);
  positiveInt('denseFields', c.denseFields);
  if (c.denseFields !== undefined && !c.dense) fail('denseFields is set but dense (the number of dense features) is not');
  if (c.seed !== undefined && !Number.isFinite(c.seed)) fail(`seed must be a finite number, got ${render(c.seed)}`);
  if (!Array.isArray(c.layers) || c.layers.length === 0) fail('layers must list at least one layer');
  Array.from(c.layers).forEach((l, i) => {
    checkObject(`layers[${i}]`, l, CONFIG_KEYS.layer!);
    if (!Array.isArray(l.modules) || !l.modules.length) fail(`layers[${i}].modules is empty`);
    oneOf(`layers[${i}].ensemble`, l.ensemble, ['sum', 'concat', 'weighted']);
    oneOf(`layers[${i}].shortcut`, l.shortcut, ['identity', 'project']);
    Array.from(l.modules).forEach((m, j) => {
      const path = `layers[${i}].modules[${j}]`;
      const keys = m && typeof m === 'object' ? CONFIG_KEYS[(m as { type: string }).type] : undefined;
      if (!keys || (m as { type: string }).type === 'head' || (m as { type: string }).type === 'model' || (m as { type: string }).type === 'layer') {
        fail(`${path}.type ${render((m as { type?: unknown } | null)?.type)} is not one of fm, linearCompress, cross, dot, attention`);
      }
      checkObject(path, m, keys);
      switch (m.type) {
        case 'fm':
          positiveInt(`${path}.k`, m.k, false);
          oneOf(`${path}.y`, m.y, ['learned', 'generated']);
          oneOf(`${path}.y0`, m.y0, [true, false]);
          sizes(`${path}.hidden`, m.hidden);
          sizes(`${path}.attentionHidden`, m.attentionHidden);
          break;
        case 'linearCompress': positiveInt(`${path}.fields`, m.fields); break;
        case 'cross': positiveInt(`${path}.layers`, m.layers); positiveInt(`${path}.rank`, m.rank); break;
        case 'dot': sizes(`${path}.hidden`, m.hidden); positiveInt(`${path}.fields`, m.fields); break;
        case 'attention': positiveInt(`${path}.heads`, m.heads); positiveInt(`${path}.headDim`, m.headDim); break;
        default: m satisfies never;
      }
    });
  });
  const head = (name: 'head' | 'auxHead', h: DhenConfig['head']): void => {
    checkObject(name, h, CONFIG_KEYS.head!);
    if (!Array.isArray(h.hidden)) fail(`${name}.hidden must be an array of positive integers (may be empty), got ${render(h.hidden)}`);
    sizes(`${name}.hidden`, h.hidden);
    oneOf(`${name}.activation`, h.activation, ['relu', 'gelu', 'silu', 'none']);
    dropoutRate(`${name}.dropout`, h.dropout);
  };
  head('head', c.head);
  if (c.auxHead !== undefined) head('auxHead', c.auxHead);
  if (c.auxHeads !== undefined) {
    if (!Array.isArray(c.auxHeads) || Array.from(c.auxHeads).some((h) => typeof h !== 'string'
      || h === '')) fail(`auxHeads must be an array of head names, got ${render(c.auxHeads)}`);
    for (const name of c.auxHeads) if (name === 'primary') fail("auxHeads cannot be named 'primary'");
    if (new Set(c.auxHeads).size !== c.auxHeads.length) fail(`auxHeads names repeat: ${render(c.auxHeads)}`);
  }
}

export class DhenLayer extends Module {
  readonly modules: Interaction[];
  readonly project: LinearCompress | null;
  readonly shortcut: LinearCompress | null;
  readonly weights: Tensor | null;
  readonly norm: LayerNorm;
  readonly ensemble: 'sum' | 'concat' | 'weighted';

  constructor(readonly fields: number, readonly dim: number, config: DhenLayerConfig, seed: number, backend?: Backend) {
    super(backend);
    const mark = beginBuild();
    let built = false;
    try {
      this.ensemble = config.ensemble ?? 'sum';
      this.modules = config.modules.map((m, i) => {
        const opts = { backend: this.backend, seed: seed * 101 + i };
        const name = `modules.${i}`;
        switch (m.type) {
          case 'fm': return this.child(`${name}.fm`, new FmAttention(fields, dim, { ...opts, ...m }));
          case 'linearCompress': return this.child(`${name}.compress`, new LinearCompress(fields, dim, m.fields ?? fields, opts));
          case 'cross': return this.child(`${name}.cross`, new CrossNet(fields, dim, { ...opts, layers: m.layers, rank: m.rank }));
          case 'dot': return this.child(`${name}.dot`, new DotInteraction(fields, dim, { ...opts, hidden: m.hidden, outFields: m.fields }));
          case 'attention': return this.child(`${name}.attention`, new FieldAttention(fields, dim, { ...opts, heads: m.heads, headDim: m.headDim }));
          default: return m satisfies never;
        }
      });
      const outFields = this.modules.map((m) => m.outFields);
      if (this.ensemble !== 'concat' && outFields.some((f) => f !== fields)) {
        throw new TensorError(`DHEN layer: ensemble '${this.ensemble}' needs every module to output ${fields} fields, got ` +
          `${outFields.join(', ')} (use 'concat')`);
      }
      this.project = this.ensemble === 'concat' ? this.child('project', new LinearCompress(outFields.reduce((a, b) => a + b, 0), dim, fields,
        { backend: this.backend, seed: seed * 101 + 50 })) : null;
      this.weights = this.ensemble === 'weighted' ? this.param('ensemble_logits',
        initTensor([this.modules.length, 1, 1], { kind: 'constant', value: 0 }, 0, this.backend)) : null;
      this.shortcut = config.shortcut === 'project' ? this.child('shortcut',
        new LinearCompress(fields, dim, fields, { backend: this.backend, seed: seed * 101 + 60 })) : null;
      this.norm = this.child('norm', new LayerNorm(dim, { backend: this.backend }));
      built = true;
    } finally {
      endBuild(mark, built);
    }
  }

  forward(x: Tensor): Tensor {
    const outs = this.modules.map((m) => m.forward(x));
    let ens: Tensor;
    if (this.ensemble === 'concat') ens = this.project!.forward(concat(outs, 1));
    else if (this.ensemble === 'weighted') {
      const w = softmax(this.weights!, 0); // [M, 1, 1]
      const [b] = x.shape as [number];
      ens = sum(mul(concat(outs.map((o) => reshape(o, [1, b, this.fields * this.dim])), 0), reshape(w, [this.modules.length, 1, 1])), 0);
      ens = reshape(ens, [b, this.fields, this.dim]);
    } else ens = outs.reduce((a, o) => add(a, o));
    return this.norm.forward(add(ens, this.shortcut ? this.shortcut.forward(x) : x));
  }
}

export interface DhenOutput {
  /** One logit per row for each head: 'primary' plus the auxiliary heads. */
  logits: Record<string, Tensor>;
  /** The shared representation vec(X_L) [B, fields·dim] the heads read. */
  representation: Tensor;
}

export class DhenModel extends Module {
  readonly embeddings: Embeddings;
  readonly denseProjection: Linear | null;
  readonly layers: DhenLayer[];
  readonly heads: Map<string, MLP>;
  readonly totalFields: number;

  constructor(readonly config: DhenConfig, backend?: Backend, shared?: { from: DhenModel; heads: string[] }) {
    super(backend ?? shared?.from.backend);
    const mark = beginBuild();
    let built = false;
    try {
      validateConfig(config);
      const seed = config.seed ?? 0, d = config.dim;
      const denseFields = config.dense ? config.denseFields ?? 1 : 0;
      this.totalFields = config.fields.length + denseFields;
      if (shared) {
        // A view over another model's modules: registers the same children, fewer heads.
        const f = shared.from;
        this.embeddings = this.child('embeddings', f.embeddings);
        this.denseProjection = f.denseProjection ? this.child('dense', f.denseProjection) : null;
        this.layers = f.layers.map((l, i) => this.child(`layers.${i}`, l));
        this.heads = new Map(shared.heads.map((h) => [h, this.child(`heads.${h}`, f.heads.get(h)!)]));
        built = true;
        return;
      }
      this.embeddings = this.child('embeddings', new Embeddings(config.fields, d, { backend: this.backend, seed }));
      this.denseProjection = config.dense ? this.child('dense', new Linear(config.dense, denseFields * d, { backend: this.backend, seed: seed + 1 })) : null;
      this.layers = config.layers.map((l, i) => this.child(`layers.${i}`, new DhenLayer(this.totalFields, d, l, seed + 10 + i, this.backend)));
      const spec = (h: string) => (h !== 'primary' && config.auxHead ? config.auxHead : config.head);
      this.heads = new Map(['primary', ...(config.auxHeads ?? [])].map((h, i) => [h, this.child(`heads.${h}`,
        new MLP([this.totalFields * d, ...spec(h).hidden, 1], { backend: this.backend, seed: seed + 100 + i, activation: spec(h).activation ?? 'relu',
          dropout: spec(h).dropout ?? 0 }))]));
      built = true;
    } finally {
      endBuild(mark, built);
    }
  }

  /**
   * ids [B, fields] (host array), dense [B, dense] (optional). Checked before anything runs; an empty batch
   * is refused. `observe` sees each layer's output as it is made ('embeddings', 'dense', 'layers.i',
   * 'heads.<name>'), e.g. for a FiniteGuard.
   */
  forward(ids: ArrayLike<number> | EmbeddingsFeed, dense?: Tensor, observe?: (layer: string, output: Tensor) => void): DhenOutput {
    const f = this.config.fields.length;
    const fed = ids instanceof EmbeddingsFeed;
    if (!fed && !(Array.isArray(ids) || (ArrayBuffer.isView(ids) && !(ids instanceof DataView)))) throw new TensorError(`DhenModel: ids must be an array ` +
      `or typed array of [batch, ${f}] ids, or a feed, got ${ids === null ? 'null' : typeof ids}`);
    const count = fed ? ids.batch * f : ids.length;
    if (count === 0) throw new TensorError(`DhenModel: empty batch (0 ids; expected [batch, ${f}] with batch >= 1)`);
    if (count % f !== 0) throw new TensorError(`DhenModel: ${count} ids do not form rows of ${f} fields`);
    const b = count / f;
    if (this.denseProjection) {
      if (dense === undefined) throw new TensorError(`DhenModel: the config has ${this.config.dense} dense features; pass them as ` +
        `[batch, ${this.config.dense}]`);
      checkInput('DhenModel: dense', dense);
      if (dense.rank !== 2 || dense.shape[0] !== b || dense.shape[1] !== this.config.dense) {
        throw new TensorError(`DhenModel: dense must be [${b}, ${this.config.dense}] (batch ${b} from ${count} ids), got ${dense.describe()}`);
      }
    } else if (dense !== undefined) {
      throw new TensorError(`DhenModel: dense features given (${dense instanceof Tensor ? dense.describe() : typeof dense}), but the config ` +
        `has none (set config.dense)`);
    }
    return disposeOnThrow(() => {
      let x = this.embeddings.forward(ids);
      observe?.('embeddings', x);
      if (this.denseProjection) {
        const projected = this.denseProjection.forward(dense!);
        observe?.('dense', projected);
        x = concat([x, reshape(projected, [b, this.totalFields - f, this.config.dim])], 1);
      }
      this.layers.forEach((layer, i) => {
        x = layer.forward(x);
        observe?.(`layers.${i}`, x);
      });
      const representation = reshape(x, [b, this.totalFields * this.config.dim]);
      const logits: Record<string, Tensor> = {};
      for (const [name, head] of this.heads) {
        logits[name] = reshape(head.forward(representation), [b]);
        observe?.(`heads.${name}`, logits[name]);
      }
      return { logits, representation };
    });
  }

  /** The serving model: the same parameters without auxiliary heads (its forward costs what the baseline's does). */
  forInference(): DhenModel {
    const { auxHead: _auxHead, ...config } = this.config;
    return new DhenModel({ ...config, auxHeads: [] }, undefined, { from: this, heads: ['primary'] });
  }

  /** FM attention blocks, for attention-density diagnostics. */
  fmBlocks(): FmAttention[] {
    return this.layers.flatMap((l) => l.modules.filter((m): m is FmAttention => m instanceof FmAttention));
  }
}
