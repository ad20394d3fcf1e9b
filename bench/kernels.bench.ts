/**
 * `npm run bench [-- --filter NAME] [-- --quick] [-- --json]`: the kernel benchmark of src/perf/bench.ts (the
 * same code `npx c2al bench` runs), printed as a markdown table for docs/benchmarks.md.
 * `npm run bench -- --filter train` runs the training-throughput benchmark (bench/train.bench.ts).
 */
import { parseArgs } from 'node:util';
import { WebGpuBackend } from '../src/index.js';
import { formatReport, runBench } from '../src/perf/bench.js';

const { values } = parseArgs({ options: { filter: { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' } }, strict: false });
if (values.filter === 'train') {
  // Training throughput instead of kernels: bench/train.bench.ts reads the same argv.
  await import('./train.bench.js');
  await new Promise(() => {}); // it exits the process itself
}
const gpu = await WebGpuBackend.create({ warm: true });
const report = await runBench(gpu, { filter: values.filter as string | undefined, quick: !!values.quick,
  log: values.json ? undefined : (l) => console.error(l) });
console.log(values.json ? JSON.stringify(report) : `\n${formatReport(report)}`);
gpu.destroy();
gpu.ctx.destroy();
process.exit(0);
