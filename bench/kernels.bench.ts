/**
 * Kernel benchmark: for each kernel and size, validate the WebGPU result against the float64 twin,
 * then time K dispatches (one submit, synced with onSubmittedWorkDone) next to the same kernel's CPU
 * twin in float32 (plain JS loops, the peer measured in the same run). Prints a markdown table with the
 * adapter. Usage: npm run bench [-- --filter NAME] [-- --reps K]
 */
import { parseArgs } from 'node:util';
import { CpuBackend, WebGpuBackend, type Backend, type KernelName } from '../src/index.js';
import type { Data } from '../src/reference.js';
import { strides } from '../src/shape.js';

const { values } = parseArgs({ options: { filter: { type: 'string' }, reps: { type: 'string', default: '20' } } });
const reps = Number(values.reps);

interface Case { name: string; kernel: KernelName; inputs: number[][]; outputs: number[]; args: object; flops?: number; bytes: number }

const rand = (n: number, seed: number): number[] => {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
};

function matmulCase(b: number, m: number, k: number, n: number, shareB: boolean): Case {
  return {
    name: `matmul [${b}×${m}×${k}]·[${shareB ? '' : `${b}×`}${k}×${n}]`, kernel: 'matmul',
    inputs: [rand(b * m * k, 1), rand((shareB ? 1 : b) * k * n, 2)], outputs: [b * m * n],
    args: { m, n, k, batch: b, batchShape: [b], aBatchStrides: [m * k], bBatchStrides: [shareB ? 0 : k * n], sam: k, sak: 1, sbk: n, sbn: 1 },
    flops: 2 * b * m * n * k, bytes: 4 * (b * m * k + (shareB ? 1 : b) * k * n + b * m * n),
  };
}

const N = 1 << 20;
const allCases: Case[] = [
  matmulCase(1, 256, 256, 256, false),
  matmulCase(1, 512, 512, 512, false),
  // FM-interaction-like shapes: many small per-sample products (X: [B, n, d], Y shared [n, k]).
  matmulCase(1024, 16, 32, 8, true),
  { name: 'exp, 1M', kernel: 'exp' as const, inputs: [rand(N, 3)], outputs: [N], args: { n: N, alpha: 0 }, bytes: 8 * N },
  { name: 'add, [1024×1024] + [1024] broadcast', kernel: 'add' as const, inputs: [rand(N, 4), rand(1024, 5)], outputs: [N],
    args: { n: N, shape: [1024, 1024], strides: [[1024, 1], [0, 1]] }, bytes: 8 * N },
  { name: 'reduce_sum, 1024 rows × 1024', kernel: 'reduce_sum' as const, inputs: [rand(N, 6)], outputs: [1024], args: { rows: 1024, len: 1024 }, bytes: 4 * N },
  { name: 'reduce_sum, 16 rows × 65536', kernel: 'reduce_sum' as const, inputs: [rand(N, 7)], outputs: [16], args: { rows: 16, len: 65536 }, bytes: 4 * N },
  { name: 'copy (transpose 1024×1024)', kernel: 'copy' as const, inputs: [rand(N, 8)], outputs: [N],
    args: { n: N, shape: [1024, 1024], strides: [[1, 1024], strides([1024, 1024])], aOff: 0, oOff: 0 }, bytes: 8 * N },
];
const cases = allCases.filter((c) => !values.filter || c.name.includes(values.filter) || c.kernel.includes(values.filter));

function timeRuns(backend: Backend, c: Case, ins: unknown[], outs: unknown[], k: number): number {
  const t0 = performance.now();
  for (let i = 0; i < k; i++) backend.run(c.kernel, ins as never, outs as never, c.args as never);
  return performance.now() - t0;
}

const gpu = await WebGpuBackend.create({ warm: true });
const cpu = new CpuBackend('f32');
const ref = new CpuBackend('f64');
const rows: string[] = [];
console.log(`adapter: ${gpu.description} (${gpu.ctx.runtime}); CPU peer: the kernel's JS twin in float32; ${reps} reps`);
for (const c of cases) {
  const results: Data[] = [];
  for (const b of [ref, gpu] as Backend[]) {
    const ins = c.inputs.map((d) => b.upload(Float32Array.from(d), 'f32'));
    const outs = c.outputs.map((n) => b.alloc(n, 'f32'));
    b.run(c.kernel, ins, outs, c.args as never);
    results.push(await b.read(outs[0]!));
    [...ins, ...outs].forEach((s) => b.release(s));
  }
  let maxErr = 0, maxRef = 0;
  results[0]!.forEach((v, i) => { maxErr = Math.max(maxErr, Math.abs(v - results[1]![i]!)); maxRef = Math.max(maxRef, Math.abs(v)); });
  if (!(maxErr <= 1e-4 * Math.max(1, maxRef))) throw new Error(`${c.name}: GPU result differs from the reference by ${maxErr}`);

  const gIns = c.inputs.map((d) => gpu.upload(Float32Array.from(d), 'f32'));
  const gOuts = c.outputs.map((n) => gpu.alloc(n, 'f32'));
  timeRuns(gpu, c, gIns, gOuts, 2);
  gpu.flush();
  await gpu.device.queue.onSubmittedWorkDone();
  const t0 = performance.now();
  timeRuns(gpu, c, gIns, gOuts, reps);
  gpu.flush();
  await gpu.device.queue.onSubmittedWorkDone();
  const gpuMs = (performance.now() - t0) / reps;
  [...gIns, ...gOuts].forEach((s) => gpu.release(s));

  const cIns = c.inputs.map((d) => cpu.upload(Float32Array.from(d), 'f32'));
  const cOuts = c.outputs.map((n) => cpu.alloc(n, 'f32'));
  const cpuReps = Math.max(1, Math.min(reps, Math.round(2e8 / (c.flops ?? c.bytes))));
  timeRuns(cpu, c, cIns, cOuts, 1); // JIT warm-up
  const cpuMs = timeRuns(cpu, c, cIns, cOuts, cpuReps) / cpuReps;
  const rate = (ms: number): string => (c.flops ? `${(c.flops / ms / 1e6).toFixed(2)} GFLOP/s` : `${(c.bytes / ms / 1e6).toFixed(2)} GB/s`);
  rows.push(`| ${c.name} | ${gpuMs.toFixed(2)} | ${rate(gpuMs)} | ${cpuMs.toFixed(2)} | ${rate(cpuMs)} | ${(cpuMs / gpuMs).toFixed(2)}× | ${maxErr.toExponential(1)} |`);
  console.log(rows[rows.length - 1]);
}
console.log(`\n| kernel | WebGPU ms | WebGPU rate | CPU twin ms | CPU twin rate | speedup | max abs err vs f64 |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}`);
gpu.destroy();
gpu.ctx.destroy();
process.exit(0);
