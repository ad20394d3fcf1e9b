import { afterAll, expect } from 'vitest';
import { gpu } from './gpu.js';

afterAll(() => {
  if (!gpu) return;
  // Any uncaptured validation error during the file is a failure, even if every assertion passed.
  expect(gpu.ctx.errors, 'uncaptured WebGPU errors').toEqual([]);
  gpu.destroy();
  gpu.ctx.destroy();
});
