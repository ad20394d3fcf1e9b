/**
 * Malformed input never reaches a kernel: fast-check feeds every public op of the op table (and a few
 * layers and the DHEN model) random malformed arguments — wrong ranks, dtypes and shapes, disposed
 * tensors, non-tensors, NaN/Inf scalars, negative or huge sizes, out-of-range axes and ids — and checks
 * each call either succeeds or throws a documented error class (ShapeError, TensorError, BackendError,
 * DataError), with no tensor or pool byte leaked, no input changed, and no uncaptured WebGPU error.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { BackendError, CpuBackend, ShapeError, TensorError, type Backend, type DhenConfig, type Tensor } from '../../src/index.js';
import { DataError } from '../../src/data/schema.js';
import { syntheticClicks } from '../../src/data/synthetic.js';
import { validateClickData } from '../../src/data/schema.js';
import { gpu, project } from '../support/gpu.js';

const TYPED: (new (...a: never[]) => Error)[] = [ShapeError, TensorError, BackendError, DataError];
const runs = project === 'browser' ? 500 : Number((typeof process !== 'undefined' && process.env.FUZZ_RUNS) || 1500);

/** Totals over the file, printed at the end (docs/reliability.md quotes them). */
const totals = { calls: 0, refused: 0, accepted: 0 };

type Kind = 'tensor' | 'tensors' | 'num' | 'int' | 'axes' | 'shape' | 'bool' | 'dtype' | 'ids' | 'fields' | 'matmulOpts' | 'bagOpts' | 'values' | 'createOpts' | 'labels' | 'activation';

/** Every public function behind the op table (plus the creation functions), with the kinds of its arguments. */
const OPS: Record<string, [(...a: never[]) => unknown, Kind[]]> = {
  neg: [c.neg, ['tensor']], abs: [c.abs, ['tensor']], exp: [c.exp, ['tensor']], log: [c.log, ['tensor']],
  log1p: [c.log1p, ['tensor']], sqrt: [c.sqrt, ['tensor']], sigmoid: [c.sigmoid, ['tensor']], tanh: [c.tanh, ['tensor']],
  relu: [c.relu, ['tensor']], gelu: [c.gelu, ['tensor']], silu: [c.silu, ['tensor']],
  powScalar: [c.powScalar, ['tensor', 'num']], mulScalar: [c.mulScalar, ['tensor', 'num']], addScalar: [c.addScalar, ['tensor', 'num']],
  add: [c.add, ['tensor', 'tensor']], sub: [c.sub, ['tensor', 'tensor']], mul: [c.mul, ['tensor', 'tensor']], div: [c.div, ['tensor', 'tensor']],
  maximum: [c.maximum, ['tensor', 'tensor']], minimum: [c.minimum, ['tensor', 'tensor']],
  equal: [c.equal, ['tensor', 'tensor']], greater: [c.greater, ['tensor', 'tensor']],
  cast: [c.cast, ['tensor', 'dtype']],
  sum: [c.sum, ['tensor', 'axes', 'bool']], mean: [c.mean, ['tensor', 'axes', 'bool']], max: [c.max, ['tensor', 'axes', 'bool']],
  reshape: [c.reshape, ['tensor', 'shape']], permute: [c.permute, ['tensor', 'axes']], transpose: [c.transpose, ['tensor', 'int', 'int']],
  slice: [c.slice, ['tensor', 'shape', 'shape']], concat: [c.concat, ['tensors', 'int']], expand: [c.expand, ['tensor', 'shape']],
  where: [c.where, ['tensor', 'tensor', 'tensor']], matmul: [c.matmul, ['tensor', 'tensor', 'matmulOpts']],
  linear: [c.linear, ['tensor', 'tensor', 'tensor', 'activation']],
  softmax: [c.softmax, ['tensor', 'int']], fmInteraction: [c.fmInteraction, ['tensor', 'tensor']],
  bceWithLogits: [c.bceWithLogits, ['tensor', 'labels', 'labels']], layerNorm: [c.layerNorm, ['tensor', 'tensor', 'tensor', 'num']],
  embeddingLookup: [c.embeddingLookup, ['tensor', 'ids', 'fields']], embeddingBag: [c.embeddingBag, ['tensor', 'ids', 'ids', 'bagOpts']],
  histogram: [c.histogram, ['tensor', 'ids', 'int', 'int']], divergences: [c.divergences, ['tensor', 'num']],
  tensor: [c.tensor, ['values', 'shape', 'createOpts']], full: [c.full, ['shape', 'num', 'createOpts']],
  zeros: [c.zeros, ['shape', 'createOpts']], onesLike: [c.onesLike, ['tensor']],
};

const junk = [null, undefined, 'x', {}, [], () => 1, Symbol.for('s'), 3, NaN, true] as unknown[];
const badNumbers = [NaN, Infinity, -Infinity, -1, 0, 0.5, 1, 2, 1e-5, 1e30, -1e30, '3', null, undefined, {}] as unknown[];
const dims = [0, 1, 2, 3, 4, 5, -1, -2, 1.5, NaN, Infinity, 2 ** 31, 2 ** 53];

function arbitraries(backend: Backend, pool: Tensor[]) {
  const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
  const int = fc.oneof(fc.integer({ min: -4, max: 5 }), pick([NaN, 1.5, 2 ** 31, -(2 ** 31), null, undefined, '1'] as unknown[]));
  const tensor = fc.oneof({ weight: 4, arbitrary: pick(pool) }, { weight: 1, arbitrary: pick(junk) });
  const shape = fc.oneof({ weight: 4, arbitrary: fc.array(pick(dims), { maxLength: 9 }) }, { weight: 1, arbitrary: pick([...junk, 'abc', { length: 2 }] as unknown[]) });
  const ids = fc.oneof(
    fc.array(fc.oneof(fc.integer({ min: -2, max: 7 }), pick([NaN, 1.5, 2 ** 32, Infinity, '1'] as unknown[])), { maxLength: 12 }),
    fc.array(fc.nat({ max: 7 }), { maxLength: 12 }).map((a) => Uint32Array.from(a)),
    pick(junk));
  const field = fc.record({ name: fc.constantFrom('a', 'b'), vocab: pick([0, 1, 2, 3, 4, -1, NaN, 1.5, 2 ** 40] as unknown[]) });
  const kinds: Record<Kind, fc.Arbitrary<unknown>> = {
    tensor,
    tensors: fc.oneof(fc.array(tensor, { maxLength: 3 }), pick(junk)),
    num: fc.oneof(pick(badNumbers), fc.double()),
    int,
    axes: fc.oneof(int, fc.array(int, { maxLength: 5 })),
    shape,
    bool: fc.oneof(fc.boolean(), pick(junk)),
    dtype: pick(['f32', 'i32', 'u32', 'f64', 'bogus', null, undefined] as unknown[]),
    ids,
    fields: fc.oneof(fc.array(field, { maxLength: 3 }), pick(junk)),
    matmulOpts: fc.oneof(fc.record({ transA: fc.oneof(fc.boolean(), pick(junk)), transB: fc.boolean() }, { requiredKeys: [] }), pick(junk)),
    bagOpts: fc.oneof(fc.record({ mode: pick(['sum', 'mean', 'max', 7] as unknown[]), rowOffset: int, vocab: int }, { requiredKeys: [] }), pick(junk)),
    values: fc.oneof(fc.array(fc.oneof(fc.double(), pick(junk)), { maxLength: 8 }), fc.array(fc.array(fc.double(), { maxLength: 3 }), { maxLength: 3 }), fc.double(), pick(junk)),
    createOpts: fc.record({ dtype: pick(['f32', 'i32', 'u32', 'f64', undefined] as unknown[]), requiresGrad: fc.oneof(fc.boolean(), pick(junk)), name: pick(['t', 3, undefined] as unknown[]) },
      { requiredKeys: [] }).map((o) => Object.defineProperty({ ...o }, 'backend', { value: backend, enumerable: false })),
    // bceWithLogits labels and weights: tensors, host arrays (values outside [0, 1], NaN), or nothing.
    labels: fc.oneof(tensor, fc.array(pick([0, 1, 0.5, -0.5, 2, NaN, Infinity, -1] as unknown[]), { maxLength: 8 })),
    activation: pick(['none', 'relu', 'gelu', '', null, undefined, 3, {}] as unknown[]),
  };
  return kinds;
}

/** Calls fn; on a throw, the error must be typed and nothing may leak; on success, frees what it made. */
function probe(backend: Backend, what: string, fn: () => unknown): 'refused' | 'accepted' {
  const before = new Set(c.liveTensors());
  const bytes = backend.memory().bytesInUse;
  totals.calls++;
  let thrown: unknown = null;
  try {
    fn();
  } catch (e) {
    thrown = e ?? new Error('threw a nullish value');
  }
  if (thrown) {
    if (!TYPED.some((t) => thrown instanceof t)) {
      throw new Error(`${what}: threw ${(thrown as Error).name ?? typeof thrown}, not a documented error class: ${(thrown as Error).message}\n${(thrown as Error).stack}`);
    }
    const leaked = c.liveTensors().filter((t) => !before.has(t));
    if (leaked.length) throw new Error(`${what}: leaked ${leaked.map((t) => t.describe()).join(', ')} after refusing with: ${(thrown as Error).message}`);
    if (backend.memory().bytesInUse !== bytes) throw new Error(`${what}: pool bytes ${bytes} → ${backend.memory().bytesInUse} after refusing with: ${(thrown as Error).message}`);
    totals.refused++;
    return 'refused';
  }
  for (const t of c.liveTensors()) if (!before.has(t)) t.dispose();
  totals.accepted++;
  return 'accepted';
}

const show = (args: unknown[]): string => args.map((a) => (a instanceof c.Tensor ? a.disposed ? 'disposed tensor' : a.describe() : typeof a === 'function' ? 'function' : typeof a === 'symbol' ? 'symbol' : JSON.stringify(a, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? String(a))).join(', ');

const backends: [string, Backend | null][] = [['cpu', new CpuBackend('f32')], ['webgpu', gpu]];

afterAll(() => {
  console.log(`[c2al] malformed-input fuzz (${project}): ${totals.calls} calls, ${totals.refused} refused with a typed error, ${totals.accepted} valid by chance`);
});

for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`malformed input on ${name}`, () => {
    const opts = { backend: backend! };
    function fixtures(): { pool: Tensor[]; dispose: () => void } {
      const f32 = (shape: number[], grad = false) => c.keep(c.randomNormal(shape, { ...opts, seed: shape.length + shape[0]!, requiresGrad: grad }));
      const pool = [
        c.keep(c.full([], 0.5, opts)), f32([1]), f32([3]), f32([3], true), f32([2, 3]), f32([3, 2], true), f32([2, 3, 4]), f32([2, 2, 3]),
        f32([4, 3], true), f32([2, 3, 2]), c.keep(c.zeros([0, 3], opts)),
        c.keep(c.tensor([1, 2, 3], [3], { ...opts, dtype: 'i32' })), c.keep(c.tensor([0, 1, 2, 0, 1, 1], [2, 3], { ...opts, dtype: 'u32' })),
        c.keep(c.tensor([0.1, 0.5, 0.9, 1, 0, NaN], [6], opts)), c.keep(c.tensor([1, NaN, Infinity, -Infinity], [2, 2], opts)),
      ];
      const gone = c.tensor([1, 2], [2], opts);
      gone.dispose();
      const other = c.keep(c.zeros([3], { backend: new CpuBackend('f64') }));
      return { pool: [...pool, gone, other], dispose: () => [...pool, other].forEach((t) => t.dispose()) };
    }

    test('every public op of the op table refuses malformed arguments with a typed error, leaking nothing', async () => {
      const { pool, dispose } = fixtures();
      const before = await Promise.all(pool.filter((t) => !t.disposed && t.backend === backend).map((t) => t.toArray()));
      const kinds = arbitraries(backend!, pool);
      const covered = new Set(Object.keys(OPS));
      // The embeddingBag op is reached through both embeddingLookup and embeddingBag.
      expect(Object.keys(c.ops).filter((op) => !covered.has(op))).toEqual([]);
      const call = fc.constantFrom(...Object.keys(OPS)).chain((op) => fc.tuple(fc.constant(op), fc.tuple(...OPS[op]![1].map((k) => kinds[k]))));
      const outcome = { refused: 0, accepted: 0 };
      fc.assert(fc.property(call, ([op, args]) => {
        outcome[probe(backend!, `${op}(${show(args)})`, () => (OPS[op]![0] as (...a: unknown[]) => unknown)(...args))]++;
      }), { numRuns: runs });
      expect(outcome.refused).toBeGreaterThan(outcome.accepted);
      const after = await Promise.all(pool.filter((t) => !t.disposed && t.backend === backend).map((t) => t.toArray()));
      expect(after).toEqual(before);
      dispose();
      if (gpu && backend === gpu) {
        gpu.flush();
        await gpu.device.queue.onSubmittedWorkDone();
        expect(gpu.ctx.errors, 'uncaptured WebGPU errors').toEqual([]);
      }
    });

    test('layers and the DHEN model refuse malformed input with a typed error, leaking nothing', async () => {
      const { pool, dispose } = fixtures();
      const kinds = arbitraries(backend!, pool);
      const config: DhenConfig = {
        fields: [{ name: 'a', vocab: 3 }, { name: 'b', vocab: 2 }], dim: 3, dense: 2, denseFields: 1, seed: 1,
        layers: [{ modules: [{ type: 'fm', k: 2, hidden: [4] }, { type: 'linearCompress' }] }], head: { hidden: [4] },
      };
      const model = new c.DhenModel(config, backend!);
      const linear = new c.Linear(3, 2, opts), norm = new c.LayerNorm(3, opts), mlp = new c.MLP([3, 4, 2], opts);
      const embeddings = new c.Embeddings(config.fields, 3, opts), fm = new c.FmAttention(2, 3, { ...opts, k: 2 });
      const layers: Record<string, [(...a: never[]) => unknown, Kind[]]> = {
        'Linear.forward': [(x) => linear.forward(x), ['tensor']],
        'LayerNorm.forward': [(x) => norm.forward(x), ['tensor']],
        'MLP.forward': [(x) => mlp.forward(x), ['tensor']],
        'Embeddings.forward': [(ids) => embeddings.forward(ids), ['ids']],
        'FmAttention.forward': [(x) => fm.forward(x), ['tensor']],
        'DhenModel.forward': [(ids, dense) => model.forward(ids, dense), ['ids', 'tensor']],
      };
      const call = fc.constantFrom(...Object.keys(layers)).chain((l) => fc.tuple(fc.constant(l), fc.tuple(...layers[l]![1].map((k) => kinds[k]))));
      fc.assert(fc.property(call, ([l, args]) => {
        probe(backend!, `${l}(${show(args)})`, () => c.scope(() => (layers[l]![0] as (...a: unknown[]) => unknown)(...args)));
      }), { numRuns: Math.ceil(runs / 3) });
      [model, linear, norm, mlp, embeddings, fm].forEach((m) => m.dispose());
      dispose();
      if (gpu && backend === gpu) {
        gpu.flush();
        await gpu.device.queue.onSubmittedWorkDone();
        expect(gpu.ctx.errors, 'uncaptured WebGPU errors').toEqual([]);
      }
    });
  });
}

/** A valid config with one part replaced, deleted, or joined by an unknown key. */
function mutatedConfig(): fc.Arbitrary<{ config: unknown; change: string }> {
  const base: DhenConfig = {
    fields: [{ name: 'a', vocab: 3 }, { name: 'b', vocab: 2 }], dim: 2, dense: 1, denseFields: 1, seed: 1,
    layers: [{ modules: [{ type: 'fm', k: 2, hidden: [3] }, { type: 'cross', rank: 1 }, { type: 'attention', heads: 1 }], ensemble: 'sum', shortcut: 'project' }],
    head: { hidden: [3], activation: 'relu' }, auxHeads: ['head'],
  };
  const paths = ['', 'fields', 'fields.0', 'fields.0.vocab', 'fields.1.name', 'dim', 'dense', 'denseFields', 'seed', 'layers', 'layers.0', 'layers.0.modules',
    'layers.0.modules.0', 'layers.0.modules.0.k', 'layers.0.modules.0.y', 'layers.0.modules.0.hidden', 'layers.0.modules.1.rank', 'layers.0.modules.2.heads',
    'layers.0.modules.0.type', 'layers.0.ensemble', 'layers.0.shortcut', 'head', 'head.hidden', 'head.hidden.0', 'head.activation', 'auxHeads', 'auxHeads.0'];
  const values = [0, -1, 1.5, NaN, Infinity, 2 ** 31, 'x', '', null, true, [], {}, [0], ['primary'], 'generated', 'weighted', 'fm'];
  return fc.tuple(fc.constantFrom(...paths), fc.constantFrom('set', 'delete', 'unknown key'), fc.constantFrom(...values)).map(([path, how, value]) => {
    const config = structuredClone(base) as unknown as Record<string, unknown>;
    const keys = path ? path.split('.') : [];
    let parent: Record<string, unknown> = { root: config };
    let key = 'root';
    for (const k of keys) { parent = parent[key] as Record<string, unknown>; key = k; }
    if (how === 'set') parent[key] = value;
    else if (how === 'delete' && keys.length) delete parent[key];
    else if (parent[key] && typeof parent[key] === 'object' && !Array.isArray(parent[key])) (parent[key] as Record<string, unknown>).extraKey = value;
    return { config, change: `${how} ${path || 'root'}${how === 'delete' ? '' : ` = ${String(value)}`}` };
  });
}

describe('DHEN config', () => {
  test('mutated configs are refused with a TensorError naming the path, or build a model', () => {
    const backend = new CpuBackend('f32');
    let refused = 0;
    fc.assert(fc.property(mutatedConfig(), ({ config, change }) => {
      const before = c.liveTensors().length;
      let model: c.DhenModel | null = null;
      try {
        model = new c.DhenModel(config as DhenConfig, backend);
      } catch (e) {
        if (!(e instanceof TensorError || e instanceof BackendError)) throw new Error(`${change}: threw ${(e as Error).name}: ${(e as Error).message}`);
        refused++;
        totals.refused++;
      }
      if (model) totals.accepted++;
      model?.dispose();
      totals.calls++;
      expect(c.liveTensors().length, `${change}: leaked parameters`).toBe(before);
    }), { numRuns: Math.ceil(runs / 4) });
    expect(refused).toBeGreaterThan(0);
  });
});

for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`training inputs are checked before dispatch on ${name}`, () => {
    const opts = { backend: backend! };

    /** Runs `bad`, expects the error type and message, then checks nothing leaked. */
    function refused(bad: () => unknown, error: RegExp, type: new (...a: never[]) => Error = TensorError): void {
      const live = c.liveTensors().length, bytes = backend!.memory().bytesInUse;
      let thrown: unknown;
      try { bad(); } catch (e) { thrown = e; }
      expect(thrown).toBeInstanceOf(type);
      expect((thrown as Error).message).toMatch(error);
      expect(c.liveTensors().length).toBe(live);
      expect(backend!.memory().bytesInUse).toBe(bytes);
    }

    test('host labels outside [0, 1] or non-finite, and negative or non-finite loss weights, name the element', async () => {
      const z = c.zeros([2, 2], opts);
      refused(() => c.bceWithLogits(z, [0, 1, 1, 1.5]), /bceWithLogits: labels\[3\] \(row 1, head 1\) is 1.5; labels must be in \[0, 1\]/);
      refused(() => c.bceWithLogits(z, [0, NaN, 1, 1]), /labels\[1\] \(row 0, head 1\) is NaN/);
      refused(() => c.bceWithLogits(z, [0, 1, 1]), /3 host labels for 4 logits/, ShapeError);
      refused(() => c.bceWithLogits(z, [0, 1, 1, 0], [1, -0.5]), /weights\[1\] \(row 0, head 1\) is -0.5; loss weights must be finite and >= 0/);
      refused(() => c.bceWithLogits(z, [0, 1, 1, 0], [1, Infinity]), /weights\[1\] .* is Infinity/);
      refused(() => c.bceWithLogits(z, [0, 1, 1, 0], [1, 1, 1]), /3 host weights .* expected 2 \(one per head\), 2 \(one per row\) or 4/, ShapeError);
      // Soft labels and per-head λ weights are legitimate; host arrays give the same loss as tensors.
      const y = c.tensor([0, 0.25, 1, 0.5], [2, 2], opts), w = c.tensor([1, 0.3], [2], opts);
      const live = c.liveTensors().length;
      const fromTensors = c.bceWithLogits(z, y, w), fromHost = c.bceWithLogits(z, [0, 0.25, 1, 0.5], [1, 0.3]);
      expect(c.liveTensors().length).toBe(live + 2); // the uploads are freed when no graph needs them
      expect(await fromHost.toArray()).toEqual(await fromTensors.toArray());
      [z, y, w, fromTensors, fromHost].forEach((t) => t.dispose());
    });

    test('DhenModel.forward refuses empty batches, misshaped dense features and dense features the config lacks', () => {
      const config: DhenConfig = { fields: [{ name: 'a', vocab: 3 }, { name: 'b', vocab: 2 }], dim: 2, dense: 2, layers: [{ modules: [{ type: 'linearCompress' }] }], head: { hidden: [] } };
      const model = new c.DhenModel(config, backend!);
      const dense = c.zeros([3, 2], opts);
      refused(() => model.forward([], dense), /DhenModel: empty batch \(0 ids/);
      refused(() => model.forward([0, 1, 2, 0], dense), /DhenModel: dense must be \[2, 2\] \(batch 2 from 4 ids\), got tensor \(#\d+, f32 \[3, 2\]\)/);
      refused(() => model.forward([0, 1, 2], dense), /3 ids do not form rows of 2 fields/);
      refused(() => model.forward([0, 1, 3, 0, 1, 1], dense), /table 'a' \(field 0\): id 3 at row 1 is outside its vocabulary of 3 rows/);
      const plain = new c.DhenModel({ ...config, dense: undefined }, backend!);
      refused(() => plain.forward([0, 1], dense), /dense features given .* but the config has none/);
      [model, plain, dense].forEach((t) => t.dispose());
    });

    test('config values are checked with their path: missing head, bad sizes, unknown activation, repeated heads', () => {
      const base: DhenConfig = { fields: [{ name: 'a', vocab: 3 }], dim: 2, layers: [{ modules: [{ type: 'fm', k: 2 }] }], head: { hidden: [2] } };
      refused(() => new c.DhenModel({ ...base, head: undefined } as never, backend!), /DHEN config: head must be an object, got nothing/);
      refused(() => new c.DhenModel({ ...base, layers: [{ modules: [{ type: 'fm', k: 0 }] }] }, backend!), /layers\[0\]\.modules\[0\]\.k must be a positive integer, got 0/);
      refused(() => new c.DhenModel({ ...base, head: { hidden: [2], activation: 'tanh' as never } }, backend!), /head.activation must be one of 'relu', 'gelu', 'silu', 'none', got 'tanh'/);
      refused(() => new c.DhenModel({ ...base, auxHeads: ['x', 'x'] }, backend!), /auxHeads names repeat/);
      refused(() => new c.DhenModel({ ...base, layers: [{ modules: [{ type: 'fm', k: 2 }], ensemble: 'max' as never }] }, backend!), /layers\[0\]\.ensemble must be one of/);
      // A parameter over the adapter's limit is refused before its values are generated, and the
      // parameters made before it are freed.
      refused(() => new c.DhenModel({ ...base, head: { hidden: [2 ** 30] } }, backend!), /parameter f32 \[2, 1073741824\] needs 8589934592 bytes, more than one storage binding holds/, BackendError);
    });
  });
}

test('click data entering training is checked: ids in vocabulary, labels 0/1, cohorts, finite dense features', () => {
  const good = syntheticClicks({ world: 'legacy', rows: 50, seed: 2 });
  expect(() => validateClickData(good)).not.toThrow();
  const bad = (patch: object, error: RegExp) => {
    let thrown: unknown;
    try { validateClickData({ ...good, ...patch } as never, 'batch'); } catch (e) { thrown = e; }
    expect(thrown).toBeInstanceOf(DataError);
    expect((thrown as Error).message).toMatch(error);
  };
  const ids = good.ids.slice(); ids[6] = 999;
  bad({ ids }, /batch: ids: field 'item' id 999 at row 1 is outside its vocabulary of 300/);
  const labels = good.labels.slice(); labels[3] = 2;
  bad({ labels }, /batch: labels: row 3 has 2; labels must be 0 or 1/);
  bad({ labels: good.labels.subarray(1) }, /batch: labels has 49 values, expected 50/);
  const cohort = good.cohort.slice(); cohort[4] = 9;
  bad({ cohort }, /cohort: row 4 has 9, outside the 5 cohorts/);
  bad({ dense: Float32Array.from({ length: 100 }, (_, i) => (i === 41 ? NaN : 0)), denseFeatures: 2 }, /dense: row 20 feature 1 is NaN; dense features must be finite/);
  bad({ rows: 0, ids: new Uint32Array(0), labels: new Uint8Array(0), cohort: new Uint8Array(0), trueProb: undefined }, /rows must be a positive integer, got 0/);
  const p = good.trueProb!.slice(); p[0] = 1.5;
  bad({ trueProb: p }, /trueProb: row 0 has 1.5/);
});
