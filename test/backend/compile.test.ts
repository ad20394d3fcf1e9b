// How a WebGPU backend builds its pipelines: every kernel at create() (the default), or each at its first
// dispatch with compile: 'lazy' (what the test suite's backends do). Every shader compiling is
// test/kernels/shaders.test.ts's job; here: what lazy compiling changes and what it refuses.
import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { BackendError, WebGpuBackend } from '../../src/index.js';
import { shaders } from '../../src/backend/shaders.gen.js';
import { gpu } from '../support/gpu.js';

describe.skipIf(!gpu)('compile: lazy', () => {
  test('refuses warm, which dispatches every pipeline at create()', async () => {
    await expect(WebGpuBackend.create({ compile: 'lazy', warm: true, context: gpu!.ctx })).rejects.toThrow(BackendError);
    await expect(WebGpuBackend.create({ compile: 'lazy', warm: true, context: gpu!.ctx })).rejects.toThrow(/warm .* needs compile: 'eager'/);
  });

  test('a second lazy backend on the device computes what the first does, with its own plan', async () => {
    const other = await WebGpuBackend.create({ compile: 'lazy', context: gpu!.ctx, plan: { matmul: { flat: false } } });
    const a = c.randomNormal([33, 40], { backend: gpu!, seed: 1 }), b = c.randomNormal([40, 17], { backend: gpu!, seed: 2 });
    const a2 = c.tensor(await a.read(), [33, 40], { backend: other }), b2 = c.tensor(await b.read(), [40, 17], { backend: other });
    const [x, y] = [c.matmul(a, b), c.matmul(a2, b2)];
    const [want, got] = [await x.read(), await y.read()];
    for (const t of [a, b, a2, b2, x, y]) t.dispose();
    other.destroy();
    expect(Array.from(got).every((v, i) => Math.abs(v - want[i]!) <= 1e-5 * (1 + Math.abs(want[i]!)))).toBe(true);
    expect(gpu!.ctx.errors).toEqual([]);
  });

  test('a kernel whose shader does not compile fails at its first dispatch, as an uncaptured error naming the shader', async () => {
    const own = await WebGpuBackend.create({ compile: 'lazy' }); // its own device: no pipeline of `fill` built yet
    const code = shaders.fill;
    (shaders as Record<string, string>).fill = code.replace(/\bfn fill\(/, 'fn fill_renamed(');
    try {
      const t = c.zeros([8], { backend: own });
      t.dispose();
      await own.done();
      await new Promise((r) => setTimeout(r, 50)); // uncaptured errors arrive as events after the work
    } finally {
      (shaders as Record<string, string>).fill = code;
    }
    const errors = [...own.ctx.errors];
    own.destroy();
    own.ctx.destroy();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(/fill/);
  });
});
