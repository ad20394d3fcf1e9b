/**
 * How far train() runs ahead of the device. On a CPU adapter (lavapipe, SwiftShader: both test projects')
 * the device's kernels run on the host's cores, so the loop prepares step s only after step s − 1 is done
 * there; on a GPU it prepares it while step s − 1 runs. The CPU adapter is recognised from the adapter's
 * own report (isFallbackAdapter, or its architecture).
 */
import { expect, test } from 'vitest';
import { stepsInFlight, train } from '../../src/train/loop.js';
import { syntheticClicks } from '../../src/data/synthetic.js';
import { gpu } from '../support/gpu.js';

test.skipIf(!gpu)('lavapipe and SwiftShader are reported as CPU adapters, and a GPU is not', () => {
  const a = gpu!.ctx.adapter;
  expect(a.cpuAdapter).toBe(/llvmpipe|lavapipe|swiftshader|warp|basic render/i.test(`${a.description} ${a.device} ${a.architecture}`));
});

test.skipIf(!gpu)('train() keeps one step in flight on a CPU adapter and two on a GPU, captured or not', async () => {
  const data = syntheticClicks({ world: 'legacy', rows: 1024, seed: 3 });
  const backend = gpu!, real = backend.done.bind(backend);
  for (const capture of [true, false]) {
    let pending = 0, most = 0;
    // Each step's done() resolves 30 ms late, so a loop that does not wait for it has two pending.
    backend.done = () => {
      most = Math.max(most, ++pending);
      return real().then(() => new Promise<void>((resolve) => setTimeout(() => { pending--; resolve(); }, 30)));
    };
    try {
      const t = await train(data, backend, { batch: 128, dim: 4, k: 2, seed: 5, steps: 6, capture });
      t.model.dispose();
    } finally {
      delete (backend as { done?: unknown }).done;
    }
    expect(most, `capture ${capture}`).toBe(stepsInFlight(backend));
    expect(most, `capture ${capture}`).toBe(backend.ctx.adapter.cpuAdapter ? 1 : 2);
  }
});
