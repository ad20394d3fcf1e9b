/**
 * Seeded parameter initializers (host-side, mulberry32 streams: the same seed gives the same weights in
 * Node and in browsers, on every backend).
 */
import type { Backend } from '../backend/index.js';
import { tensor } from '../create.js';
import { mulberry32, normalSampler } from '../random.js';
import { assertValidShape, fmt, numel } from '../shape.js';
import { assertFits, type Tensor } from '../tensor.js';

export type Init =
  | { kind: 'xavierUniform'; fanIn: number; fanOut: number }
  | { kind: 'heNormal'; fanIn: number }
  | { kind: 'normal'; std: number }
  | { kind: 'uniform'; bound: number }
  | { kind: 'constant'; value: number };

export function initValues(shape: readonly number[], init: Init, seed: number): number[] {
  const n = numel(shape);
  const uniform = mulberry32(seed);
  const normal = normalSampler(mulberry32(seed));
  switch (init.kind) {
    case 'xavierUniform': {
      const b = Math.sqrt(6 / (init.fanIn + init.fanOut));
      return Array.from({ length: n }, () => (2 * uniform() - 1) * b);
    }
    case 'heNormal': {
      const std = Math.sqrt(2 / init.fanIn);
      return Array.from({ length: n }, () => normal() * std);
    }
    case 'normal': return Array.from({ length: n }, () => normal() * init.std);
    case 'uniform': return Array.from({ length: n }, () => (2 * uniform() - 1) * init.bound);
    case 'constant': return new Array<number>(n).fill(init.value);
    default: return init satisfies never;
  }
}

/** Refuses a parameter that would not fit in one storage binding before generating its values. */
export function initTensor(shape: readonly number[], init: Init, seed: number, backend: Backend): Tensor {
  assertValidShape(shape, 'parameter');
  assertFits(backend, shape, 'f32', `parameter f32 ${fmt(shape)}`);
  return tensor(initValues(shape, init, seed), shape, { backend });
}
