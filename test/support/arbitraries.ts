/** fast-check arbitraries shared by the op suites. */
import { fc } from '@fast-check/vitest';

const dim = fc.integer({ min: 1, max: 6 });
/** Shapes of rank 0 to 4 with dims 1 to 6. */
export const shapeArb = fc.array(dim, { minLength: 0, maxLength: 4 });

/** Broadcast-compatible partner for `shape`: some dims set to 1, some leading dims dropped. */
export const broadcastPartner = (shape: number[]) => fc.tuple(fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }), fc.nat({ max: shape.length }))
  .map(([ones, drop]) => shape.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
