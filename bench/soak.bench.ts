/**
 * Soak benchmark: the loop of src/train/soak.ts (small C2AL-shaped DHEN, Adam, a FiniteGuard readback per
 * step) for many steps, sampling live tensors, pool bytes and RSS; prints a table and fails (exit 1) if
 * live tensors or pool bytes move after warm-up or RSS keeps climbing.
 * Usage: npx tsx bench/soak.bench.ts [--steps 10000] [--every 500] [--batch 128]
 */
import { parseArgs } from 'node:util';
import { WebGpuBackend } from '../src/index.js';
import { soak, type SoakSample } from '../src/train/soak.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '10000' }, every: { type: 'string', default: '500' },
  batch: { type: 'string', default: '128' } } });
const steps = Number(values.steps), every = Number(values.every), batch = Number(values.batch);

const gpu = await WebGpuBackend.create({ warm: true });
console.log(`soak: ${steps} steps, batch ${batch}, samples every ${every} steps on ${gpu.description} (${new Date().toISOString().slice(0, 10)})`);
console.log('| step | live tensors | pool bytes in use | pool bytes allocated | high water | RSS MiB | JS heap MiB | steps/s | loss |');
console.log('|---|---|---|---|---|---|---|---|---|');
const t0 = performance.now();
const samples: SoakSample[] = await soak(gpu, {
  steps, every, batch,
  onSample: (s) => console.log(`| ${s.step} | ${s.live} | ${s.bytesInUse} | ${s.bytesAllocated} | ${s.highWater} | ${s.rssMiB?.toFixed(1)} | ` +
    `${s.heapMiB?.toFixed(1)} | ${s.stepsPerSec.toFixed(1)} | ${s.loss.toFixed(4)} |`),
});
const seconds = (performance.now() - t0) / 1000;
const steady = samples.slice(2), settled = samples.filter((s) => s.step >= steps / 3);
const problems: string[] = [];
if (new Set(steady.map((s) => s.live)).size !== 1) problems.push('live tensors moved after warm-up');
if (new Set(steady.map((s) => s.bytesInUse)).size !== 1) problems.push('pool bytes in use moved after warm-up');
if (Math.max(...steady.map((s) => s.bytesAllocated)) !== steady[0]!.bytesAllocated) problems.push('pool bytes allocated grew after warm-up');
const rssGrowth = Math.max(...settled.map((s) => s.rssMiB!)) - settled[0]!.rssMiB!;
if (rssGrowth > 32) problems.push(`RSS grew ${rssGrowth.toFixed(1)} MiB after step ${settled[0]!.step}`);
console.log(`\n${steps} steps in ${seconds.toFixed(1)} s (${(steps / seconds).toFixed(1)} steps/s, ${(steps * batch / seconds).toFixed(0)} samples/s, one ` +
  `guard readback per step); RSS after step ${settled[0]!.step}: +${rssGrowth.toFixed(1)} MiB at most`);
console.log(problems.length ? `FAIL: ${problems.join('; ')}` : 'flat: live tensors, pool bytes and RSS');
gpu.destroy();
gpu.ctx.destroy();
process.exit(problems.length ? 1 : 0);
