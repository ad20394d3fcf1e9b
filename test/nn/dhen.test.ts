import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { type Backend, type DhenConfig } from '../../src/index.js';
import { gpu } from '../support/gpu.js';
import { expectClose, randomArray, reference as ref } from '../support/util.js';


/** Two layers with every module type and every ensemble. */
const small: DhenConfig = {
  fields: [{ name: 'user', vocab: 4 }, { name: 'item', vocab: 5 }, { name: 'ctx', vocab: 3 }],
  dim: 4, dense: 2, denseFields: 1, seed: 3,
  layers: [
    { modules: [{ type: 'fm', k: 2, hidden: [6] }, { type: 'linearCompress', fields: 2 }], ensemble: 'concat', shortcut: 'project' },
    { modules: [{ type: 'fm', k: 2, y: 'generated', y0: true }, { type: 'cross', rank: 2 }, { type: 'dot', hidden: [3] }, { type: 'attention', heads: 2 }], ensemble: 'weighted' },
  ],
  head: { hidden: [5], activation: 'gelu' },
  auxHeads: ['head', 'tail'],
};

function batch(rows: number, seed: number) {
  const u = randomArray(rows * 3, seed, 0, 1);
  return { ids: u.map((v, i) => Math.floor(v * [4, 5, 3][i % 3]!)), dense: randomArray(rows * 2, seed + 1) };
}

async function modelGrads(backend: Backend, ids: number[], dense: number[], w: number[]) {
  const m = new c.DhenModel(small, backend);
  for (const t of m.embeddings.tables) t.sparseGrad = false;
  c.scope(() => {
    const { logits } = m.forward(ids, c.tensor(dense, [ids.length / 3, 2], { backend }));
    const all = c.concat(Object.values(logits), 0);
    c.sum(c.mul(all, c.tensor(w.slice(0, all.size), all.shape, { backend }))).backward();
  });
  const g = await Promise.all(m.parameters().map(async (p) => (p.grad ? p.grad.toArray() : new Array<number>(p.size).fill(0))));
  return { m, g };
}

describe('DHEN model', () => {
  test('parameters are named by path; the config refuses unknown keys and impossible values', () => {
    const m = new c.DhenModel(small, ref);
    const names = m.namedParameters().map(([n]) => n);
    expect(names).toContain('embeddings.tables.0');
    expect(names).toContain('layers.0.modules.0.fm.y');
    expect(names).toContain('layers.1.modules.0.fm.attention.layers.0.weight');
    expect(names).toContain('layers.1.ensemble_logits');
    expect(names).toContain('heads.tail.layers.1.bias');
    expect(new Set(names).size).toBe(names.length);
    m.dispose();
    expect(() => new c.DhenModel({ ...small, extra: 1 } as DhenConfig, ref)).toThrow(/unknown key 'extra' in the model/);
    expect(() => new c.DhenModel({ ...small, layers: [{ modules: [{ type: 'fm', k: 2, kk: 1 } as never] }] }, ref)).toThrow(/unknown key 'kk' in layers\[0\].modules\[0\]/);
    expect(() => new c.DhenModel({ ...small, layers: [{ modules: [{ type: 'transformer' } as never] }] }, ref)).toThrow(/'transformer' is not one of fm, linearCompress, cross, dot, attention/);
    expect(() => new c.DhenModel({ ...small, dim: 0 }, ref)).toThrow(/dim must be a positive integer/);
    expect(() => new c.DhenModel({ ...small, layers: [{ modules: [{ type: 'linearCompress', fields: 2 }], ensemble: 'sum' }] }, ref)).toThrow(/needs every module to output 4 fields/);
  });

  test('a 2-layer DHEN with every module type: analytic gradients match float64 central differences', async () => {
    const { ids, dense } = batch(3, 5);
    const w = randomArray(64, 6);
    const { m, g } = await modelGrads(ref, ids, dense, w);
    const loss = (): number => c.noGrad(() => c.scope(() => {
      const { logits } = m.forward(ids, c.tensor(dense, [3, 2], { backend: ref }));
      const all = ref.readSync(c.concat(Object.values(logits), 0).storage);
      return Array.from(all).reduce((acc, v, i) => acc + v * w[i]!, 0);
    }));
    const eps = 1e-6;
    let checked = 0;
    m.parameters().forEach((p, k) => {
      const values = Float64Array.from(ref.readSync(p.storage));
      // Every element of small tensors, a strided sample of large ones.
      const stride = Math.max(1, Math.floor(values.length / 12));
      for (let i = 0; i < values.length; i += stride) {
        const set = (v: number) => { const d = Float64Array.from(values); d[i] = v; ref.write(p.storage, d); };
        set(values[i]! + eps); const lp = loss();
        set(values[i]! - eps); const lm = loss();
        set(values[i]!);
        const fd = (lp - lm) / (2 * eps);
        expect(Math.abs(fd - g[k]![i]!), `${p.name}[${i}]`).toBeLessThan(1e-6 + 1e-5 * Math.abs(fd));
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(200);
    m.dispose();
  });

  test.skipIf(!gpu)('GPU gradients of the whole model match the float64 reference', async () => {
    const { ids, dense } = batch(4, 7);
    const w = randomArray(64, 8);
    const [a, b] = [await modelGrads(ref, ids, dense, w), await modelGrads(gpu!, ids, dense, w)];
    a.g.forEach((want, i) => expectClose(b.g[i]!, want, 5e-5, 5e-4, a.m.namedParameters()[i]![0]));
    a.m.dispose();
    b.m.dispose();
  });

  test('forInference() gives exactly the primary head, with the baseline parameter set and no auxiliary tensors', async () => {
    const backend = gpu ?? ref;
    const m = new c.DhenModel(small, backend);
    const serving = m.forInference();
    const { ids, dense } = batch(6, 9);
    const d = c.tensor(dense, [6, 2], { backend });
    const [full, served] = c.noGrad(() => [m.forward(ids, d).logits.primary!, serving.forward(ids, d).logits.primary!]);
    expect(Array.from(await served!.read())).toEqual(Array.from(await full!.read()));
    expect(Object.keys(c.noGrad(() => serving.forward(ids, d)).logits)).toEqual(['primary']);
    const baseline = new c.DhenModel({ ...small, auxHeads: [] }, backend);
    expect(serving.namedParameters().map(([n, t]) => `${n} ${t.shape}`)).toEqual(baseline.namedParameters().map(([n, t]) => `${n} ${t.shape}`));
    const bytes = await c.encodeModule(serving);
    const names = [...c.decodeSafetensors(bytes).tensors.keys()];
    expect(names.some((n) => n.startsWith('heads.head') || n.startsWith('heads.tail'))).toBe(false);
    m.dispose();
    baseline.dispose();
    d.dispose();
  });
});

describe.skipIf(!gpu)('DHEN training on the GPU', () => {
  const config: DhenConfig = {
    fields: [{ name: 'a', vocab: 20 }, { name: 'b', vocab: 20 }, { name: 'c', vocab: 10 }, { name: 'd', vocab: 10 }],
    dim: 8, seed: 1,
    layers: [{ modules: [{ type: 'fm', k: 4 }, { type: 'linearCompress' }], ensemble: 'sum' }, { modules: [{ type: 'cross', rank: 4 }, { type: 'linearCompress' }] }],
    head: { hidden: [32] },
  };
  const rows = 256;
  const data = () => {
    const u = randomArray(rows * 4, 31, 0, 1);
    const ids = u.map((v, i) => Math.floor(v * [20, 20, 10, 10][i % 4]!));
    // Clicks from an interaction of fields a and c: a model must learn it.
    const y = Array.from({ length: rows }, (_, r) => ((ids[4 * r]! % 3) === (ids[4 * r + 2]! % 3) ? 1 : 0));
    return { ids, y: c.tensor(y, [rows, 1], { backend: gpu! }) };
  };
  const train = async (steps: number) => {
    const { ids, y } = data();
    const m = new c.DhenModel(config, gpu!);
    const opt = new c.Adam(m.namedParameters(), { lr: 0.05 });
    const loss = async () => { const l = c.noGrad(() => c.bceWithLogits(c.reshape(m.forward(ids).logits.primary!, [rows, 1]), y)); const v = (await l.item()) / rows; l.dispose(); return v; };
    const first = await loss();
    for (let s = 0; s < steps; s++) {
      c.scope(() => c.mulScalar(c.bceWithLogits(c.reshape(m.forward(ids).logits.primary!, [rows, 1]), y), 1 / rows).backward());
      opt.step();
      opt.zeroGrad();
    }
    const last = await loss();
    const weights = (await Promise.all(m.parameters().map((p) => p.toArray()))).flat();
    m.dispose();
    opt.dispose();
    y.dispose();
    return { first, last, weights };
  };

  test('a DHEN overfits a 256-row batch (loss falls by at least 90% in 30 steps)', async () => {
    const { first, last } = await train(30);
    expect(last).toBeLessThan(0.1 * first);
  });

  test('the same seed gives bit-identical weights after 20 steps', async () => {
    const [a, b] = [await train(20), await train(20)];
    expect(new Float64Array(b.weights)).toEqual(new Float64Array(a.weights));
  });
});
