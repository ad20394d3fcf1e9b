import { expect, test } from 'vitest';
import { gpu, project } from '../support/gpu.js';

test.skipIf(!gpu)('the adapter is real and named', () => {
  const { adapter, runtime, features, limits } = gpu!.ctx;
  console.log(`[c2al] ${project} project on ${runtime}: ${gpu!.description} (vendor '${adapter.vendor}', ` +
    `architecture '${adapter.architecture}'); kernels compile at first use (shaders.test.ts compiles them all)`);
  expect(gpu!.description.length).toBeGreaterThan(0);
  expect(runtime).toBe(project === 'browser' ? 'browser' : 'dawn');
  expect(limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(4);
  expect(Array.isArray(features)).toBe(true);
});
