/**
 * timeSubmitted: the GPU time of the work a callback submits, op by op or as a captured step's replay,
 * without the host time spent before its first submit; 0 when it submits nothing, null without
 * timestamp-query; the same values computed as untimed; clear errors when it cannot time.
 */
import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { BackendError } from '../../src/backend/index.js';
import { CaptureError } from '../../src/backend/capture.js';
import { gpu } from '../support/gpu.js';

const N = 128;
const timestamps = !!gpu && gpu.ctx.features.includes('timestamp-query');

/** A chain of `n` N × N products (x stays bounded: each product is scaled back). */
function chain(x: c.Tensor, w: c.Tensor, n: number): c.Tensor {
  let y = x;
  for (let i = 0; i < n; i++) y = c.mulScalar(c.matmul(y, w), 1 / N);
  return y;
}

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* host work that is not the device's */ }
}

describe.skipIf(!gpu)('timeSubmitted', () => {
  const values = Float32Array.from({ length: N * N }, (_, i) => ((i * 7) % 13) / 13);
  const x = c.keep(c.tensor(values, [N, N], { backend: gpu! }));
  const w = c.keep(c.tensor(values, [N, N], { backend: gpu! }));

  test.skipIf(timestamps)('without timestamp-query it runs the work and gives null', async () => {
    let y: c.Tensor | null = null;
    expect(await gpu!.timeSubmitted(() => { y = c.scope(() => c.keep(chain(x, w, 2))); })).toBeNull();
    expect(Array.from(await y!.read())).toEqual(Array.from(await c.scope(() => chain(x, w, 2)).read()));
    y!.dispose();
  });

  describe.skipIf(!timestamps)('with timestamps', () => {
    test('op-by-op work: a positive time, host time before the submit left out, values as untimed', async () => {
      const untimed = await c.scope(() => chain(x, w, 3)).read();
      let y: c.Tensor | null = null;
      const ms = await gpu!.timeSubmitted(() => {
        y = c.scope(() => c.keep(chain(x, w, 3)));
        spin(300); // recorded, not submitted yet: the device has not started
      });
      expect(ms).not.toBeNull();
      expect(ms!).toBeGreaterThan(0);
      expect(ms!).toBeLessThan(250);
      expect(Array.from(await y!.read())).toEqual(Array.from(untimed));
      y!.dispose();
    });

    test('more work takes longer; nothing submitted is 0', async () => {
      await gpu!.timeSubmitted(() => { c.scope(() => chain(x, w, 2)); }); // warm the pipelines
      const short = await gpu!.timeSubmitted(() => { c.scope(() => chain(x, w, 2)); });
      const long = await gpu!.timeSubmitted(() => { c.scope(() => chain(x, w, 40)); });
      expect(long!).toBeGreaterThan(short!);
      expect(await gpu!.timeSubmitted(() => {})).toBe(0);
    });

    test("a captured step's replay is timed, and a later untimed submit opens no span", async () => {
      const { step, result } = gpu!.capture(() => c.scope(() => c.keep(chain(x, w, 4))));
      const captured = await result!.read();
      const ms = await gpu!.timeSubmitted(() => step.replay());
      expect(ms!).toBeGreaterThan(0);
      expect(Array.from(await result!.read())).toEqual(Array.from(captured));
      step.replay();
      await gpu!.done();
      expect(await gpu!.timeSubmitted(() => {})).toBe(0);
      step.dispose();
      result!.dispose();
    });

    test('a second timing while one waits is refused; a throwing callback leaves nothing armed', async () => {
      const first = gpu!.timeSubmitted(() => { c.scope(() => chain(x, w, 8)); });
      await expect(gpu!.timeSubmitted(() => {})).rejects.toThrow(/another timeDispatches or timeSubmitted is still waiting/);
      await expect(gpu!.timeDispatches(() => {})).rejects.toThrow(BackendError);
      expect(await first).toBeGreaterThan(0);
      await expect(gpu!.timeSubmitted(() => { throw new Error('boom'); })).rejects.toThrow('boom');
      expect(await gpu!.timeSubmitted(() => {})).toBe(0);
    });
  });

  test('refused while a capture records', async () => {
    let refused: Promise<unknown> | null = null;
    const { step } = gpu!.capture(() => {
      c.scope(() => chain(x, w, 1));
      refused = gpu!.timeSubmitted(() => {});
    });
    step.dispose();
    await expect(refused).rejects.toThrow(CaptureError);
    await expect(refused).rejects.toThrow(/timeSubmitted\(\) while capturing a step/);
  });
});
