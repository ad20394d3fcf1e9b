import { describe, expect, test, vi } from 'vitest';
import * as c from '../../src/index.js';
import { CpuBackend, FiniteGuard, NonFiniteError, type Backend, type DhenConfig } from '../../src/index.js';
import { gpu } from '../support/gpu.js';
import { randomArray } from '../support/util.js';

const config: DhenConfig = {
  fields: [{ name: 'user', vocab: 6 }, { name: 'item', vocab: 5 }], dim: 4, dense: 2, seed: 7,
  layers: [{ modules: [{ type: 'fm', k: 2, hidden: [6] }, { type: 'linearCompress' }] }, { modules: [{ type: 'cross', rank: 2 }] }],
  head: { hidden: [5] },
};
const rows = 8;
const ids = randomArray(rows * 2, 3, 0, 1).map((u, i) => Math.floor(u * [6, 5][i % 2]!));
const labels = randomArray(rows, 4, 0, 1).map((u) => (u < 0.5 ? 1 : 0));

const backends: [string, Backend | null][] = [['cpu', new CpuBackend('f32')], ['webgpu', gpu]];
for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`FiniteGuard on ${name}`, () => {
    /** Trains `steps` steps; `inject(step, model)` may corrupt something; returns the guard's reports. */
    async function train(steps: number, inject: (step: number, model: c.DhenModel, denseValues: number[]) => void) {
      const model = new c.DhenModel(config, backend!);
      const opt = new c.Adam(model.namedParameters(), { lr: 0.01 });
      const guard = new FiniteGuard(backend!);
      const reports: (c.NonFinite | null)[] = [];
      const live: number[] = [];
      const reads = vi.spyOn(backend!, 'read');
      const readsPerStep: number[] = [];
      for (let step = 0; step < steps; step++) {
        const denseValues = randomArray(rows * 2, 100 + step);
        inject(step, model, denseValues);
        c.scope(() => {
          const dense = c.tensor(denseValues, [rows, 2], { backend: backend! });
          const { logits } = model.forward(ids, dense, (layer, out) => guard.watch(out, 'output', layer));
          const loss = c.mulScalar(c.sum(c.bceWithLogits(c.reshape(logits.primary!, [rows, 1]), labels)), 1 / rows);
          guard.watch(loss, 'loss');
          loss.backward();
        });
        inject(-step - 1, model, denseValues); // negative: after backward, before the optimizer
        guard.watchParameters(model.namedParameters());
        opt.step();
        opt.zeroGrad();
        const before = reads.mock.calls.length;
        reports.push(await guard.check(step));
        readsPerStep.push(reads.mock.calls.length - before);
        live.push(c.liveTensors().length);
      }
      reads.mockRestore();
      guard.dispose();
      opt.dispose();
      model.dispose();
      return { reports, readsPerStep, live };
    }

    /** Writes NaN into element 3 of a parameter (the rest 0.1). */
    const poison = (model: c.DhenModel, param: string) => {
      const [, p] = model.namedParameters().find(([n]) => n === param)!;
      backend!.write(p.storage, Float32Array.from({ length: p.size }, (_, i) => (i === 3 ? NaN : 0.1)));
    };

    test('a NaN written into a parameter at step 4 is reported at step 4 with the first layer whose output it reached', async () => {
      const { reports, readsPerStep, live } = await train(6, (step, model) => { if (step === 4) poison(model, 'layers.0.norm.gamma'); });
      expect(reports.slice(0, 4)).toEqual([null, null, null, null]);
      expect(reports[4]).toMatchObject({ step: 4, name: 'output', layer: 'layers.0' });
      expect(reports[4]!.all).toContain('layers.0.norm.gamma');
      expect(reports[5]).toMatchObject({ step: 5 }); // Adam spread it: still reported
      expect(readsPerStep, 'one readback per step').toEqual(new Array(6).fill(1));
      expect(new Set(live).size, 'live tensors flat').toBe(1);
    });

    test('a NaN that ReLU hides from every layer output is still caught in the parameters and gradients', async () => {
      // relu(NaN) is 0 here (x > 0 ? x : 0; WGSL max(NaN, 0) may also give 0): the FM block's MLP masks it.
      const { reports } = await train(5, (step, model) => { if (step === 3) poison(model, 'layers.0.modules.0.fm.y'); });
      expect(reports[3]).toMatchObject({ step: 3 });
      expect(reports[3]!.all).toContain('layers.0.modules.0.fm.y');
      expect(reports[3]!.all.filter((n) => n.endsWith('/output'))).toEqual([]);
    });

    test('an Inf in the dense features is reported at the dense projection; a NaN gradient by its parameter name and layer', async () => {
      const dense = await train(3, (step, _m, values) => { if (step === 1) values[5] = Infinity; });
      expect(dense.reports[0]).toBeNull();
      expect(dense.reports[1]).toMatchObject({ step: 1, name: 'output', layer: 'dense', index: expect.any(Number) });
      const grads = await train(3, (step, model) => {
        if (step !== -3) return; // after step 2's backward
        const [, w] = model.namedParameters().find(([n]) => n === 'heads.primary.layers.1.weight')!;
        backend!.write(w.grad!.storage, Float32Array.from({ length: w.size }, (_, i) => (i === 2 ? NaN : 0)));
      });
      expect(grads.reports.slice(0, 2)).toEqual([null, null]);
      expect(grads.reports[2]).toMatchObject({ step: 2, name: 'heads.primary.layers.1.weight.grad', layer: 'heads.primary.layers.1', index: 2, shape: [5, 1] });
      await expect(Promise.reject(new NonFiniteError(grads.reports[2]!))).rejects.toThrow(
        /step 2: heads.primary.layers.1.weight.grad of heads.primary.layers.1 \(shape \[5, 1\]\) holds a NaN or Inf at element 2/);
    });

    test('the first bad element index is exact for NaN, +Inf and -Inf; an all-finite tensor and an empty one pass', async () => {
      const guard = new FiniteGuard(backend!);
      const t = (v: number[]) => c.tensor(v, [v.length], { backend: backend! });
      const xs = [t([1, 2, 3]), t([0, -Infinity, NaN, 1]), t(new Array(600).fill(0).map((_, i) => (i === 517 ? Infinity : i))), c.zeros([0], { backend: backend! })];
      xs.forEach((x, i) => guard.watch(x, `t${i}`));
      xs.forEach((x) => x.dispose()); // the checks were queued already
      const r = await guard.check(9);
      expect(r).toMatchObject({ step: 9, name: 't1', layer: null, index: 1, count: 2, all: ['t1', 't2'] });
      const again = t([Infinity]);
      guard.watch(again, 'after reset');
      expect(await guard.check(10)).toMatchObject({ name: 'after reset', index: 0, count: 1 });
      expect(await guard.check(11)).toBeNull(); // nothing watched
      const ints = c.tensor([1], [1], { backend: backend!, dtype: 'i32' });
      expect(() => guard.watch(ints, 'ids')).toThrow(/'ids' must be f32/);
      [again, ints].forEach((x) => x.dispose());
      guard.dispose();
    });
  });
}
