/**
 * Sweeps the workgroup tile of matmul_vec4 (override constants TX × TY) on this adapter (matmul_sg, which
 * takes row-major products where subgroups have a fixed size, is switched off), at a square and
 * an FM-like batched shape, validating each variant first. Usage: npx tsx bench/matmul-sweep.bench.ts
 * The chosen tile is the default plan's (src/kernel-plan.ts, DEFAULT_PLAN.matmul.tile), recorded in docs/kernels.md.
 */
import { WebGpuBackend, matmul, randomUniform, noGrad, scope, requestGpuDevice, type Tensor } from '../src/index.js';

const shapes: { name: string; a: number[]; b: number[]; flops: number }[] = [
  { name: '1024³', a: [1024, 1024], b: [1024, 1024], flops: 2 * 1024 ** 3 },
  { name: 'FM X·T, B=1024 [32×64]·[64×16]', a: [1024, 32, 64], b: [1024, 64, 16], flops: 2 * 1024 * 32 * 64 * 16 },
];
const variants = [[8, 4], [4, 8], [8, 8], [16, 4], [8, 2], [16, 2], [4, 4], [32, 1]] as const;
const rows: string[] = [];
let reference: Float32Array[] | null = null;
for (const [TX, TY] of variants) {
  // Told there is no fixed subgroup size, matmul() runs matmul_vec4 (the kernel this sweep tunes) instead of matmul_sg.
  const gpu = await WebGpuBackend.create({ warm: true, plan: { matmul: { tile: { TX, TY } } },
    context: { ...(await requestGpuDevice()), subgroupSize: null } });
  const cells: string[] = [];
  const results: Float32Array[] = [];
  for (const s of shapes) {
    const [a, b] = [randomUniform(s.a, { backend: gpu, seed: 1 }), randomUniform(s.b, { backend: gpu, seed: 2 })];
    const once = (): Tensor => noGrad(() => scope(() => matmul(a, b)));
    const first = once();
    results.push((await first.read()) as Float32Array);
    first.dispose();
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const c = once();
      await gpu.done();
      times.push(performance.now() - t0);
      c.dispose();
    }
    const ms = times.sort((x, y) => x - y)[1]!;
    cells.push(`${(s.flops / ms / 1e6).toFixed(2)}`);
    a.dispose();
    b.dispose();
  }
  // Every variant must give the same bits as the first: the tile changes the schedule, not the sums.
  if (reference) results.forEach((r, i) => { if (r.some((v, j) => v !== reference![i]![j])) throw new Error(`TX=${TX} TY=${TY}: results differ`); });
  reference ??= results;
  rows.push(`| ${TX} × ${TY} (${TX * TY} invocations) | ${cells.join(' | ')} |`);
  console.error(rows[rows.length - 1]);
  gpu.destroy();
  gpu.ctx.destroy();
}
console.log(`\n| tile TX × TY | ${shapes.map((s) => `${s.name} GFLOP/s`).join(' | ')} |\n|---|${shapes.map(() => '---|').join('')}\n${rows.join('\n')}`);
process.exit(0);
