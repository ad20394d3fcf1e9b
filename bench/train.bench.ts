/**
 * Training throughput side by side in one run (`npm run bench -- --filter train [--json]`): our two models
 *   reference   26 fields × vocabulary 10⁵, d 16, 2 DHEN layers of {FM attention (learned Y, k 16), linear
 *               compress}, head 256-128, batch 2048
 *   experiment  the experiment's DHEN on the planted world's 14 fields (generated Y with Y₀, k 4, FM MLP 64,
 *               attention MLP 64), head 64-32, batch 512
 * each as variants baseline (one head), c2al (two auxiliary heads) and captured (the baseline's step
 * captured and replayed, the batch written into its feed every step; its lookup plan is built while the
 * step before runs on a GPU, and before its own submit on a CPU adapter), against PyTorch CPU
 * (bench/train_torch.py, the same architecture from the same spec, its parameter count checked against ours)
 * at 1 and at 2 threads, each in its own process, and TF.js webgpu on the same Dawn adapter (reference
 * model only). One step = forward + loss + backward + Adam (lazy row-sparse on the tables).
 * The variants of a model are interleaved step by step (one step of each per cycle, the starting variant
 * rotating), so machine drift hits all alike; samples/s comes from the median step, the spread is the lowest
 * and highest median of `--rounds` consecutive groups of cycles. Captured / op by op is pairedRatio (src/perf/
 * paired-ratio.ts) over the cycles' baseline and captured steps and `--pairs` more back-to-back pairs of the two
 * alone (their order alternating): the geometric mean of the paired ratios, its 95% interval, and the smallest
 * effect that interval resolves; and the same for the pairs' GPU times (timeSubmitted: first submit to end of
 * work), which says whether capture changed the device's work or only the host's.
 * Usage: npm run bench -- --filter train [--json] [--steps N (20)] [--rounds R (4)] [--pairs P (reference 300, experiment 100)]
 *   [--models experiment,reference]
 *   [--no-peer]
 */
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as c from '../src/index.js';
import { median } from '../src/c2al/stats.js';
import { pairedRatio, type PairedRatio } from '../src/perf/paired-ratio.js';
import type { ProfileModel } from '../src/perf/profile.js';

const { values } = parseArgs({ options: {
  steps: { type: 'string', default: '20' }, rounds: { type: 'string', default: '4' }, pairs: { type: 'string' },
  models: { type: 'string', default: 'experiment,reference' },
  'no-peer': { type: 'boolean' }, filter: { type: 'string' }, json: { type: 'boolean' },
}, strict: false });
const steps = Number(values.steps), rounds = Number(values.rounds);
/**
 * Extra captured / op-by-op pairs per model, fixed before any run (never chosen from a run's ratio). On the
 * 2-vCPU machines of docs/benchmarks.md one pair's log step ratio has a standard deviation of 0.12–0.14 (VM
 * jitter: the same step's GPU time varies ±15%), and capture saves the reference ~7 ms of a ~500 ms step
 * (~1.5%): 1.96 · 0.137 / √320 ≈ 1.5% is the interval's half-width with its 20 cycles' pairs (≈ 5 min).
 * The experiment's 40 ms step saves ~4 ms (~10%): 100 pairs resolve ±2.5% in seconds.
 */
const PAIRS: Record<ProfileModel, number> = { reference: 300, experiment: 100 };
const pairsOf = (m: ProfileModel): number => (values.pairs === undefined ? PAIRS[m] : Number(values.pairs));
const models = String(values.models).split(',') as ProfileModel[];
const log = (s: string) => console.error(s);

const gpu = await c.WebGpuBackend.create({ warm: true });
c.setBackend(gpu);

type Variant = 'baseline' | 'c2al' | 'captured';
interface Case { model: ProfileModel; variant: Variant; samplesPerS: number; stepMs: number; hostMs: number; gpuMs: number | null; dispatches: number;
  spread: [number, number]; parameters: number }
interface Peer { name: 'pytorch' | 'tfjs-webgpu'; model: ProfileModel; threads?: number; samplesPerS: number; stepMs: number; version: string;
  blas?: string; parameters?: number; sparse?: boolean }

const BATCH: Record<ProfileModel, number> = { reference: 2048, experiment: 512 };

function batchIds(cfg: c.DhenConfig, batch: number, seed: number): Uint32Array {
  const next = c.mulberry32(seed), f = cfg.fields.length;
  return Uint32Array.from({ length: batch * f }, (_, i) => Math.floor(next() * cfg.fields[i % f]!.vocab));
}

/** One variant, ready to time: `step()` records (and submits) one training step; `dispose()` frees it. */
function variant(model: ProfileModel, v: Variant): { step: () => void; dispose: () => void; parameters: number } {
  const cfg = c.benchModelConfig(model, { c2al: v === 'c2al' }), B = BATCH[model];
  const net = new c.DhenModel(cfg, gpu);
  const opt = new c.Adam(net.namedParameters(), { lr: 1e-3 });
  const heads = 1 + (cfg.auxHeads?.length ?? 0);
  const next = c.mulberry32(9);
  const labels = c.tensor(Float32Array.from({ length: B * heads }, () => (next() < 0.25 ? 1 : 0)), [B, heads], { backend: gpu });
  // Two batches alternate, so the ids plan is built from different ids every step.
  const batches = [batchIds(cfg, B, 1), batchIds(cfg, B, 2)];
  const parameters = net.parameters().reduce((a, p) => a + p.size, 0);
  let t = 0;
  const free = () => { net.dispose(); opt.dispose(); labels.dispose(); };
  if (v !== 'captured') return { step: () => { c.trainStep(net, opt, { ids: batches[t++ % 2]!, labels }); }, dispose: free, parameters };
  const feed = net.embeddings.feed(B);
  const record = () => { c.trainStep(net, opt, { ids: feed, labels }); };
  feed.set(batches[0]!);
  record(); // the first step runs op by op (it builds the optimizer state)
  feed.set(batches[1]!);
  const { step: captured } = gpu.capture(record);
  const dispose = () => { captured.dispose(); feed.dispose(); free(); };
  // As train() does: on a GPU the next batch's plan is built while this step runs (after its submit); on a
  // CPU adapter, whose kernels would lose a core to it, before the submit.
  if (gpu.ctx.adapter.cpuAdapter) return { step: () => { feed.set(batches[t++ % 2]!); captured.replay(); }, dispose, parameters };
  let ahead = feed.prepare(batches[0]!);
  const step = () => { feed.set(ahead); captured.replay(); ahead = feed.prepare(batches[++t % 2]!); };
  return { step, dispose, parameters };
}

/** Per model: op-by-op step / captured step over the pairs (the cycles' and the extra ones), wall time and GPU time. */
const capturedVsOpByOp: Partial<Record<ProfileModel, { wall: PairedRatio; gpu: PairedRatio | null }>> = {};

/**
 * One timed step: wall ms until the device is done, host ms until step() returned, and GPU ms from the
 * step's first submit to the end of its work (timeSubmitted; null without timestamp-query).
 */
async function timed(step: () => void): Promise<{ wall: number; host: number; gpu: number | null }> {
  const t0 = performance.now();
  let t1 = t0;
  const gpuMs = await gpu.timeSubmitted(() => { step(); t1 = performance.now(); });
  return { wall: performance.now() - t0, host: t1 - t0, gpu: gpuMs };
}

async function ours(model: ProfileModel): Promise<Case[]> {
  const kinds: Variant[] = ['baseline', 'c2al', 'captured'];
  const built = kinds.map((v) => variant(model, v));
  const times = kinds.map(() => ({ wall: [] as number[], host: [] as number[], gpu: [] as number[], rounds: [] as number[], dispatches: 0 }));
  for (const b of built) { b.step(); b.step(); await gpu.done(); } // warm: pipelines, optimizer state, pool
  const per = Math.max(1, Math.round(steps / rounds));
  for (let r = 0; r < rounds; r++) {
    const round = kinds.map(() => [] as number[]);
    for (let s = 0; s < per; s++) {
      // One step of every variant per cycle, starting at a different one each cycle: drift and the step
      // before hit all alike, and a cycle's steps pair up for the captured / op-by-op ratio.
      for (let j = 0; j < built.length; j++) {
        const i = (j + r * per + s) % built.length, b = built[i]!;
        const d0 = gpu.dispatches;
        const t = await timed(b.step);
        round[i]!.push(t.wall);
        times[i]!.wall.push(t.wall);
        times[i]!.host.push(t.host);
        if (t.gpu !== null) times[i]!.gpu.push(t.gpu);
        times[i]!.dispatches = gpu.dispatches - d0;
      }
    }
    round.forEach((x, i) => times[i]!.rounds.push(median(x)));
  }
  // More pairs of the two variants the ratio compares, back to back, the first of each pair alternating.
  const [base, cap] = [{ wall: [...times[0]!.wall], gpu: [...times[0]!.gpu] }, { wall: [...times[2]!.wall], gpu: [...times[2]!.gpu] }];
  for (let p = 0; p < pairsOf(model); p++) {
    for (const i of p % 2 ? [2, 0] : [0, 2]) {
      const t = await timed(built[i]!.step), into = i === 0 ? base : cap;
      into.wall.push(t.wall);
      if (t.gpu !== null) into.gpu.push(t.gpu);
    }
  }
  capturedVsOpByOp[model] = { wall: pairedRatio(base.wall, cap.wall), gpu: base.gpu.length ? pairedRatio(base.gpu, cap.gpu) : null };
  const out = kinds.map((v, i): Case => {
    const t = times[i]!, stepMs = median(t.wall);
    return { model, variant: v, samplesPerS: (BATCH[model] / stepMs) * 1000, stepMs, hostMs: median(t.host), gpuMs: t.gpu.length ? median(t.gpu) : null,
      dispatches: t.dispatches, spread: [Math.min(...t.rounds), Math.max(...t.rounds)], parameters: built[i]!.parameters };
  });
  built.forEach((b) => b.dispose());
  for (const x of out) log(`  ours ${x.model} ${x.variant}: ${x.samplesPerS.toFixed(0)} samples/s, step ${x.stepMs.toFixed(1)} ms ` +
    `(round medians ${x.spread.map((s) => s.toFixed(1)).join('–')}), host ${x.hostMs.toFixed(1)} ms, GPU ${x.gpuMs?.toFixed(1) ?? '—'} ms, ` +
    `${x.dispatches} dispatches`);
  return out;
}

/** The spec train_torch.py builds its model from: the same architecture as benchModelConfig(model). */
function torchSpec(model: ProfileModel): Record<string, unknown> {
  const cfg = c.benchModelConfig(model), layer = cfg.layers[0]!.modules[0] as { k: number; y?: string; y0?: boolean; hidden?: number[];
    attentionHidden?: number[] };
  return { fields: cfg.fields.map((f) => f.vocab), dim: cfg.dim, layers: cfg.layers.length, k: layer.k, y: layer.y ?? 'learned', y0: !!layer.y0,
    fm_hidden: layer.hidden ?? [], attention_hidden: layer.attentionHidden ?? [64], head: cfg.head.hidden, heads: 1, batch: BATCH[model] };
}

async function pytorch(model: ProfileModel, parameters: number): Promise<Peer[]> {
  const { spawnSync } = await import('node:child_process');
  const python = '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    log(`  PyTorch: skipped (${python} cannot import torch; install it with: apt-get install -y python3-torch)`);
    return [];
  }
  const peers: Peer[] = [];
  for (const threads of [1, 2]) {
    const script = fileURLToPath(new URL('./train_torch.py', import.meta.url)); // beside this file, also in the bundle
    const r = spawnSync(python, [script, '--spec', JSON.stringify(torchSpec(model)), '--steps', String(steps), '--threads', String(threads)],
      { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) { log(`  PyTorch ${model} at ${threads} threads failed: ${r.stderr.trim().split('\n').pop()}`); continue; }
    const o = JSON.parse(r.stdout) as { torch: string; blas: string; threads: number; parameters: number; step_ms: number;
      samples_per_s: number; sparse: boolean };
    if (o.parameters !== parameters) throw new Error(`PyTorch's ${model} model has ${o.parameters} parameters, ours ${parameters}: not the same architecture`);
    peers.push({ name: 'pytorch', model, threads: o.threads, samplesPerS: o.samples_per_s, stepMs: o.step_ms, version: o.torch, blas: o.blas,
      parameters: o.parameters, sparse: o.sparse });
    log(`  PyTorch ${o.torch} (${o.blas}) ${model}, ${o.threads} thread(s), SparseAdam on the tables: ${o.samples_per_s.toFixed(0)} samples/s, ` +
      `step ${o.step_ms.toFixed(1)} ms; ${o.parameters} parameters (ours the same)`);
  }
  return peers;
}

/** TF.js webgpu on the same Dawn adapter, with the closest reference model it can build (dense table gradients, dense Adam). */
async function tfjs(): Promise<Peer | null> {
  let tf: typeof import('@tensorflow/tfjs');
  try {
    const dawn = (await import('webgpu')) as { create: (f: string[]) => GPU };
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.create([]) }, configurable: true });
    tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-webgpu');
    await tf.setBackend('webgpu');
    await tf.ready();
  } catch (e) {
    log(`  TF.js webgpu: skipped (${(e as Error).message.split('\n')[0]})`);
    return null;
  }
  type T = import('@tensorflow/tfjs').Tensor;
  const cfg = c.benchModelConfig('reference'), B = BATCH.reference, F = cfg.fields.length, D = cfg.dim, K = 16;
  const vars: import('@tensorflow/tfjs').Variable[] = [];
  const v = (t: T) => { const x = tf.variable(t); vars.push(x); return x; };
  const tables = cfg.fields.map((f, i) => v(tf.randomNormal([f.vocab, D], 0, 0.05, 'float32', i)));
  const layers = cfg.layers.map((_, l) => ({
    y: v(tf.randomNormal([1, F, K], 0, 0.2, 'float32', 100 + l)), lnG: v(tf.ones([F * K])), lnB: v(tf.zeros([F * K])),
    w: v(tf.randomNormal([F * K, F * D], 0, 0.05, 'float32', 200 + l)), b: v(tf.zeros([F * D])),
    compress: v(tf.randomNormal([1, F, F], 0, 0.2, 'float32', 300 + l)), normG: v(tf.ones([D])), normB: v(tf.zeros([D])),
  }));
  const sizes = [F * D, ...cfg.head.hidden, 1];
  const head = sizes.slice(1).map((o, j) => ({ w: v(tf.randomNormal([sizes[j]!, o], 0, Math.sqrt(2 / sizes[j]!), 'float32', 400 + j)), b: v(tf.zeros([o])) }));
  const ln = (x: T, g: T, b: T) => { const { mean, variance } = tf.moments(x, -1, true); return x.sub(mean).div(variance.add(1e-5).sqrt()).mul(g).add(b); };
  const ids = batchIds(cfg, B, 1);
  const cols = tf.unstack(tf.tensor2d(Int32Array.from(ids), [B, F], 'int32'), 1);
  const yT = tf.tensor2d(Float32Array.from({ length: B }, (_, i) => i % 4 === 0 ? 1 : 0), [B, 1]);
  const adam = tf.train.adam(1e-3);
  const lossFn = () => {
    let x = tf.stack(cols.map((col, i) => tf.gather(tables[i]!, col)), 1);
    for (const l of layers) {
      const g = tf.matMul(x, tf.matMul(x, tf.tile(l.y, [B, 1, 1]), true, false));
      const fm = ln(g.reshape([B, F * K]), l.lnG, l.lnB).matMul(l.w).add(l.b).reshape([B, F, D]);
      x = ln(fm.add(tf.matMul(tf.tile(l.compress, [B, 1, 1]), x)).add(x), l.normG, l.normB);
    }
    let h: T = x.reshape([B, F * D]);
    head.forEach((p, j) => { h = h.matMul(p.w).add(p.b); if (j < head.length - 1) h = tf.relu(h); });
    return tf.losses.sigmoidCrossEntropy(yT, h) as import('@tensorflow/tfjs').Scalar;
  };
  const times: number[] = [];
  for (let s = 0; s < Math.min(steps, 8) + 1; s++) {
    const t0 = performance.now();
    const loss = adam.minimize(lossFn, true, vars);
    await c.idleWait(() => loss!.data()); // the same Dawn binding: the same sleep-between-polls wait as ours
    loss!.dispose();
    if (s > 0) times.push(performance.now() - t0);
  }
  const stepMs = median(times);
  for (const x of [...vars, ...cols, yT]) x.dispose();
  adam.dispose();
  log(`  TF.js ${tf.version_core} webgpu reference (dense table gradients, dense Adam): ${((B / stepMs) * 1000).toFixed(0)} samples/s`);
  return { name: 'tfjs-webgpu', model: 'reference', samplesPerS: (B / stepMs) * 1000, stepMs, version: tf.version_core };
}

log(`adapter: ${gpu.description}; ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; ${steps} timed steps per variant in ${rounds} alternated rounds`);
const cases: Case[] = [];
const peers: Peer[] = [];
for (const model of models) {
  const ourCases = await ours(model);
  cases.push(...ourCases);
  if (!values['no-peer']) peers.push(...await pytorch(model, ourCases[0]!.parameters));
}
// TF.js last: it creates a second Dawn device in this process.
if (!values['no-peer'] && models.includes('reference')) { const t = await tfjs(); if (t) peers.push(t); }

const ratios = Object.fromEntries(models.map((m) => {
  const best = Math.max(...peers.filter((p) => p.name === 'pytorch' && p.model === m).map((p) => p.samplesPerS));
  const base = cases.find((x) => x.model === m && x.variant === 'baseline')!;
  const captured = cases.find((x) => x.model === m && x.variant === 'captured')!;
  const { wall: r, gpu: g } = capturedVsOpByOp[m]!;
  // train() captures by default where it can ('auto'): the captured step is what a training run gets.
  return [m, { vsPytorchBest: Number.isFinite(best) ? base.samplesPerS / best : null,
    capturedVsPytorchBest: Number.isFinite(best) ? captured.samplesPerS / best : null, capturedVsOpByOp: r.ratio, capturedVsOpByOpCi: r.ci,
    capturedVsOpByOpResolution: r.resolution, capturedVsOpByOpPairs: r.n,
    // The same pairs' GPU times: whether capture changes the device's work, or only the host's.
    capturedVsOpByOpGpu: g?.ratio ?? null, capturedVsOpByOpGpuCi: g?.ci ?? null }];
}));
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`;
const report = { adapter: gpu.description, machine, date: new Date().toISOString().slice(0, 10), steps, rounds,
  pairs: Object.fromEntries(models.map((m) => [m, pairsOf(m)])), cases, peers, ratios };
if (values.json) console.log(JSON.stringify(report));
else {
  console.log(`adapter: ${report.adapter}; machine: ${machine}; ${report.date}; ${steps} timed steps per variant, ${rounds} alternated rounds\n`);
  console.log('| model | variant | samples/s | step ms (round medians) | host ms | GPU ms | dispatches |\n|---|---|---|---|---|---|---|');
  for (const x of cases) console.log(`| ${x.model} | ${x.variant} | ${x.samplesPerS.toFixed(0)} | ${x.stepMs.toFixed(1)} ` +
    `(${x.spread.map((s) => s.toFixed(1)).join('–')}) ` +
    `| ${x.hostMs.toFixed(1)} | ${x.gpuMs?.toFixed(1) ?? '—'} | ${x.dispatches} |`);
  for (const p of peers) console.log(`| ${p.model} | ${p.name}${p.threads ? ` ${p.threads} thread(s)` : ''} ${p.version} | ${p.samplesPerS.toFixed(0)} | ` +
    `${p.stepMs.toFixed(1)} | — | — | — |`);
  const multiple = (x: number | null) => (x === null ? '—' : `${x.toFixed(2)}×`);
  for (const [m, r] of Object.entries(ratios)) console.log(`\n${m}: ours / PyTorch's best ` +
    `${multiple(r.vsPytorchBest)} (captured ${multiple(r.capturedVsPytorchBest)}); ` +
    `captured / op by op ${r.capturedVsOpByOp.toFixed(3)}× (95% CI ${r.capturedVsOpByOpCi.map((x) => x.toFixed(3)).join('–')} over ` +
    `${r.capturedVsOpByOpPairs} pairs: resolves effects beyond ±${(100 * r.capturedVsOpByOpResolution).toFixed(1)}%); GPU time alone ` +
    `${r.capturedVsOpByOpGpu === null ? '—' : `${r.capturedVsOpByOpGpu.toFixed(3)}× (${r.capturedVsOpByOpGpuCi!.map((x) => x.toFixed(3)).join('–')})`}`);
}
gpu.destroy();
gpu.ctx.destroy();
process.exit(0);
