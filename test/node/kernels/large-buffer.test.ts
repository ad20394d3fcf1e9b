/** The largest tensor one storage binding allows (128 MiB on lavapipe) on the GPU: Node only, the browser's SwiftShader is too slow for it. */
import { expect, test } from 'vitest';
import * as c from '../../../src/index.js';
import { GpuStorage } from '../../../src/backend/webgpu.js';
import { gpu } from '../../support/gpu.js';
import { expectRefusedOverLimit } from '../../support/util.js';

test.skipIf(!gpu)('the largest tensor the limit allows is accepted, one element more is refused', async () => {
  const opts = { backend: gpu! }, n = Math.floor(gpu!.maxStorageBytes / 4);
  expectRefusedOverLimit(gpu!, () => c.full([n + 1], 1, opts), new RegExp(`f32 \\[${n + 1}\\] needs ${(n + 1) * 4} bytes`));
  const t = c.full([n], 3, opts);
  // Read the last 64 elements through a storage bound at the end of the buffer.
  const s = t.storage as GpuStorage;
  const tail = await gpu!.read(new GpuStorage(s.buffer, 64, 'f32', n * 4 - 256));
  expect(Array.from(tail)).toEqual(new Array(64).fill(3));
  t.dispose();
  gpu!.trim();
});
