/**
 * LayerNorm kernel variants on this adapter: one workgroup of 64 per row with tree sums (layer_norm,
 * layer_norm_backward) vs one invocation per row with sequential sums (layer_norm_rows,
 * layer_norm_backward_rows), forward and backward, over row lengths. The op picks the variant by row
 * length from this measurement (docs/kernels.md). Usage: npx tsx bench/layer-norm.bench.ts
 */
import * as c from '../src/index.js';
import { timeKernel } from '../src/perf/bench.js';

const gpu = await c.WebGpuBackend.create({ warm: true });
const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));
console.log(`adapter: ${gpu.description}; GPU-timestamp median per dispatch (ms), 8 dispatches × 5 repetitions`);
console.log('| rows × dim | forward: workgroup/row | forward: invocation/row | ratio | backward: workgroup/row | backward: invocation/row | ratio |');
console.log('|---|---|---|---|---|---|---|');
for (const [rows, dim] of [[512, 16], [512, 40], [2048, 40], [512, 64], [2048, 128], [2048, 256], [2048, 416], [512, 1024]] as const) {
  const x = gpu.upload(rand(rows * dim, 1), 'f32'), g = gpu.upload(rand(dim, 2), 'f32'), b = gpu.upload(rand(dim, 3),
    'f32'), dy = gpu.upload(rand(rows * dim, 4), 'f32');
  const y = gpu.alloc(rows * dim, 'f32'), dx = gpu.alloc(rows * dim, 'f32'), dyx = gpu.alloc(rows * dim, 'f32');
  const args = { rows, dim, eps: 1e-5 };
  const t = async (k: 'layer_norm' | 'layer_norm_rows' | 'layer_norm_backward' | 'layer_norm_backward_rows') => {
    const r = k.startsWith('layer_norm_backward') ? await timeKernel(gpu, k, [x, g, dy], [dx, dyx], args, 8, 5) : await timeKernel(gpu, k,
      [x, g, b], [y], args, 8, 5);
    return r.gpuMs ?? r.ms;
  };
  const [f1, f2, b1, b2] = [await t('layer_norm'), await t('layer_norm_rows'), await t('layer_norm_backward'), await t('layer_norm_backward_rows')];
  console.log(`| ${rows} × ${dim} | ${f1.toFixed(3)} | ${f2.toFixed(3)} | ${(f1 / f2).toFixed(1)}× | ${b1.toFixed(3)} | ${b2.toFixed(3)} | ` +
    `${(b1 / b2).toFixed(1)}× |`);
  for (const s of [x, g, b, dy, y, dx, dyx]) gpu.release(s);
}
gpu.destroy();
gpu.ctx.destroy();
process.exit(0);
