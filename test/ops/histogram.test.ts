/** histogram (kernel histogram in shaders/histogram.wgsl, twin histogramRef): per-cohort counts of values in [0, 1]. */
import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { backends } from '../support/gpu.js';

for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`histogram on ${name}`, () => {
    const opts = { backend: backend! };
    test('histogram bins values per cohort, 1.0 in the last bin, NaN skipped', async () => {
      const values = c.tensor([0, 0.24, 0.25, 0.5, 0.99, 1, NaN, 0.6], undefined, opts);
      const counts = c.histogram(values, [0, 0, 0, 1, 1, 1, 1, 2], 3, 4);
      expect(counts.dtype).toBe('u32');
      expect(await counts.toArray()).toEqual([2, 1, 0, 0, /* cohort 1 */ 0, 0, 1, 2, /* cohort 2 */ 0, 0, 1, 0]);
      expect(() => c.histogram(values, [0, 0, 0, 1, 1, 1, 1, 3], 3, 4)).toThrow(/cohort id 3 at row 7 is outside 0 .. 2/);
      values.dispose();
      counts.dispose();
    });
  });
}
