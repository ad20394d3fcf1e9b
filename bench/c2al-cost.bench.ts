/**
 * C2AL's training cost on the reference DHEN, measured robustly on a noisy shared machine: baseline,
 * full-size auxiliary heads and 32-1 auxiliary heads are profiled in one process, alternating, several
 * rounds; medians of wall step time and of kernels' GPU time per step.
 * Usage: npx tsx bench/c2al-cost.bench.ts [--rounds N] [--steps N]
 */
import { parseArgs } from 'node:util';
import * as c from '../src/index.js';
import { median } from '../src/perf/bench.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, steps: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds), steps = Number(values.steps);
const gpu = await c.WebGpuBackend.create({ warm: true });
const variants = [
  { name: 'baseline (1 head)', c2al: false },
  { name: 'C2AL, auxiliary heads 256-128-1', c2al: true },
  { name: 'C2AL, auxiliary heads 32-1', c2al: true, auxHidden: [32] },
] as const;
const wall = variants.map(() => [] as number[]), gpuMs = variants.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) {
  for (const [i, v] of variants.entries()) {
    const rep = await c.profileTraining(gpu, { model: 'reference', steps, warmup: 1, c2al: v.c2al,
      ...('auxHidden' in v ? { auxHidden: [...v.auxHidden] } : {}) });
    wall[i]!.push(rep.plain.wallMs);
    gpuMs[i]!.push(c.summarizeProfile(rep).gpuMsPerStep);
    console.error(`round ${r + 1}: ${v.name}: step ${rep.plain.wallMs.toFixed(0)} ms, GPU ${gpuMs[i]!.at(-1)!.toFixed(0)} ms`);
  }
}
const [w0, g0] = [median(wall[0]!), median(gpuMs[0]!)];
console.log(`adapter: ${gpu.description}; reference DHEN, batch 2048; ${rounds} alternating rounds of ${steps} steps; medians\n`);
console.log('| variant | wall step ms | vs baseline | kernels\' GPU ms per step | vs baseline |\n|---|---|---|---|---|');
variants.forEach((v, i) => {
  const [w, g] = [median(wall[i]!), median(gpuMs[i]!)];
  console.log(`| ${v.name} | ${w.toFixed(0)} | ${i ? `${(100 * (w / w0 - 1)).toFixed(1)}%` : '—'} | ${g.toFixed(0)} | ` +
    `${i ? `${(100 * (g / g0 - 1)).toFixed(1)}%` : '—'} |`);
});
gpu.destroy();
gpu.ctx.destroy();
process.exit(0);
