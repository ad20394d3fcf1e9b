/** where (kernel where in shaders/where.wgsl, twin whereRef): condition, a and b broadcast together, and its gradient. */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import * as c from '../../src/index.js';
import { gpu, propRuns } from '../support/gpu.js';
import { broadcastPartner, shapeArb } from '../support/arbitraries.js';
import { agree } from '../support/util.js';

describe.skipIf(!gpu)('where on the GPU', () => {
  test.prop([shapeArb.chain((s) => fc.tuple(fc.constant(s), broadcastPartner(s), broadcastPartner(s))), fc.nat()], { numRuns: propRuns })(
    'selects exactly what the reference selects, every operand broadcast', async ([s, cs, bs], seed) => {
      await agree(gpu!, [cs, s, bs], seed, ([cond, a, b]) => c.where(c.greater(cond!, c.zeros([], { backend: cond!.backend })), a!, b!), 0, 0);
    });

  test('passes gradcheck (a and b; the condition has no gradient)', async () => {
    const r = await c.gradcheck((xs) => c.where(c.greater(xs[0]!, c.zeros([], { backend: xs[0]!.backend })), xs[1]!, xs[2]!),
      [{ shape: [3, 4], requiresGrad: false }, { shape: [3, 4] }, { shape: [4] }], { backend: gpu! });
    expect(r.pass).toBe(true);
  });
});
