/**
 * Long-run soak: trains a small C2AL-shaped DHEN (FM attention + linear compress, primary head plus two
 * auxiliary heads with λ weights) with Adam on seeded synthetic clicks, batches cycling through a
 * shuffled order, a FiniteGuard checking the loss and every gradient each step (the one readback per
 * step), and samples live tensors, pool bytes and (in Node) RSS every `every` steps. test/soak.test.ts
 * asserts the samples stay flat; bench/soak.bench.ts runs 10,000 steps and prints them.
 */
import type { Backend } from '../backend/index.js';
import { tensor, zeros } from '../create.js';
import { DhenModel } from '../nn/dhen.js';
import { keep, liveTensors } from '../tensor.js';
import { syntheticClicks } from '../data/synthetic.js';
import { splitRows, subset, validateClickData } from '../data/schema.js';
import { Adam } from './optim.js';
import { FiniteGuard } from './finite-guard.js';
import { headLabels } from './loss.js';
import { trainStep } from './step.js';

export interface SoakSample {
  step: number;
  live: number;
  bytesInUse: number;
  bytesAllocated: number;
  highWater: number;
  /** Resident set size in MiB (Node), else null. */
  rssMiB: number | null;
  /** JS heap in use in MiB (Node), else null. */
  heapMiB: number | null;
  loss: number;
  /** Steps per second since the previous sample. */
  stepsPerSec: number;
}

export interface SoakOptions {
  steps: number;
  every: number;
  batch?: number;
  seed?: number;
  onSample?: (s: SoakSample) => void;
}

const memory = (): { rss: number; heap: number } | null => {
  const p = (globalThis as { process?: { memoryUsage?: () => { rss: number; heapUsed: number } } }).process;
  if (!p?.memoryUsage) return null;
  const m = p.memoryUsage();
  return { rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 };
};

export async function soak(backend: Backend, opts: SoakOptions): Promise<SoakSample[]> {
  const batch = opts.batch ?? 128, seed = opts.seed ?? 1;
  const data = syntheticClicks({ world: 'legacy', rows: 4096, seed });
  validateClickData(data, 'soak data');
  const model = new DhenModel({
    fields: data.fields, dim: 8, seed,
    layers: [{ modules: [{ type: 'fm', k: 4, hidden: [16] }, { type: 'linearCompress' }], ensemble: 'sum' }],
    head: { hidden: [16] }, auxHeads: ['head', 'tail'],
  }, backend);
  const named = model.namedParameters();
  const opt = new Adam(named, { lr: 0.005 });
  const guard = new FiniteGuard(backend);
  const order = splitRows(data.rows, seed, [1, 0, 0]).train;
  const aux = [{ cohort: 1, lambda: 0.3 }, { cohort: 2, lambda: 0.3 }];
  const lambdas = keep(tensor([1, 0.3, 0.3], [3], { backend }));
  const labels = keep(zeros([batch, 1 + aux.length], { backend }));
  const samples: SoakSample[] = [];
  let last = performance.now(), lastStep = 0;
  try {
    for (let step = 0; step < opts.steps; step++) {
      const start = (step * batch) % (data.rows - batch + 1);
      const rows = subset(data, order.subarray(start, start + batch));
      // C2AL labels: the label, then the label inside cohorts 1 and 2 (0 outside).
      backend.write(labels.storage, headLabels(rows.labels, rows.cohort, aux));
      const sample = (step + 1) % opts.every === 0 || step === 0;
      const perHead = trainStep(model, opt, { ids: rows.ids, labels }, { lambdas, guard, losses: sample });
      await guard.assertFinite(step);
      if (!perHead) continue;
      const value = (await perHead.toArray()).reduce((acc, l, h) => acc + [1, 0.3, 0.3][h]! * l, 0);
      perHead.dispose();
      const m = backend.memory(), mem = memory(), now = performance.now();
      const s: SoakSample = {
        step: step + 1, live: liveTensors().length, bytesInUse: m.bytesInUse, bytesAllocated: m.bytesAllocated, highWater: m.highWater,
        rssMiB: mem?.rss ?? null, heapMiB: mem?.heap ?? null, loss: value, stepsPerSec: ((step + 1 - lastStep) * 1000) / Math.max(1e-9, now - last),
      };
      last = now;
      lastStep = step + 1;
      samples.push(s);
      opts.onSample?.(s);
    }
  } finally {
    lambdas.dispose();
    labels.dispose();
    guard.dispose();
    opt.dispose();
    model.dispose();
  }
  return samples;
}
