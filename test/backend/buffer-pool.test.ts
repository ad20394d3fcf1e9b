/**
 * The buffer pool's free lists: a freed buffer of a size comes back before a new one is made, uploads never
 * get a buffer the open encoder may still read, and the buffers of one size come back newest first whatever
 * order they were freed in, so a step that allocates what the step before did gets the same buffers.
 */
import { describe, expect, test } from 'vitest';
import { BufferPool, bucketSize } from '../../src/backend/buffers.js';

/** Just enough of a GPUDevice for the pool: buffers that know their size and whether they were destroyed. */
function fakeDevice(): { device: GPUDevice; made: { size: number; destroyed: boolean }[] } {
  const made: { size: number; destroyed: boolean }[] = [];
  const device = {
    createBuffer: ({ size }: { size: number }) => {
      const b = { size, destroyed: false, destroy() { this.destroyed = true; } };
      made.push(b);
      return b;
    },
  } as unknown as GPUDevice;
  return { device, made };
}

describe('BufferPool', () => {
  test('buffers of one size come back newest first, whatever order they were freed in', () => {
    const { device } = fakeDevice();
    const pool = new BufferPool(device);
    const [a, b, c] = [0, 1, 2].map(() => pool.acquire(1000, false, 't'));
    for (const order of [[a, c, b], [b, a, c], [c, b, a]]) {
      for (const x of order) pool.release(x!, false);
      expect([0, 1, 2].map(() => pool.acquire(1000, false, 't'))).toEqual([c, b, a]);
    }
  });

  test('so a step that frees its buffers in another order than it took them gets the same buffers every step', () => {
    const { device, made } = fakeDevice();
    const pool = new BufferPool(device);
    const step = () => {
      const got = [0, 1, 2, 3].map(() => pool.acquire(4096, false, 't'));
      for (const i of [2, 0, 3, 1]) pool.release(got[i]!, true); // freed while the step's encoder is open
      pool.onFlush();
      return got;
    };
    step();
    const second = step();
    expect(step()).toEqual(second);
    expect(step()).toEqual(second);
    expect(made.length).toBe(4);
  });

  test('a buffer freed while the encoder is open goes to outputs at once, to uploads only after the flush', () => {
    const { device } = fakeDevice();
    const pool = new BufferPool(device);
    const x = pool.acquire(512, false, 't');
    pool.release(x, true);
    expect(pool.acquire(512, true, 'upload')).not.toBe(x);
    const y = pool.acquire(512, false, 'output');
    expect(y).toBe(x);
    pool.release(y, true);
    pool.onFlush();
    expect(pool.acquire(512, true, 'upload')).toBe(x);
  });

  test('sizes round up to their bucket, and trim destroys free buffers down to what it keeps', () => {
    expect([1, 256, 257, 1000, 1025, 4096].map(bucketSize)).toEqual([256, 256, 320, 1024, 1280, 4096]);
    const { device, made } = fakeDevice();
    const pool = new BufferPool(device);
    const bufs = [0, 1, 2].map(() => pool.acquire(4096, false, 't'));
    bufs.forEach((b) => pool.release(b, false));
    pool.trim(4096);
    expect(made.filter((b) => b.destroyed).length).toBe(2);
    expect(pool.stats().bytesAllocated).toBe(4096);
  });
});
