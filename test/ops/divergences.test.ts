/** divergences (kernel divergences in shaders/divergences.wgsl, twin divergencesRef): the four matrices between cohorts' histograms. */
import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { backends } from '../support/gpu.js';

for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`divergences on ${name}`, () => {
    const opts = { backend: backend! };

    test('divergences: zero on the diagonal, known values for disjoint cohorts, NaN for an empty cohort', async () => {
      const counts = c.tensor([5, 0, /* */ 0, 7, /* */ 0, 0], [3, 2], { ...opts, dtype: 'u32' });
      const d = await c.divergences(counts, 1e-6).toArray();
      const at = (m: number, i: number, j: number) => d[m * 9 + i * 3 + j]!;
      for (let m = 0; m < 4; m++) for (const i of [0, 1]) expect(Math.abs(at(m, i, i))).toBeLessThan(1e-6);
      expect(at(1, 0, 1)).toBeCloseTo(Math.sqrt(Math.LN2), 5); // JS distance of disjoint distributions
      expect(at(2, 0, 1)).toBeCloseTo(0.5, 6); // W1: all mass moves one bin (width 1/2)
      expect(at(3, 0, 1)).toBeCloseTo(1, 6); // orthogonal
      const p = (1 + 1e-6) / (1 + 2e-6), q = 1e-6 / (1 + 2e-6);
      expect(at(0, 0, 1)).toBeCloseTo(2 * (p - q) * Math.log(p / q), 2); // ε-smoothed symmetric KL
      for (let m = 0; m < 4; m++) expect(at(m, 0, 2)).toBeNaN();
      for (let m = 0; m < 4; m++) expect(at(m, 1, 0)).toBeCloseTo(at(m, 0, 1), 5); // symmetric
      counts.dispose();
    });

    test('divergences refuse non-count input', () => {
      const f = c.zeros([2, 3], opts);
      expect(() => c.divergences(f)).toThrow(/counts must be u32/);
      f.dispose();
    });
  });
}
