/**
 * `c2al doctor`: the WebGPU runtime, adapter, features and limits this machine offers, the kernels it built,
 * a matmul checked against the float64 reference, and whether the engine has what it needs (exit 1 if not).
 */
import { CpuBackend, WebGpuBackend, kernels, matmul, noGrad, randomUniform, scope } from '../index.js';
import { IMPORTANT_LIMITS, NO_ADAPTER_HINT, REQUIRED_LIMITS } from '../backend/device.js';
import type { KernelName } from '../kernels.js';
import { matmulSgPreferred } from '../kernel-plan.js';
import { version } from './runtime.js';

interface Check { name: string; ok: boolean; detail: string }

export async function doctor(json: boolean, dawn: string[]): Promise<number> {
  let gpu: WebGpuBackend;
  try {
    gpu = await WebGpuBackend.create({ dawnFlags: dawn, warm: true });
  } catch (e) {
    const message = (e as Error).message;
    if (json) console.log(JSON.stringify({ backend: 'webgpu', ok: false, error: message, hint: NO_ADAPTER_HINT }));
    else console.error(`c2al doctor: ${message}\n${message.includes(NO_ADAPTER_HINT) ? '' : NO_ADAPTER_HINT}`);
    return 1;
  }
  const { ctx } = gpu;
  const checks: Check[] = Object.entries(REQUIRED_LIMITS).map(([name, need]) => {
    const have = ctx.limits[name] ?? 0;
    return { name, ok: have >= need, detail: `${have} (needs >= ${need})` };
  });
  const built = (Object.keys(kernels) as KernelName[]).filter((k) => gpu.available(k)).length;
  checks.push({ name: 'pipelines', ok: true, detail: `${built} of ${Object.keys(kernels).length} kernels compiled and warmed in ` +
    `${gpu.compileMs.toFixed(0)} ms` });
  const sg = ctx.subgroupSize;
  checks.push({
    name: 'subgroups', ok: true,
    detail: sg === null ? 'no fixed subgroup size (matmul uses matmul_vec4)'
      : matmulSgPreferred(gpu.plan, sg) ? `fixed size ${sg} (row-major matmuls use matmul_sg)` : `fixed size ${sg} (matmul_sg built; matmul_vec4 chosen, ` +
        `measured faster at this size)`,
  });
  checks.push({ name: 'timestamp-query', ok: true, detail: ctx.features.includes('timestamp-query') ? 'available (profiler can time kernels)' : 'not ' +
    'offered (profiler falls back to CPU timing)' });
  // A real dispatch, compared with the float64 reference.
  const ref = new CpuBackend('f64');
  const [got, want] = await Promise.all([gpu, ref].map((b) => noGrad(() => scope(() => {
    const a = randomUniform([33, 17], { backend: b, seed: 1 }), w = randomUniform([17, 9], { backend: b, seed: 2 });
    return matmul(a, w);
  })).read()));
  const err = Math.max(...Array.from(want!, (v, i) => Math.abs(v - got![i]!)));
  checks.push({ name: 'matmul smoke test', ok: err < 1e-4, detail: `max |gpu - float64 reference| = ${err.toExponential(2)}` });
  checks.push({ name: 'uncaptured GPU errors', ok: ctx.errors.length === 0, detail: ctx.errors.length ? ctx.errors.join('; ') : 'none' });
  const ok = checks.every((c) => c.ok);
  const limits = Object.fromEntries([...IMPORTANT_LIMITS, 'minUniformBufferOffsetAlignment', 'maxDynamicUniformBuffersPerPipelineLayout']
    .map((k) => [k, ctx.limits[k] ?? null]));
  const report = {
    backend: 'webgpu', runtime: ctx.runtime, node: process.version, adapter: ctx.adapter, features: ctx.adapterFeatures,
      enabledFeatures: ctx.features, limits, checks, ok,
    env: { C2AL_DAWN: process.env.C2AL_DAWN ?? null, VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? null },
  };
  if (json) console.log(JSON.stringify(report));
  else {
    const a = ctx.adapter;
    console.log(`c2al ${version()} doctor`);
    console.log(`  runtime   ${ctx.runtime === 'dawn' ? `Dawn (npm webgpu) on Node ${process.version}` : ctx.runtime}`);
    console.log(`  adapter   ${a.description || '(no description)'}  [vendor '${a.vendor}', architecture ` +
      `'${a.architecture}'${a.device ? `, device '${a.device}'` : ''}]`);
    console.log(`  features  ${ctx.adapterFeatures.join(', ') || '(none)'}`);
    console.log(`  enabled   ${ctx.features.join(', ') || '(none)'}`);
    console.log('  limits');
    for (const [k, v] of Object.entries(limits)) console.log(`    ${k.padEnd(42)} ${v}`);
    console.log('  checks');
    for (const c of checks) console.log(`    ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(38)} ${c.detail}`);
    console.log(`  status    ${ok ? 'ready' : 'NOT READY: see FAIL lines above'}`);
  }
  gpu.destroy();
  ctx.destroy();
  return ok ? 0 : 1;
}
