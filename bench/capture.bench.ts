/**
 * Captured vs op-by-op training steps (npx tsx bench/capture.bench.ts): the reference DHEN (26 fields ×
 * vocab 10⁵, d = 16, batch 2048, Adam), baseline and with C2AL's two auxiliary heads. One model per
 * config trains with both kinds of step alternated (op by op, then a replay of the step captured after
 * the first), so machine drift hits both alike. Per step: host (JS) ms, until the step is submitted,
 * and wall ms, until the device is done; medians. The captured host time includes writing the batch
 * (the ids plan the op-by-op step builds inside its forward).
 * Usage: npx tsx bench/capture.bench.ts [--steps N] [--batch B] [--vocab V]
 */
import { parseArgs } from 'node:util';
import * as c from '../src/index.js';
import { median } from '../src/c2al/stats.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '6' }, batch: { type: 'string', default: '2048' },
  vocab: { type: 'string', default: '100000' } } });
const steps = Number(values.steps), B = Number(values.batch), V = Number(values.vocab), F = 26;

const gpu = await c.WebGpuBackend.create({ warm: true });
c.setBackend(gpu);

function batchOf(seed: number) {
  const next = c.mulberry32(seed);
  return { ids: Array.from({ length: B * F }, () => Math.floor(next() * V)), labels: Array.from({ length: B }, () => (next() < 0.25 ? 1 : 0)) };
}

interface Times { host: number[]; wall: number[]; replay: number[] }

async function compare(aux: boolean) {
  const model = new c.DhenModel(c.benchModelConfig('reference', { c2al: aux, vocab: V }), gpu);
  const opt = new c.Adam(model.namedParameters(), { lr: 1e-3 });
  const heads = aux ? 3 : 1;
  const y = c.zeros([B, heads], { backend: gpu });
  const feed = model.embeddings.feed(B);
  const trainStep = (ids: number[] | c.EmbeddingsFeed) => () => { c.trainStep(model, opt, { ids, labels: y }); };
  const labelsOf = (b: { labels: number[] }) => Float32Array.from({ length: B * heads }, (_, i) => b.labels[Math.floor(i / heads)]!);
  const first = batchOf(1);
  gpu.write(y.storage, labelsOf(first));
  feed.set(first.ids);
  trainStep(feed)();
  await gpu.done();
  const { step } = gpu.capture(trainStep(feed));
  await gpu.done();
  const eager: Times = { host: [], wall: [], replay: [] }, captured: Times = { host: [], wall: [], replay: [] };
  for (let s = 0; s < 2 * steps; s++) {
    const b = batchOf(2 + s), replay = s % 2 === 1, times = replay ? captured : eager;
    const t0 = performance.now();
    gpu.write(y.storage, labelsOf(b));
    if (replay) {
      feed.set(b.ids);
      const r0 = performance.now();
      step.replay();
      times.replay.push(performance.now() - r0);
    } else {
      trainStep(b.ids)();
      gpu.flush();
    }
    const t1 = performance.now();
    await gpu.done();
    times.host.push(t1 - t0);
    times.wall.push(performance.now() - t0);
  }
  const row = {
    model: aux ? 'C2AL (3 heads)' : 'baseline (1 head)', dispatches: step.dispatches, dynamic: step.dynamicDispatches, capturedMiB: step.bytes / 2 ** 20,
    eagerHost: median(eager.host), eagerWall: median(eager.wall), capturedHost: median(captured.host), replayHost: median(captured.replay),
      capturedWall: median(captured.wall),
  };
  step.dispose();
  feed.dispose();
  y.dispose();
  model.dispose();
  opt.dispose();
  return row;
}

console.error(`adapter: ${gpu.description}; batch ${B}, ${F} fields × vocab ${V}; ${steps} steps of each kind, alternated`);
const rows = [await compare(false), await compare(true)];
console.log(`adapter: ${gpu.description}; batch ${B}; ${F} fields × vocab ${V}; ${steps} steps of each kind, alternated (median); ${new Date().toISOString().slice(0, 10)}

| model | dispatches per step | refreshed per replay | op-by-op host ms | captured host ms (replay() alone) | host ratio | op-by-op step ms | captured step ms | step ratio |
|---|---|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.model} | ${r.dispatches} | ${r.dynamic} | ${r.eagerHost.toFixed(1)} | ${r.capturedHost.toFixed(1)} (${r.replayHost.toFixed(2)}) | ${(r.eagerHost / r.capturedHost).toFixed(1)}× | ${r.eagerWall.toFixed(0)} | ${r.capturedWall.toFixed(0)} | ${(r.eagerWall / r.capturedWall).toFixed(2)}× |`).join('\n')}`);
gpu.destroy();
gpu.ctx.destroy();
process.exit(0);
