/**
 * bceWithLogits: the fused sigmoid + BCE of several heads (kernel bce_with_logits, shaders/bce_with_logits.wgsl,
 * twin bceWithLogitsRef). Per-head loss sums and their gradient against a float64 computation written
 * here from the definition, weights broadcasting, stability at huge logits, gradcheck, determinism.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import * as c from '../../src/index.js';
import { backends, propRuns } from '../support/gpu.js';
import { expectClose, randomArray } from '../support/util.js';

/** Σ_b w·(log(1 + e^x) − x·y) per head and its gradient w·(σ(x) − y), in float64 from the definition. */
function bceByDefinition(x: number[], y: number[], w: number[], rows: number, heads: number): { loss: number[]; grad: number[] } {
  const loss = new Array<number>(heads).fill(0), grad = new Array<number>(rows * heads);
  for (let i = 0; i < rows * heads; i++) {
    const softplus = x[i]! > 0 ? x[i]! + Math.log1p(Math.exp(-x[i]!)) : Math.log1p(Math.exp(x[i]!));
    loss[i % heads]! += w[i]! * (softplus - x[i]! * y[i]!);
    grad[i] = w[i]! * (1 / (1 + Math.exp(-x[i]!)) - y[i]!);
  }
  return { loss, grad };
}

for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`bceWithLogits on ${name}`, () => {
    const opts = { backend: backend! };
    const tol = name === 'cpu' ? 1e-10 : 2e-5;

    test.prop([fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom('full', 'row', 'head', 'none'), fc.nat()], { numRuns: propRuns })(
      'loss sums and logit gradients match the definition for soft labels and every weight shape', async (rows, heads, weighting, seed) => {
        const x = randomArray(rows * heads, seed, -8, 8).map(Math.fround), y = randomArray(rows * heads, seed + 1, 0, 1).map(Math.fround);
        const wShape = weighting === 'full' ? [rows, heads] : weighting === 'row' ? [rows, 1] : weighting === 'head' ? [heads] : null;
        const wData = wShape ? randomArray(wShape.reduce((a, d) => a * d, 1), seed + 2, 0, 2).map(Math.fround) : [];
        const wFull = Array.from({ length: rows * heads }, (_, i) => (!wShape ? 1 : weighting === 'full' ? wData[i]! : weighting === 'row' ? wData[Math.floor(i / heads)]! : wData[i % heads]!));
        const want = bceByDefinition(x, y, wFull, rows, heads);
        const logits = c.tensor(x, [rows, heads], { ...opts, requiresGrad: true });
        const loss = c.scope(() => {
          const l = c.bceWithLogits(logits, c.tensor(y, [rows, heads], opts), wShape ? c.tensor(wData, wShape, opts) : undefined);
          c.sum(l).backward();
          return l;
        });
        expectClose(await loss.read(), want.loss, tol * rows, tol, 'loss sums');
        expectClose(await logits.grad!.read(), want.grad, tol, tol, 'dlogits');
        loss.dispose();
        logits.dispose();
      });

    test('stable at |logit| = 1e4 (no overflow, exact limits) and bit-identical on a rerun', async () => {
      const x = [1e4, -1e4, 1e4, -1e4, 0], y = [1, 0, 0, 1, 0.5];
      const run = async () => {
        const l = c.noGrad(() => c.scope(() => c.bceWithLogits(c.tensor(x, [5, 1], opts), c.tensor(y, [5, 1], opts))));
        const v = await l.read();
        l.dispose();
        return Array.from(v);
      };
      const got = await run();
      expectClose(got, [1e4 + 1e4 + Math.LN2], 1e-2, 1e-6, 'loss at huge logits'); // 0 + 0 + 1e4 + 1e4 + ln 2
      expect(await run()).toEqual(got);
    });

    test('passes gradcheck with labels and weights', async () => {
      const r = await c.gradcheck((xs) => c.bceWithLogits(xs[0]!, xs[1]!, xs[2]!), [{ shape: [7, 3] }, { shape: [7, 3], domain: 'unit', requiresGrad: false }, { shape: [7, 1], domain: 'positive', requiresGrad: false }], { backend: backend! });
      expect(r.failure).toBeUndefined();
      expect(r.pass).toBe(true);
    });
  });
}
