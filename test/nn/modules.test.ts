import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { CpuBackend, type Backend, type Module, type Tensor } from '../../src/index.js';
import { gpu } from '../support/gpu.js';
import { expectClose, randomArray, reference as ref } from '../support/util.js';


test('modules name their parameters with stable dotted names and count them', () => {
  const mlp = new c.MLP([4, 8, 3], { backend: ref, layerNorm: true, seed: 1 });
  expect(mlp.namedParameters().map(([n, t]) => `${n} ${t.shape.join('x')}`)).toEqual([
    'layers.0.weight 4x8', 'layers.0.bias 8', 'layers.1.weight 8x3', 'layers.1.bias 3', 'norms.0.gamma 8', 'norms.0.beta 8',
  ]);
  expect(mlp.parameterCount()).toBe(4 * 8 + 8 + 8 * 3 + 3 + 8 + 8);
  expect(mlp.parameters().every((p) => p.requiresGrad && p.kept)).toBe(true);
  expect(mlp.eval().layers.every((l) => !l.training)).toBe(true);
  mlp.dispose();
  expect(() => new c.MLP([4], { backend: ref })).toThrow(/at least two positive integers/);
});

test('the same seed gives the same initial weights on every backend', async () => {
  const a = new c.Linear(5, 3, { backend: ref, seed: 7 });
  const b = new c.Linear(5, 3, { backend: new CpuBackend('f32'), seed: 7 });
  expectClose(await b.weight.read(), Array.from(await a.weight.read(), Math.fround), 0, 0, 'weights');
  const bound = Math.sqrt(6 / 8);
  expect((await a.weight.toArray()).every((v) => Math.abs(v) <= bound)).toBe(true);
  a.dispose();
  b.dispose();
});

/** Analytic parameter and input gradients of L = sum(f(x)·w) for a module built by `build` on `backend`. */
async function grads(build: (b: Backend) => Module & { forward(x: Tensor): Tensor }, backend: Backend, xs: number[], shape: number[], w: number[]) {
  const m = build(backend);
  const x = c.tensor(xs, shape, { backend, requiresGrad: true });
  c.scope(() => {
    const y = m.forward(x);
    c.sum(c.mul(y, c.tensor(w.slice(0, y.size), y.shape, { backend }))).backward();
  });
  const out = [await x.grad!.toArray(), ...(await Promise.all(m.parameters().map(async (p) => (p.grad ? p.grad.toArray() : new Array<number>(p.size).fill(0)))))];
  x.dispose();
  m.dispose();
  return out;
}

const layers: [string, (b: Backend) => Module & { forward(x: Tensor): Tensor }, number[]][] = [
  ['Linear', (b) => new c.Linear(5, 3, { backend: b, seed: 3 }), [4, 5]],
  ['LayerNorm', (b) => new c.LayerNorm(6, { backend: b }), [3, 6]],
  ['MLP (gelu, LayerNorm)', (b) => new c.MLP([5, 7, 2], { backend: b, activation: 'gelu', layerNorm: true, seed: 4 }), [2, 3, 5]],
  ['MLP (silu)', (b) => new c.MLP([4, 6, 6, 1], { backend: b, activation: 'silu', seed: 5 }), [5, 4]],
  ['FmAttention (learned Y)', (b) => new c.FmAttention(3, 4, { backend: b, k: 2, hidden: [5], activation: 'gelu', seed: 6 }), [2, 3, 4]],
  ['FmAttention (generated Y + Y₀)', (b) => new c.FmAttention(3, 4, { backend: b, k: 2, y: 'generated', y0: true, attentionHidden: [6], activation: 'silu', outFields: 2, seed: 7 }), [2, 3, 4]],
  ['LinearCompress', (b) => new c.LinearCompress(4, 3, 2, { backend: b, seed: 8 }), [2, 4, 3]],
  ['CrossNet (full)', (b) => new c.CrossNet(2, 3, { backend: b, layers: 2, seed: 9 }), [3, 2, 3]],
  ['CrossNet (low rank)', (b) => new c.CrossNet(2, 3, { backend: b, layers: 2, rank: 2, seed: 10 }), [3, 2, 3]],
  ['DotInteraction (DLRM)', (b) => new c.DotInteraction(4, 3, { backend: b, hidden: [5], activation: 'gelu', outFields: 2, seed: 13 }), [2, 4, 3]],
  ['FieldAttention (2 heads)', (b) => new c.FieldAttention(3, 4, { backend: b, heads: 2, seed: 14 }), [2, 3, 4]],
  ['DhenLayer (concat, projected shortcut)', (b) => new c.DhenLayer(3, 4, { modules: [{ type: 'fm', k: 2 }, { type: 'linearCompress', fields: 2 }, { type: 'cross', rank: 2 }], ensemble: 'concat', shortcut: 'project' }, 11, b), [2, 3, 4]],
  ['DhenLayer (weighted)', (b) => new c.DhenLayer(3, 4, { modules: [{ type: 'fm', k: 2, y: 'generated' }, { type: 'linearCompress' }], ensemble: 'weighted' }, 12, b), [2, 3, 4]],
];

describe('layers: finite-difference gradcheck in float64, and the GPU against the reference', () => {
  for (const [name, build, shape] of layers) {
    test(`${name}: analytic gradients (input and every parameter) match central differences`, async () => {
      const xs = randomArray(shape.reduce((a, b) => a * b, 1), 11), w = randomArray(4096, 12);
      const analytic = await grads(build, ref, xs, shape, w);
      const m = build(ref);
      const params = [null, ...m.parameters()];
      const loss = (): number => c.noGrad(() => c.scope(() => {
        const y = ref.readSync(m.forward(c.tensor(xs, shape, { backend: ref })).storage);
        return Array.from(y).reduce((acc, v, i) => acc + v * w[i]!, 0);
      }));
      const eps = 1e-6;
      for (let k = 0; k < params.length; k++) {
        const p = params[k];
        const values = p ? Array.from(ref.readSync(p.storage)) : xs;
        for (let i = 0; i < values.length; i++) {
          const set = (v: number): void => {
            if (!p) { xs[i] = v; return; }
            const d = Float64Array.from(values);
            d[i] = v;
            ref.write(p.storage, d);
          };
          const v0 = values[i]!;
          set(v0 + eps); const lp = loss();
          set(v0 - eps); const lm = loss();
          set(v0);
          const fd = (lp - lm) / (2 * eps);
          expect(Math.abs(fd - analytic[k]![i]!), `${name} ${p?.name ?? 'input'}[${i}]`).toBeLessThan(1e-6 + 1e-5 * Math.abs(fd));
        }
      }
      m.dispose();
    });

    test.skipIf(!gpu)(`${name}: GPU gradients match the float64 reference`, async () => {
      const xs = randomArray(shape.reduce((a, b) => a * b, 1), 13), w = randomArray(4096, 14);
      const [want, got] = [await grads(build, ref, xs, shape, w), await grads(build, gpu!, xs, shape, w)];
      want.forEach((g, i) => expectClose(got[i]!, g, 2e-5, 2e-4, `${name} gradient ${i}`));
    });
  }
});

describe('dropout', () => {
  const backend = gpu ?? ref;
  test('training mode drops about p of the units and scales the rest by 1/(1 − p); eval mode is the identity', async () => {
    // All-ones weights and zero biases: every hidden unit is 1, so the output is the sum of the dropout mask.
    // p = 0.5 makes every kept unit contribute exactly 2, so the float32 sum is exact.
    const n = 4000, p = 0.5;
    const mlp = new c.MLP([1, n, 1], { backend, dropout: p, seed: 3 });
    for (const [name, t] of mlp.namedParameters()) backend.write(t.storage, new Float32Array(t.size).fill(name.endsWith('weight') ? 1 : 0));
    const x = c.ones([1, 1], { backend });
    const kept = (await c.noGrad(() => mlp.train().forward(x)).item()) * (1 - p);
    expect(Number.isInteger(kept)).toBe(true); // each kept unit contributes exactly 1/(1 − p)
    expect(kept / n).toBeGreaterThan(0.45);
    expect(kept / n).toBeLessThan(0.55);
    expect(await c.noGrad(() => mlp.eval().forward(x)).item()).toBe(n);
    mlp.dispose();
    x.dispose();
  });

  test('the same seed gives the same masks; dropout is refused outside [0, 1)', async () => {
    const out = async () => {
      const m = new c.MLP([3, 16, 2], { backend, dropout: 0.5, seed: 9 });
      const x = c.ones([4, 3], { backend });
      const y = await c.noGrad(() => m.forward(x)).toArray();
      m.dispose();
      x.dispose();
      return y;
    };
    expect(await out()).toEqual(await out());
    expect(() => new c.MLP([3, 2], { backend, dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
  });
});
