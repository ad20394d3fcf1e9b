import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { CpuBackend, type Backend } from '../../src/index.js';
import { gpu } from '../support/gpu.js';

const backends: [string, Backend | null][] = [['cpu', new CpuBackend('f32')], ['webgpu', gpu]];

for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`memory stays flat on ${name}`, () => {
    test('200 forward + backward op chains inside scope leave live tensors and pool bytes flat', async () => {
      const opts = { backend: backend! };
      const w = c.keep(c.randomNormal([16, 8], { ...opts, seed: 1, requiresGrad: true }));
      const x = c.randomNormal([4, 16], { ...opts, seed: 2 });
      const samples: { live: number; inUse: number; allocated: number }[] = [];
      for (let step = 0; step < 200; step++) {
        const loss = c.scope(() => {
          const h = c.gelu(c.matmul(x, w));
          const l = c.mean(c.mul(h, h));
          l.backward();
          return c.sum(c.concat([c.slice(h, [0, 0], [2, -1]), c.permute(c.slice(h, [2, 0], [2, -1]), [0, 1])], 0));
        });
        if (step % 20 === 0) await loss.read();
        loss.dispose();
        w.zeroGrad();
        backend!.flush();
        const m = backend!.memory();
        samples.push({ live: c.liveTensors().length, inUse: m.bytesInUse, allocated: m.bytesAllocated });
      }
      const steady = samples.slice(2);
      expect(new Set(steady.map((s) => s.live)).size, 'live tensor count').toBe(1);
      expect(new Set(steady.map((s) => s.inUse)).size, 'bytes in use').toBe(1);
      expect(Math.max(...steady.map((s) => s.allocated)), 'pool bytes allocated').toBe(steady[0]!.allocated);
      w.dispose();
      x.dispose();
    });

    test('scope keeps what it returns and disposes the rest; returned tensors move to the parent scope', () => {
      const opts = { backend: backend! };
      const before = c.liveTensors().length;
      const outer = c.scope(() => {
        const inner = c.scope(() => {
          const a = c.ones([3], opts);
          c.exp(a);
          return { kept: c.mulScalar(a, 2), list: [c.neg(a)] };
        });
        expect(c.liveTensors().length).toBe(before + 2);
        return inner.kept;
      });
      expect(c.liveTensors().length).toBe(before + 1);
      outer.dispose();
      expect(c.liveTensors().length).toBe(before);
    });

    test('a throwing scope disposes what it created', () => {
      const before = c.liveTensors().length;
      expect(() => c.scope(() => { c.ones([4], { backend: backend! }); throw new Error('boom'); })).toThrow('boom');
      expect(c.liveTensors().length).toBe(before);
    });

    test('views share storage until the last one is disposed', async () => {
      const a = c.tensor([1, 2, 3, 4], undefined, { backend: backend! });
      const bytes = backend!.memory().bytesInUse;
      const v = c.reshape(a, [2, 2]);
      expect(backend!.memory().bytesInUse).toBe(bytes);
      a.dispose();
      expect(await v.toArray()).toEqual([1, 2, 3, 4]);
      v.dispose();
      expect(backend!.memory().bytesInUse).toBeLessThan(bytes);
    });
  });
}
