/**
 * The backend's bind-group cache: a dispatch over the same buffer ranges reuses its bind group, anything
 * else (another buffer, offset, size or kernel) gets its own, the least recently used entry goes first, and
 * on the GPU a reused group computes what a fresh one does, also after the pool destroyed the buffers.
 */
import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { BindGroupCache, type BoundRange } from '../../src/backend/bind-groups.js';
import { gpu } from '../support/gpu.js';

const buffer = () => ({}) as GPUBuffer;
const range = (b: GPUBuffer, offset = 0, size = 16): BoundRange => ({ buffer: b, offset, size });

describe('BindGroupCache', () => {
  test('the same kernel over the same ranges gets the same group; another buffer, offset, size or kernel a new one', () => {
    const cache = new BindGroupCache(16);
    let made = 0;
    const create = () => ({ made: ++made }) as unknown as GPUBindGroup;
    const a = buffer(), b = buffer();
    const first = cache.get('add', [range(a), range(b)], create);
    expect(cache.get('add', [range(a), range(b)], create)).toBe(first);
    expect(made).toBe(1);
    for (const ranges of [[range(b), range(a)], [range(a, 256), range(b)], [range(a, 0, 32), range(b)], [range(a), range(buffer())]]) {
      expect(cache.get('add', ranges, create)).not.toBe(first);
    }
    expect(cache.get('mul', [range(a), range(b)], create)).not.toBe(first);
    expect([made, cache.hits, cache.misses, cache.size]).toEqual([6, 1, 6, 6]);
  });

  test('keeps the capacity most recently used entries', () => {
    const cache = new BindGroupCache(2);
    const create = () => ({}) as GPUBindGroup;
    const [x, y, z] = [buffer(), buffer(), buffer()];
    const gx = cache.get('k', [range(x)], create);
    const gy = cache.get('k', [range(y)], create);
    expect(cache.get('k', [range(x)], create)).toBe(gx); // x is now the most recent: y goes next
    cache.get('k', [range(z)], create);
    expect(cache.size).toBe(2);
    expect(cache.get('k', [range(x)], create)).toBe(gx);
    expect(cache.get('k', [range(y)], create)).not.toBe(gy);
  });

  test('refuses a capacity that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, NaN]) expect(() => new BindGroupCache(bad)).toThrow(/capacity must be a positive integer/);
  });
});

describe.skipIf(!gpu)('bind groups on the GPU', () => {
  test('a repeated step reuses its groups and computes what it did; after the pool destroyed its buffers, new groups compute it too', async () => {
    const g = gpu!;
    const x = c.tensor(Float32Array.from({ length: 64 }, (_, i) => i / 7 - 3), [8, 8], { backend: g });
    const w = c.tensor(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)), [8, 8], { backend: g });
    const run = () => c.noGrad(() => c.scope(() => c.keep(c.relu(c.add(c.matmul(x, w), x)))));
    const once = async () => { const t = run(); const v = await t.toArray(); t.dispose(); return v; };
    const want = await once();
    await once(); // the pool's free lists settle into the order the step frees them in
    const hits = g.bindGroups.hits;
    expect(await once()).toEqual(want);
    expect(g.bindGroups.hits - hits).toBe(3); // matmul, add and relu each bound what they bound before
    g.trim(); // destroys the free buffers: their groups can never be hit again
    const misses = g.bindGroups.misses;
    expect(await once()).toEqual(want);
    expect(g.bindGroups.misses).toBeGreaterThan(misses);
    x.dispose();
    w.dispose();
  });
});
