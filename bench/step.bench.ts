/**
 * Training-step benchmark: the reference DHEN config (26 categorical fields, vocabulary 10⁵ each, d = 16,
 * 2 DHEN layers of {FM attention, linear compress}, head MLP 256-128, batch 2048), one step = forward +
 * backward + Adam (lazy row-sparse Adam on the tables). Reports samples/s and the forward / backward /
 * optimizer split (each phase synced to measure it; the unsplit step is timed too), with and without
 * C2AL's two auxiliary heads, next to TensorFlow.js (webgpu backend, same Dawn adapter) running the
 * closest model it can build. Usage: npx tsx bench/step.bench.ts [--steps N] [--batch B] [--vocab V]
 */
import { parseArgs } from 'node:util';
import * as c from '../src/index.js';
import { median } from '../src/bench.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '3' }, batch: { type: 'string', default: '2048' }, vocab: { type: 'string', default: '100000' }, 'no-peer': { type: 'boolean' } } });
const steps = Number(values.steps), B = Number(values.batch), V = Number(values.vocab), F = 26, D = 16, K = 16;

function dataBatch(seed: number) {
  const next = c.mulberry32(seed);
  const ids = Array.from({ length: B * F }, () => Math.floor(next() * V));
  const labels = Array.from({ length: B }, () => (next() < 0.25 ? 1 : 0));
  return { ids, labels };
}

const gpu = await c.WebGpuBackend.create({ warm: true });
c.setBackend(gpu);
const results: string[] = [];

async function ours(aux: boolean) {
  const config: c.DhenConfig = {
    fields: Array.from({ length: F }, (_, i) => ({ name: `f${i}`, vocab: V })), dim: D, seed: 1,
    layers: [0, 1].map(() => ({ modules: [{ type: 'fm' as const, k: K }, { type: 'linearCompress' as const }], ensemble: 'sum' as const })),
    head: { hidden: [256, 128] }, auxHeads: aux ? ['head', 'tail'] : [],
  };
  const model = new c.DhenModel(config, gpu);
  const opt = new c.Adam(model.namedParameters(), { lr: 1e-3 });
  const { ids, labels } = dataBatch(7);
  const heads = aux ? 3 : 1;
  const y = c.tensor(Array.from({ length: B * heads }, (_, i) => labels[Math.floor(i / heads)]!), [B, heads], { backend: gpu });
  const sync = async () => { gpu.flush(); await gpu.device.queue.onSubmittedWorkDone(); };
  const lossOf = () => {
    const { logits } = model.forward(ids);
    const z = heads === 1 ? c.reshape(logits.primary!, [B, 1]) : c.concat(['primary', 'head', 'tail'].map((h) => c.reshape(logits[h]!, [B, 1])), 1);
    return c.mulScalar(c.sum(c.bceWithLogits(z, y)), 1 / B);
  };
  const phases = { forward: [] as number[], backward: [] as number[], optimizer: [] as number[], step: [] as number[] };
  for (let s = 0; s < steps + 1; s++) {
    // The whole step, one submit at the end.
    const t0 = performance.now();
    c.scope(() => lossOf().backward());
    opt.step();
    opt.zeroGrad();
    await sync();
    const t1 = performance.now();
    // The split: scopes are synchronous, so the forward is timed alone, then forward + backward again
    // (backward = that minus the forward), then the optimizer step.
    c.scope(() => { lossOf(); });
    await sync();
    const t2 = performance.now();
    c.scope(() => lossOf().backward());
    await sync();
    const t3 = performance.now();
    opt.step();
    opt.zeroGrad();
    await sync();
    const t4 = performance.now();
    if (s > 0) {
      phases.step.push(t1 - t0);
      phases.forward.push(t2 - t1);
      phases.backward.push(t3 - t2 - (t2 - t1));
      phases.optimizer.push(t4 - t3);
    }
  }
  const step = median(phases.step);
  results.push(`| ours${aux ? ' + C2AL heads (3 heads)' : ' (baseline, 1 head)'} | ${(B / step * 1000).toFixed(0)} | ${step.toFixed(0)} | ${median(phases.forward).toFixed(0)} | ${median(phases.backward).toFixed(0)} | ${median(phases.optimizer).toFixed(0)} |`);
  console.error(results[results.length - 1]);
  model.dispose();
  opt.dispose();
  y.dispose();
  return step;
}

async function peer() {
  const dawn = (await import('webgpu')) as { create: (f: string[]) => GPU };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.create([]) }, configurable: true });
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-webgpu');
  await tf.setBackend('webgpu');
  await tf.ready();
  const vars: import('@tensorflow/tfjs').Variable[] = [];
  const v = (t: import('@tensorflow/tfjs').Tensor) => { const x = tf.variable(t); vars.push(x); return x; };
  const tables = Array.from({ length: F }, (_, i) => v(tf.randomNormal([V, D], 0, 0.05, 'float32', i)));
  const layers = [0, 1].map((l) => ({
    y: v(tf.randomNormal([1, F, K], 0, 0.2, 'float32', 100 + l)),
    lnG: v(tf.ones([F * K])), lnB: v(tf.zeros([F * K])),
    w: v(tf.randomNormal([F * K, F * D], 0, 0.05, 'float32', 200 + l)), b: v(tf.zeros([F * D])),
    compress: v(tf.randomNormal([1, F, F], 0, 0.2, 'float32', 300 + l)),
    normG: v(tf.ones([D])), normB: v(tf.zeros([D])),
  }));
  const head = [[F * D, 256], [256, 128], [128, 1]].map(([i, o], j) => ({ w: v(tf.randomNormal([i!, o!], 0, Math.sqrt(2 / i!), 'float32', 400 + j)), b: v(tf.zeros([o!])) }));
  const ln = (x: import('@tensorflow/tfjs').Tensor, g: import('@tensorflow/tfjs').Tensor, b: import('@tensorflow/tfjs').Tensor) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).div(variance.add(1e-5).sqrt()).mul(g).add(b);
  };
  const { ids, labels } = dataBatch(7);
  const idT = tf.tensor2d(Int32Array.from(ids), [B, F], 'int32');
  const cols = tf.unstack(idT, 1);
  const yT = tf.tensor2d(labels, [B, 1]);
  const adam = tf.train.adam(1e-3);
  const lossFn = () => {
    let x = tf.stack(cols.map((col, i) => tf.gather(tables[i]!, col)), 1) as import('@tensorflow/tfjs').Tensor3D; // [B, F, D]
    for (const l of layers) {
      const t = tf.matMul(x, tf.tile(l.y, [B, 1, 1]), true, false); // [B, D, K]
      const g = tf.matMul(x, t); // [B, F, K]
      const fm = ln(g.reshape([B, F * K]), l.lnG, l.lnB).matMul(l.w).add(l.b).reshape([B, F, D]);
      const lc = tf.matMul(tf.tile(l.compress, [B, 1, 1]), x);
      x = ln(fm.add(lc).add(x), l.normG, l.normB) as import('@tensorflow/tfjs').Tensor3D;
    }
    let h: import('@tensorflow/tfjs').Tensor = x.reshape([B, F * D]);
    head.forEach((p, j) => { h = h.matMul(p.w).add(p.b); if (j < head.length - 1) h = tf.relu(h); });
    return tf.losses.sigmoidCrossEntropy(yT, h) as import('@tensorflow/tfjs').Scalar;
  };
  const times: number[] = [];
  for (let s = 0; s < steps + 1; s++) {
    const t0 = performance.now();
    const loss = adam.minimize(lossFn, true, vars);
    await loss!.data();
    loss!.dispose();
    if (s > 0) times.push(performance.now() - t0);
  }
  const step = median(times);
  results.push(`| TF.js ${tf.version_core} webgpu (closest model; dense table gradients and dense Adam) | ${(B / step * 1000).toFixed(0)} | ${step.toFixed(0)} | — | — | — |`);
  console.error(results[results.length - 1]);
  return step;
}

console.error(`adapter: ${gpu.description}; batch ${B}, 26 fields × vocab ${V}, d ${D}; ${steps} timed steps after 1 warm-up`);
const base = await ours(false);
const withAux = await ours(true);
const peerStep = values['no-peer'] ? null : await peer().catch((e: Error) => { results.push(`| TF.js | failed: ${e.message.split('\n')[0]} | | | | |`); return null; });
console.log(`adapter: ${gpu.description}; batch ${B}; 26 fields × vocabulary ${V}; d = ${D}; ${steps} timed steps (median) after a warm-up step
C2AL training overhead vs baseline: ${(100 * (withAux / base - 1)).toFixed(1)}%${peerStep ? `; ours (baseline) / TF.js step time: ${(peerStep / base).toFixed(2)}× faster` : ''}

| model | samples/s | step ms | forward ms | backward ms | optimizer ms |
|---|---|---|---|---|---|
${results.join('\n')}`);
gpu.destroy();
gpu.ctx.destroy();
process.exit(0);
