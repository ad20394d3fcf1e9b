/**
 * Split-K matmul at shapes whose output fills few workgroups while K is long (a weight gradient Xᵀ·dY
 * over a large batch, a small square product of long vectors): the split path (partials + one
 * fixed-order column sum), the same product unsplit (one workgroup walks all of K), and TensorFlow.js's
 * webgpu matMul, in one process on the same Dawn adapter. Variants alternate within each repetition;
 * medians of wall time (submit to onSubmittedWorkDone). Usage: npx tsx bench/splitk.bench.ts [--reps N]
 */
import * as c from '../src/index.js';
import { loadTf } from '../src/perf/bench.js';
import { matmulSgWorkgroups, matmulVec4Workgroups } from '../src/kernels.js';
import { matmulKernelFor, matmulSplitK } from '../src/kernel-plan.js';
import { median } from '../src/c2al/stats.js';

const argv = process.argv.slice(2);
const reps = Number(argv[argv.indexOf('--reps') + 1]) || 5;
const gpu = await c.WebGpuBackend.create({ warm: true });
// The same device with split-K off: the unsplit product of the same kernel.
const unsplit = await c.WebGpuBackend.create({ context: gpu.ctx, plan: { matmul: { split: { minK: Infinity } } } });
const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.5);
const notes: string[] = [];
const tf = await loadTf(gpu, notes);

console.log(`adapter: ${gpu.description}; ${notes.join('; ')}`);
console.log(`median wall ms of ${reps} alternating repetitions`);
console.log('| product | workgroups unsplit | splits | split (ms) | unsplit (ms) | TF.js webgpu (ms) | split GFLOP/s | split / unsplit | split / TF.js |');
console.log('|---|---|---|---|---|---|---|---|---|');

// [M, K, N, A transposed]: Xᵀ·dY of a 416-wide layer over batch 8192; 64×64 over K = 65536; 128² over 16384.
const shapes: [number, number, number, boolean][] = [[416, 8192, 256, true], [64, 65536, 64, false], [128, 16384, 128, false], [16, 131072, 32, true]];
for (const [m, k, n, transA] of shapes) {
  const aData = rand(m * k, 1), bData = rand(k * n, 2);
  const on = (backend: c.WebGpuBackend) => [c.keep(c.tensor(aData, transA ? [k, m] : [m, k], { backend })),
    c.keep(c.tensor(bData, [k, n], { backend }))] as const;
  const inputs = [on(gpu), on(unsplit)];
  const layout = { m, n, k, batch: 1, batchShape: [], aBatchStrides: [], bBatchStrides: [], sam: transA ? 1 : k, sak: transA ? m : 1, sbk: n, sbn: 1 };
  const { kernel, args } = matmulKernelFor(layout, gpu.plan, gpu.subgroupSize);
  const workgroups = kernel === 'matmul_sg' ? matmulSgWorkgroups(args) : matmulVec4Workgroups(args);
  const splits = matmulSplitK(args, gpu.plan.matmul.split);
  const ours = (split: boolean) => async (): Promise<void> => {
    const [backend, [a, b]] = split ? [gpu, inputs[0]!] : [unsplit, inputs[1]!];
    c.noGrad(() => c.scope(() => { c.matmul(a, b, { transA }); }));
    await backend.done();
  };
  let peer: (() => Promise<void>) | null = null;
  if (tf) {
    const ta = tf.tensor(aData, transA ? [k, m] : [m, k]), tb = tf.tensor(bData, [k, n]);
    peer = async () => {
      const out = tf.matMul(ta, tb, transA, false);
      await c.idleWait(() => out.data()); // the same Dawn binding: the same wait as ours
      out.dispose();
    };
  }
  const variants = [ours(true), ours(false), ...(peer ? [peer] : [])];
  for (const v of variants) await v();
  const times = variants.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) {
    for (const [i, v] of variants.entries()) {
      const t0 = performance.now();
      await v();
      times[i]!.push(performance.now() - t0);
    }
  }
  const [split, whole, peerMs] = times.map((t) => median(t));
  const gflops = (2 * m * n * k) / split! / 1e6;
  console.log(`| ${transA ? `[${k}, ${m}]ᵀ` : `[${m}, ${k}]`}·[${k}, ${n}] | ${workgroups} (${kernel}) | ${splits} | ${split!.toFixed(1)} | ` +
    `${whole!.toFixed(1)} | ${peerMs?.toFixed(1) ?? '—'} | ${gflops.toFixed(2)} | ${(whole! / split!).toFixed(2)}× | ` +
    `${peerMs ? `${(peerMs / split!).toFixed(2)}×` : '—'} |`);
  for (const t of inputs.flat()) t.dispose();
}
process.exit(0);
