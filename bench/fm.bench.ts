/**
 * FM interaction G = X·(Xᵀ·Y), forward + backward (dX and dY), at the issue's shapes: the fused fm_interaction
 * kernel (what fmInteraction runs), the same op composed from two batched matmuls, and TensorFlow.js's
 * webgpu backend composing its matMuls (tf.grads), in one process on the same Dawn adapter. Variants
 * alternate within each repetition so machine noise hits them alike; medians of wall time per
 * forward + backward (submit to onSubmittedWorkDone). Usage: npx tsx bench/fm.bench.ts [--reps N] [--quick]
 */
import * as c from '../src/index.js';
import { loadTf } from '../src/perf/bench.js';
import { median } from '../src/c2al/stats.js';

const args = process.argv.slice(2);
const reps = Number(args[args.indexOf('--reps') + 1]) || 7;
const quick = args.includes('--quick');
const gpu = await c.WebGpuBackend.create({ warm: true });
const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.5);

const notes: string[] = [];
const tf = await loadTf(gpu, notes);

console.log(`adapter: ${gpu.description}; ${notes.join('; ')}`);
console.log(`median wall ms per forward + backward over ${reps} alternating repetitions; GFLOP/s counts 3 × the forward's 4·B·n·d·k`);
console.log('| B, n, d, k | Y | fused (ms) | composed matmuls (ms) | TF.js webgpu (ms) | fused GFLOP/s | fused / composed | fused / TF.js |');
console.log('|---|---|---|---|---|---|---|---|');

const shapes: [number, number, number, number][] = quick ? [[256, 32, 64, 16]] : [[1024, 32, 64, 16], [4096, 32, 64, 16],
  [2048, 26, 16, 16], [4096, 8, 128, 32]];
for (const [B, n, d, k] of shapes) {
  for (const shared of [true, false]) {
    const yShape = shared ? [n, k] : [B, n, k];
    const xData = rand(B * n * d, 1), yData = rand(yShape.reduce((a, b) => a * b), 2), dgData = rand(B * n * k, 3);
    const opts = { backend: gpu };
    const x = c.keep(c.tensor(xData, [B, n, d], { ...opts, requiresGrad: true }));
    const y = c.keep(c.tensor(yData, yShape, { ...opts, requiresGrad: true }));
    const dg = c.keep(c.tensor(dgData, [B, n, k], opts));
    const ours = (fused: boolean) => async (): Promise<void> => {
      c.scope(() => {
        const g = fused ? c.fmInteraction(x, y) : c.matmul(x, c.matmul(x, y, { transA: true }));
        g.backward(dg);
      });
      await gpu.done();
      x.zeroGrad();
      y.zeroGrad();
    };
    let peer: (() => Promise<void>) | null = null;
    if (tf) {
      const t = tf;
      const tx = t.tensor(xData, [B, n, d]), ty = t.tensor(yData, yShape), tdg = t.tensor(dgData, [B, n, k]);
      // TF.js's BatchMatMul gradient does not reduce a broadcast operand: broadcast Y explicitly.
      const grads = t.grads((a, b) => t.matMul(a!, t.matMul(a!, shared ? t.broadcastTo(b!, [B, n, k]) : b!, true, false)));
      peer = async () => {
        const [gx, gy] = grads([tx, ty], tdg);
        // The same Dawn binding, so the same sleep-between-polls wait as ours (c.idleWait).
        await c.idleWait(() => gx!.data());
        await c.idleWait(() => gy!.data());
        gx!.dispose();
        gy!.dispose();
      };
    }
    const variants = [ours(true), ours(false), ...(peer ? [peer] : [])];
    for (const v of variants) await v(); // warm: the first dispatch compiles on lavapipe
    const times: number[][] = variants.map(() => []);
    for (let r = 0; r < reps; r++) {
      for (const [i, v] of variants.entries()) {
        const t0 = performance.now();
        await v();
        times[i]!.push(performance.now() - t0);
      }
    }
    const [fused, composed, tfMs] = times.map(median) as [number, number, number | undefined];
    const gflops = 3 * 4 * B * n * d * k / fused / 1e6;
    console.log(`| ${B}, ${n}, ${d}, ${k} | ${shared ? 'shared' : 'per sample'} | ${fused.toFixed(1)} | ${composed.toFixed(1)} | ` +
      `${tfMs?.toFixed(1) ?? '—'} | ${gflops.toFixed(2)} | ${(composed / fused).toFixed(2)}× | ${tfMs ? `${(tfMs / fused).toFixed(2)}×` : '—'} |`);
    [x, y, dg].forEach((t) => t.dispose());
  }
}
gpu.destroy();
gpu.ctx.destroy();
process.exit(0);
