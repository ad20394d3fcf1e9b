import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { CpuBackend, type Backend } from '../../src/index.js';
import { gpu, backends } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/util.js';

/** 256 rows whose labels come from a random "teacher" MLP, so a student can fit them. */
function dataset(backend: Backend) {
  const features = 12, rows = 256;
  const xs = randomArray(rows * features, 21);
  const teacher = new c.MLP([features, 16, 1], { backend: new CpuBackend('f64'), seed: 99, activation: 'gelu' });
  const logits = c.noGrad(() => teacher.forward(c.tensor(xs, [rows, features], { backend: teacher.backend })));
  const labels = Array.from((logits.backend as CpuBackend).readSync(logits.storage), (z) => (z > 0 ? 1 : 0));
  teacher.dispose();
  return { x: c.tensor(xs, [rows, features], { backend }), y: c.tensor(labels, [rows, 1], { backend }), rows, features };
}

function trainLoop(backend: Backend, steps: number, make: (m: c.MLP) => c.Optimizer) {
  const { x, y, rows, features } = dataset(backend);
  const model = new c.MLP([features, 64, 1], { backend, seed: 5, activation: 'relu' });
  const opt = make(model);
  const losses: number[] = [];
  const lossAt = async (): Promise<number> => {
    const l = c.noGrad(() => c.bceWithLogits(model.forward(x), y));
    const v = (await l.item()) / rows;
    l.dispose();
    return v;
  };
  return {
    model, opt, losses, lossAt,
    async run() {
      losses.push(await lossAt());
      for (let s = 0; s < steps; s++) {
        c.scope(() => c.mulScalar(c.bceWithLogits(model.forward(x), y), 1 / rows).backward());
        opt.step();
        opt.zeroGrad();
      }
      losses.push(await lossAt());
    },
    dispose() { model.dispose(); opt.dispose(); x.dispose(); y.dispose(); },
  };
}

describe.skipIf(!gpu)('training on the GPU', () => {
  test('an MLP overfits a 256-row batch with Adam (loss falls by at least 90%)', async () => {
    const t = trainLoop(gpu!, 300, (m) => new c.Adam(m.namedParameters(), { lr: 0.02 }));
    await t.run();
    expect(t.losses[1]!).toBeLessThan(0.1 * t.losses[0]!);
    t.dispose();
  });

  test('a training loop keeps live tensors, bytes in use and the pool high-water mark flat from step 2', async () => {
    const { x, y, rows, features } = dataset(gpu!);
    const model = new c.MLP([features, 32, 1], { backend: gpu!, seed: 5 });
    const opt = new c.Adam(model.namedParameters(), { lr: 0.01 });
    const samples: string[] = [];
    for (let step = 0; step < 12; step++) {
      gpu!.resetHighWater();
      c.scope(() => c.mulScalar(c.bceWithLogits(model.forward(x), y), 1 / rows).backward());
      opt.step();
      opt.zeroGrad();
      gpu!.flush();
      const m = gpu!.memory();
      samples.push(`${c.liveTensors().length} live, ${m.bytesInUse} in use, ${m.highWater} high water, ${m.bytesAllocated} allocated`);
    }
    expect(new Set(samples.slice(2)).size, samples.join('\n')).toBe(1);
    [model, opt, x, y].forEach((t) => t.dispose());
  });

  test('the same seed gives bit-identical weights after 20 steps', async () => {
    const weights: number[][] = [];
    for (let run = 0; run < 2; run++) {
      const t = trainLoop(gpu!, 20, (m) => new c.AdamW(m.namedParameters(), { lr: 0.01 }));
      await t.run();
      weights.push((await Promise.all(t.model.parameters().map((p) => p.toArray()))).flat());
      t.dispose();
    }
    expect(new Float64Array(weights[1]!)).toEqual(new Float64Array(weights[0]!));
  });
});

for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`optimizers on ${name}`, () => {
    const opts = { backend: backend! };
    const tol = name === 'cpu' ? 1e-12 : 1e-6;

    test('SGD with momentum follows PyTorch: v ← μv + g + wd·p, p ← p − lr·v', async () => {
      const p = c.keep(c.tensor([1, -2], undefined, { ...opts, requiresGrad: true }));
      const sgd = new c.SGD([['p', p]], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
      let pv = [1, -2], v = [0, 0];
      for (let s = 0; s < 3; s++) {
        c.scope(() => c.sum(c.mul(p, p)).backward()); // g = 2p
        sgd.step();
        sgd.zeroGrad();
        v = v.map((vi, i) => 0.9 * vi + 2 * pv[i]! + 0.01 * pv[i]!);
        pv = pv.map((x, i) => x - 0.1 * v[i]!);
      }
      expectClose(await p.read(), pv, tol, tol, 'parameters');
      expect(sgd.state().map(([n]) => n)).toEqual(['p.velocity']);
      expect(sgd.steps).toBe(3);
      sgd.dispose();
      p.dispose();
    });

    test('row-wise Adagrad updates only the rows a batch touched', async () => {
      const table = c.keep(c.tensor(randomArray(12, 3), [4, 3], { ...opts, requiresGrad: true }));
      table.sparseGrad = true;
      const opt = new c.RowWiseAdagrad([['table', table]], { lr: 0.1 });
      const before = await table.toArray();
      c.scope(() => c.sum(c.embeddingBag(table, [1, 3, 3], [0, 3])).backward());
      opt.step();
      const after = await table.toArray();
      expect(after.slice(0, 3)).toEqual(before.slice(0, 3));
      expect(after.slice(6, 9)).toEqual(before.slice(6, 9));
      expect(after[3]).toBeLessThan(before[3]!);
      opt.dispose();
      table.dispose();
    });

    test('clipGradNorm scales gradients to the max norm and returns the norm before clipping', async () => {
      const a = c.keep(c.tensor([3, 0], undefined, { ...opts, requiresGrad: true }));
      const b = c.keep(c.tensor([0, 4], undefined, { ...opts, requiresGrad: true }));
      c.scope(() => c.add(c.sum(c.mul(a, c.tensor([3, 0], undefined, opts))), c.sum(c.mul(b, c.tensor([0, 4], undefined, opts)))).backward());
      const live = c.liveTensors().length;
      const norm = c.clipGradNorm([['a', a], ['b', b]], 1);
      expect(c.liveTensors().length).toBe(live + 1); // just the returned norm
      expectClose([await norm.item()], [5], tol, tol, 'norm');
      expectClose(await a.grad!.read(), [0.6, 0], tol, tol, 'a.grad');
      expectClose(await b.grad!.read(), [0, 0.8], tol, tol, 'b.grad');
      [norm, a, b].forEach((t) => t.dispose());
    });
  });
}

test('learning-rate schedule: linear warmup, then cosine or linear decay to a floor', () => {
  expect([0, 1, 3].map((s) => c.learningRate(1, s, { warmupSteps: 4 }))).toEqual([0.25, 0.5, 1]);
  expect(c.learningRate(1, 4, { warmupSteps: 4, totalSteps: 14, decay: 'cosine' })).toBeCloseTo(1);
  expect(c.learningRate(1, 9, { warmupSteps: 4, totalSteps: 14, decay: 'cosine' })).toBeCloseTo(0.5);
  expect(c.learningRate(1, 14, { warmupSteps: 4, totalSteps: 14, decay: 'linear', minFactor: 0.1 })).toBeCloseTo(0.1);
  expect(() => new c.Adam([], { lr: 0 })).toThrow(/lr must be > 0/);
});

describe('resuming from a checkpoint', () => {
  const backend = gpu ?? new CpuBackend('f64');
  const make = (seed: number) => {
    const model = new c.MLP([6, 8, 1], { backend, seed });
    return { model, opt: new c.Adam(model.namedParameters(), { lr: 0.05 }) };
  };
  const x = c.keep(c.tensor(randomArray(32 * 6, 41), [32, 6], { backend }));
  const y = c.keep(c.tensor(randomArray(32, 42, 0, 1).map((u) => (u < 0.5 ? 1 : 0)), [32, 1], { backend }));
  const steps = (m: { model: c.MLP; opt: c.Optimizer }, n: number) => {
    for (let s = 0; s < n; s++) {
      c.scope(() => c.bceWithLogits(m.model.forward(x), y).backward());
      m.opt.step();
      m.opt.zeroGrad();
    }
  };
  const weights = async (m: c.MLP) => new Float64Array((await Promise.all(m.parameters().map((p) => p.toArray()))).flat());

  test('model + optimizer state restored after 3 steps give the same weights as 6 uninterrupted steps', async () => {
    const a = make(1);
    steps(a, 3);
    const [modelBytes, optBytes] = [await c.encodeModule(a.model), await c.encodeOptimizerState(a.opt)];
    steps(a, 3);
    const b = make(2); // different initial weights: everything must come from the checkpoint
    c.restore(b.model.namedParameters(), c.decodeSafetensors(modelBytes).tensors);
    c.restoreOptimizerState(b.opt, optBytes);
    expect(b.opt.steps).toBe(3);
    steps(b, 3);
    expect(await weights(b.model)).toEqual(await weights(a.model));
    for (const m of [a, b]) { m.model.dispose(); m.opt.dispose(); }
  });

  test('optimizer state of another optimizer or shape is refused and changes nothing', async () => {
    const a = make(1);
    steps(a, 1);
    const bytes = await c.encodeOptimizerState(a.opt);
    const sgd = new c.SGD(a.model.namedParameters(), { lr: 0.1 });
    expect(() => c.restoreOptimizerState(sgd, bytes)).toThrow(/saved by Adam, not SGD/);
    const other = new c.MLP([6, 4, 1], { backend, seed: 3 });
    const adam = new c.Adam(other.namedParameters(), { lr: 0.1 });
    expect(() => c.restoreOptimizerState(adam, bytes)).toThrow(/'layers.0.weight.m' has shape \[6, 8\], expected \[6, 4\]/);
    expect(adam.steps).toBe(0);
    a.model.dispose(); a.opt.dispose(); sgd.dispose(); other.dispose(); adam.dispose();
  });
});
