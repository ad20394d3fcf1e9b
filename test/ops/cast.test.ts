/** cast (kernels cast_<from>_<to> in shaders/cast.wgsl, twin castRef): f32 ↔ i32/u32 as the reference casts (truncation toward zero, saturation). */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import * as c from '../../src/index.js';
import { gpu, propRuns } from '../support/gpu.js';
import { randomArray, reference } from '../support/util.js';

describe.skipIf(!gpu)('cast on the GPU agrees with the float64 reference', () => {
  test.prop([fc.integer({ min: 1, max: 600 }), fc.constantFrom('i32', 'u32'), fc.nat()], { numRuns: propRuns })('f32 → int → f32', async (n, dtype, seed) => {
    const values = randomArray(n, seed, -3e3, 3e3).map(Math.fround);
    const run = async (backend: c.Backend) => {
      const [int, back] = c.noGrad(() => c.scope(() => { const i = c.cast(c.tensor(values, [n], { backend }), dtype); return [i, c.cast(i, 'f32')]; }));
      const out = [Array.from(await int.read()), Array.from(await back.read())];
      int.dispose();
      back.dispose();
      return out;
    };
    expect(await run(gpu!)).toEqual(await run(reference));
  });
});
