/**
 * Training throughput (`npm run bench -- --filter train`, or npx tsx bench/step.bench.ts): the reference
 * DHEN config (26 categorical fields, vocabulary 10⁵ each, d = 16, 2 DHEN layers of {FM attention,
 * linear compress}, head MLP 256-128, batch 2048), one step = forward + backward + Adam (lazy row-sparse
 * Adam on the tables). Reports samples/s, time to first step (pipeline compilation + the first step), the
 * forward / backward / optimizer split (each phase synced to measure it; the unsplit step is timed too),
 * host (JS) time per step, with and without C2AL's two auxiliary heads, and the serving forward pass of
 * the C2AL model against the baseline's. Side by side in the same run: TensorFlow.js (webgpu backend on
 * the same Dawn adapter; cpu backend at a small vocabulary, as it cannot hold 26 dense 10⁵-row gradients
 * in time) with the closest model it can build, and PyTorch CPU (Debian's python3-torch, bench/step_torch.py;
 * skipped with a printed reason when absent).
 * Usage: npx tsx bench/step.bench.ts [--steps N] [--batch B] [--vocab V] [--cpu-vocab V] [--no-peer]
 */
import { parseArgs } from 'node:util';
import * as c from '../src/index.js';
import { median } from '../src/perf/bench.js';

const { values } = parseArgs({ options: {
  steps: { type: 'string', default: '3' }, batch: { type: 'string', default: '2048' }, vocab: { type: 'string', default: '100000' },
  'cpu-vocab': { type: 'string', default: '100' }, 'no-peer': { type: 'boolean' }, filter: { type: 'string' },
    quick: { type: 'boolean' }, json: { type: 'boolean' },
} });
const steps = Number(values.steps), B = Number(values.batch), VOCAB = Number(values.vocab), CPU_VOCAB = Number(values['cpu-vocab']), F = 26, D = 16, K = 16;
let V = VOCAB;

function dataBatch(seed: number) {
  const next = c.mulberry32(seed);
  const ids = Array.from({ length: B * F }, () => Math.floor(next() * V));
  const labels = Array.from({ length: B }, () => (next() < 0.25 ? 1 : 0));
  return { ids, labels };
}

const createStart = performance.now();
const gpu = await c.WebGpuBackend.create({ warm: true });
const createMs = performance.now() - createStart;
c.setBackend(gpu);

interface Row { name: string; vocab: number; samplesPerS: number; stepMs: number; firstStepS: number | null; forward?: number; backward?: number;
  optimizer?: number; hostMs?: number; servingMs?: number; replayMs?: number }
const rows: Row[] = [];
const report = (r: Row) => { rows.push(r); console.error(`  ${r.name} (vocab ${r.vocab}): ${r.samplesPerS.toFixed(0)} samples/s, step ` +
  `${r.stepMs.toFixed(0)} ms`); };

async function ours(aux: boolean, split = true, auxHidden?: number[]): Promise<Row> {
  const config = c.benchModelConfig('reference', { c2al: aux, auxHidden, vocab: V });
  const model = new c.DhenModel(config, gpu);
  const opt = new c.Adam(model.namedParameters(), { lr: 1e-3 });
  const { ids, labels } = dataBatch(7);
  const heads = aux ? 3 : 1;
  const y = c.tensor(Array.from({ length: B * heads }, (_, i) => labels[Math.floor(i / heads)]!), [B, heads], { backend: gpu });
  const sync = () => gpu.done();
  const lossOf = () => c.c2alLoss(model, model.forward(ids).logits, y).loss;
  const phases = { forward: [] as number[], backward: [] as number[], optimizer: [] as number[], step: [] as number[], host: [] as number[] };
  let first = 0;
  for (let s = 0; s < steps + 1; s++) {
    // The whole step, one submit at the end; host = the time JS spends recording it.
    const t0 = performance.now();
    c.trainStep(model, opt, { ids, labels: y });
    const th = performance.now();
    await sync();
    const t1 = performance.now();
    if (s === 0) first = t1 - t0;
    if (!split) { if (s > 0) { phases.step.push(t1 - t0); phases.host.push(th - t0); } continue; }
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
      phases.host.push(th - t0);
      phases.forward.push(t2 - t1);
      phases.backward.push(t3 - t2 - (t2 - t1));
      phases.optimizer.push(t4 - t3);
    }
  }
  const step = median(phases.step);
  const row: Row = {
    name: `ours${aux ? ` + C2AL heads (3 heads${auxHidden ? `; aux heads ${auxHidden.length ? auxHidden.join('-') + '-1' : 'linear'}` : ', all 256-128-1'})`
      : ' (baseline, 1 head)'}`,
    vocab: V, samplesPerS: (B / step) * 1000, stepMs: step,
    firstStepS: (createMs + first) / 1000, hostMs: median(phases.host),
    ...(split ? { forward: median(phases.forward), backward: median(phases.backward), optimizer: median(phases.optimizer) } : {}),
  };
  report(row);
  model.dispose();
  opt.dispose();
  y.dispose();
  return row;
}

/**
 * The same step captured (WebGpuBackend.capture) after an uncaptured first one, then replayed: per step
 * the host writes the batch into the feed's buffers (ids plan, labels) and replays; host = that JS time,
 * replay = the replay() call alone.
 */
async function captured(aux: boolean): Promise<Row> {
  const config = c.benchModelConfig('reference', { c2al: aux, vocab: V });
  const model = new c.DhenModel(config, gpu);
  const opt = new c.Adam(model.namedParameters(), { lr: 1e-3 });
  const { ids, labels } = dataBatch(7);
  const heads = aux ? 3 : 1;
  const yData = Float32Array.from({ length: B * heads }, (_, i) => labels[Math.floor(i / heads)]!);
  const y = c.tensor(yData, [B, heads], { backend: gpu });
  const feed = model.embeddings.feed(B);
  const trainStep = () => { c.trainStep(model, opt, { ids: feed, labels: y }); };
  const t0 = performance.now();
  feed.set(ids);
  trainStep();
  await gpu.done();
  const first = performance.now() - t0;
  feed.set(ids);
  const { step } = gpu.capture(trainStep);
  await gpu.done();
  const times = { step: [] as number[], host: [] as number[], replay: [] as number[] };
  for (let s = 0; s < steps; s++) {
    const t1 = performance.now();
    feed.set(ids);
    gpu.write(y.storage, yData);
    const t2 = performance.now();
    step.replay();
    const t3 = performance.now();
    await gpu.done();
    const t4 = performance.now();
    times.step.push(t4 - t1);
    times.host.push(t3 - t1);
    times.replay.push(t3 - t2);
  }
  const stepMs = median(times.step);
  const row: Row = {
    name: `ours, captured step${aux ? ' + C2AL heads (3 heads, all 256-128-1)' : ' (baseline, 1 head)'}; ${step.dispatches} dispatches per submit`, vocab: V,
    samplesPerS: (B / stepMs) * 1000, stepMs, firstStepS: (createMs + first) / 1000, hostMs: median(times.host), replayMs: median(times.replay),
  };
  report(row);
  step.dispose();
  feed.dispose();
  model.dispose();
  opt.dispose();
  y.dispose();
  return row;
}

/**
 * Serving cost: the forward pass of the baseline and of the C2AL model's inference view (auxiliary heads
 * dropped), alternated so drift hits both alike; median of `reps`.
 */
async function servingCost(reps = 5): Promise<{ baseline: number; c2al: number }> {
  const config = (aux: boolean) => c.benchModelConfig('reference', { c2al: aux, vocab: V });
  const base = new c.DhenModel(config(false), gpu).eval(), withAux = new c.DhenModel(config(true), gpu);
  const serving = withAux.forInference().eval();
  const { ids } = dataBatch(7);
  const times = { baseline: [] as number[], c2al: [] as number[] };
  for (let r = 0; r < reps + 1; r++) {
    for (const [name, m] of [['baseline', base], ['c2al', serving]] as const) {
      const t0 = performance.now();
      c.noGrad(() => c.scope(() => { m.forward(ids); }));
      await gpu.done();
      if (r > 0) times[name].push(performance.now() - t0);
    }
  }
  base.dispose();
  withAux.dispose();
  return { baseline: median(times.baseline), c2al: median(times.c2al) };
}

type Tf = typeof import('@tensorflow/tfjs');
let tfLoaded: Tf | null = null;
async function loadTf(): Promise<Tf> {
  if (tfLoaded) return tfLoaded;
  const dawn = (await import('webgpu')) as { create: (f: string[]) => GPU };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.create([]) }, configurable: true });
  tfLoaded = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-webgpu');
  return tfLoaded;
}

/** TensorFlow.js with the closest model it can build (dense table gradients, dense Adam). */
async function peer(backend: 'webgpu' | 'cpu'): Promise<Row> {
  const tf = await loadTf();
  await tf.setBackend(backend);
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
  const head = [[F * D, 256], [256, 128], [128, 1]].map(([i, o], j) => ({ w: v(tf.randomNormal([i!, o!], 0, Math.sqrt(2 / i!), 'float32',
    400 + j)), b: v(tf.zeros([o!])) }));
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
  let first = 0;
  for (let s = 0; s < steps + 1; s++) {
    const t0 = performance.now();
    const loss = adam.minimize(lossFn, true, vars);
    await loss!.data();
    loss!.dispose();
    if (s === 0) first = performance.now() - t0;
    else times.push(performance.now() - t0);
  }
  const step = median(times);
  const row: Row = { name: `TF.js ${tf.version_core} ${backend} (closest model; dense table gradients, dense Adam)`, vocab: V,
    samplesPerS: (B / step) * 1000, stepMs: step, firstStepS: first / 1000 };
  report(row);
  for (const x of [...vars, idT, yT, ...cols]) x.dispose();
  adam.dispose();
  return row;
}

/** PyTorch CPU with the same model (bench/step_torch.py), when Debian's python3-torch is installed. */
async function torchPeer(): Promise<Row[]> {
  const { spawnSync } = await import('node:child_process');
  const python = '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.error(`  PyTorch: skipped (${python} cannot import torch: ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}; ` +
      `apt-get install python3-torch)`);
    return [];
  }
  const r = spawnSync(python, ['bench/step_torch.py', '--steps', String(steps), '--batch', String(B), '--vocab', String(VOCAB), '--threads', '2'],
    { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) { console.error(`  PyTorch: failed: ${r.stderr.trim().split('\n').pop()}`); return []; }
  const out = JSON.parse(r.stdout) as { torch: string; threads: number; results: { heads: number; sparse: boolean; step_ms: number; samples_per_s: number;
    first_step_ms: number }[] };
  return out.results.map((x) => {
    const row: Row = {
      name: `PyTorch ${out.torch} CPU, ${out.threads} threads, ` +
        `${x.sparse ? 'sparse table gradients + SparseAdam' : 'dense Adam'}${x.heads === 3 ? ' + C2AL heads' : ''}`,
      vocab: VOCAB, samplesPerS: x.samples_per_s, stepMs: x.step_ms, firstStepS: x.first_step_ms / 1000,
    };
    report(row);
    return row;
  });
}

console.error(`adapter: ${gpu.description}; batch ${B}, 26 fields × vocab ${VOCAB}, d ${D}; ${steps} timed steps after 1 warm-up`);
const base = await ours(false);
const baseCaptured = await captured(false);
const withAux = await ours(true);
const withAuxCaptured = await captured(true);
const smallAux = await ours(true, true, [32]);
const serving = await servingCost();
base.servingMs = serving.baseline;
withAux.servingMs = serving.c2al;
V = CPU_VOCAB;
const smallOurs = await ours(false, false);
V = VOCAB;
// Peers last: TF.js creates a second Dawn device in this process.
const webgpuPeer = values['no-peer'] ? null : await peer('webgpu').catch((e: Error) => { console.error(`  TF.js webgpu failed: ` +
  `${e.message.split('\n')[0]}`); return null; });
V = CPU_VOCAB;
const cpuPeer = values['no-peer'] ? null : await peer('cpu').catch((e: Error) => { console.error(`  TF.js cpu failed: ` +
  `${e.message.split('\n')[0]}`); return null; });
V = VOCAB;
const torch = values['no-peer'] ? [] : await torchPeer();
const torchSparse = torch.find((r) => r.name.includes('SparseAdam') && !r.name.includes('C2AL'));
const fmt = (x: number | undefined, d = 0) => (x === undefined ? '—' : x.toFixed(d));
console.log(`adapter: ${gpu.description}; batch ${B}; 26 fields; d = ${D}; ${steps} timed steps (median) after a warm-up step; ${new Date().toISOString().slice(0, 10)}

- C2AL training overhead vs baseline: ${(100 * (withAux.stepMs / base.stepMs - 1)).toFixed(1)}% per step with auxiliary heads as large as the primary (256-128-1), ${(100 * (smallAux.stepMs / base.stepMs - 1)).toFixed(1)}% with 32-1 auxiliary heads; serving forward pass of the C2AL inference model vs the baseline's (alternated, median of 5): ×${(serving.c2al / serving.baseline).toFixed(3)} (${serving.c2al.toFixed(1)} vs ${serving.baseline.toFixed(1)} ms)
- host (JS) time per step: ${fmt(base.hostMs, 1)} ms of ${fmt(base.stepMs)} ms (${(100 * base.hostMs! / base.stepMs).toFixed(1)}%) recorded op by op; captured: ${fmt(baseCaptured.hostMs, 1)} ms of ${fmt(baseCaptured.stepMs)} ms (${(100 * baseCaptured.hostMs! / baseCaptured.stepMs).toFixed(1)}%), of which replay() ${fmt(baseCaptured.replayMs, 2)} ms and the batch's ids plan + label writes the rest; C2AL overhead captured: ${(100 * (withAuxCaptured.stepMs / baseCaptured.stepMs - 1)).toFixed(1)}%${webgpuPeer ? `\n- ours / TF.js webgpu (vocab ${VOCAB}): ${(base.samplesPerS / webgpuPeer.samplesPerS).toFixed(2)}× the samples/s` : ''}${cpuPeer ? `\n- ours / TF.js cpu (vocab ${CPU_VOCAB}): ${(smallOurs.samplesPerS / cpuPeer.samplesPerS).toFixed(2)}×` : ''}${torchSparse ? `\n- ours / PyTorch CPU (sparse, vocab ${VOCAB}): ${(base.samplesPerS / torchSparse.samplesPerS).toFixed(2)}×` : ''}

| model | vocab | samples/s | step ms | host ms | time to first step s | forward ms | backward ms | optimizer ms | serving forward ms |
|---|---|---|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.name} | ${r.vocab} | ${r.samplesPerS.toFixed(0)} | ${r.stepMs.toFixed(0)} | ${fmt(r.hostMs, 1)} | ${r.firstStepS === null ? '—' : r.firstStepS.toFixed(2)} | ${fmt(r.forward)} | ${fmt(r.backward)} | ${fmt(r.optimizer)} | ${fmt(r.servingMs, 1)} |`).join('\n')}`);
gpu.destroy();
gpu.ctx.destroy();
process.exit(0);
