/**
 * Seeded randomness: mulberry32 streams, so one seed gives the same numbers in Node and browsers.
 * Host-side generation, uploaded once; GPU-side generators come with dropout.
 */
import { tensor, type CreateOptions } from './create.js';
import type { Tensor } from './tensor.js';
import { numel } from './shape.js';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box-Muller from a uniform stream. */
export function normalSampler(next: () => number): () => number {
  return () => {
    const u = Math.max(next(), Number.MIN_VALUE);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
}

export function randomUniform(shape: readonly number[], opts: CreateOptions & { seed?: number; low?: number; high?: number } = {}): Tensor {
  const next = mulberry32(opts.seed ?? 0);
  const low = opts.low ?? 0, high = opts.high ?? 1;
  const data = Array.from({ length: numel(shape) }, () => low + (high - low) * next());
  return tensor(data, shape, opts);
}

export function randomNormal(shape: readonly number[], opts: CreateOptions & { seed?: number; mean?: number; std?: number } = {}): Tensor {
  const next = normalSampler(mulberry32(opts.seed ?? 0));
  const data = Array.from({ length: numel(shape) }, () => (opts.mean ?? 0) + (opts.std ?? 1) * next());
  return tensor(data, shape, opts);
}
