/**
 * Profiling training steps: step time with and without the profiler (its overhead), every kernel of the
 * profiled steps with its GPU time, a Chrome trace (chrome://tracing, Perfetto) and a text summary:
 * top kernels, share per phase, GFLOP/s and GB/s per kernel against the adapter's measured peaks.
 */
import type { WebGpuBackend } from '../backend/webgpu.js';
import { GpuProfiler, type KernelEvent } from '../backend/profiler.js';
import type { Phase } from '../backend/profile-tags.js';
import { tensor } from '../create.js';
import { DhenModel, type DhenConfig } from '../nn/dhen.js';
import { Adam } from '../train/optim.js';
import { trainStep } from '../train/step.js';
import { modelConfig } from '../train/model-config.js';
import { PLANTED_FIELDS } from '../data/planted-world.js';
import { mulberry32 } from '../random.js';
import { median } from '../c2al/stats.js';

export type ProfileModel = 'experiment' | 'reference';

export interface ProfileOptions {
  /**
   * 'reference': 26 fields × vocabulary 10⁵, d 16, 2 DHEN layers, head 256-128, batch 2048; 'experiment'
   * (default): the experiment's model on the planted world's 14 fields, batch 512.
   */
  model?: ProfileModel;
  batch?: number;
  /** Profiled steps (and as many timed without the profiler). */
  steps?: number;
  warmup?: number;
  /** Train with C2AL's two auxiliary heads. */
  c2al?: boolean;
  /** Hidden sizes of the auxiliary heads (default: the primary head's). */
  auxHidden?: number[];
}

export interface StepTiming { wallMs: number; hostMs: number }

export interface ProfileReport {
  adapter: string;
  model: ProfileModel;
  batch: number;
  c2al: boolean;
  /** Pipeline compilation at backend creation and the first (warm-up) step. */
  compileMs: number;
  firstStepMs: number;
  /** Median step times: without the profiler, with it, and their ratio (the profiler's overhead). */
  plain: StepTiming;
  profiled: StepTiming;
  overhead: number;
  kernels: KernelEvent[];
  /** Dispatches the backend counted during the profiled steps (every one should be in `kernels`). */
  dispatches: number;
  peaks: { gflops: number; gbps: number } | null;
}

/**
 * The DHEN the profiler (and bench/train.bench.ts) trains: 'reference' is 26 fields × `vocab` (10⁵), d 16,
 * 2 layers of {FM (k 16), linear compress}, head 256-128; 'experiment' is the experiment's default model
 * (modelConfig) on the planted world's fields, with two auxiliary heads for C2AL.
 */
export function benchModelConfig(model: ProfileModel, o: { c2al?: boolean; auxHidden?: number[]; vocab?: number } = {}): DhenConfig {
  if (model === 'experiment') {
    const aux = o.c2al ? [{ cohort: 0, lambda: 1 }, { cohort: 1, lambda: 1 }] : [];
    return modelConfig({ fields: [...PLANTED_FIELDS] }, { aux, ...(o.auxHidden ? { auxHidden: o.auxHidden } : {}) });
  }
  return {
    fields: Array.from({ length: 26 }, (_, i) => ({ name: `f${i}`, vocab: o.vocab ?? 100_000 })), dim: 16, seed: 1,
    layers: [0, 1].map(() => ({ modules: [{ type: 'fm' as const, k: 16 }, { type: 'linearCompress' as const }], ensemble: 'sum' as const })),
    head: { hidden: [256, 128] }, auxHeads: o.c2al ? ['head', 'tail'] : [],
    ...(o.c2al && o.auxHidden ? { auxHead: { hidden: o.auxHidden } } : {}),
  };
}

/** Runs warm-up steps, then `steps` timed steps without and `steps` with the profiler attached. */
export async function profileTraining(gpu: WebGpuBackend, o: ProfileOptions = {}): Promise<ProfileReport> {
  const model = o.model ?? 'experiment', c2al = !!o.c2al;
  const batch = o.batch ?? (model === 'reference' ? 2048 : 512), steps = o.steps ?? 5, warmup = o.warmup ?? 2;
  const cfg = benchModelConfig(model, { c2al, auxHidden: o.auxHidden });
  const net = new DhenModel(cfg, gpu);
  const opt = new Adam(net.namedParameters(), { lr: 1e-3 });
  const heads = c2al ? 3 : 1, next = mulberry32(3);
  const ids = Uint32Array.from({ length: batch * cfg.fields.length }, (_, i) => Math.floor(next() * cfg.fields[i % cfg.fields.length]!.vocab));
  const labels = tensor(Array.from({ length: batch * heads }, () => (next() < 0.25 ? 1 : 0)), [batch, heads], { backend: gpu });
  const step = async (): Promise<StepTiming> => {
    const t0 = performance.now();
    trainStep(net, opt, { ids, labels });
    const t1 = performance.now();
    await gpu.done();
    return { hostMs: t1 - t0, wallMs: performance.now() - t0 };
  };
  try {
    let firstStepMs = 0;
    for (let s = 0; s < warmup; s++) {
      const t = await step();
      if (s === 0) firstStepMs = t.wallMs;
    }
    const plain: StepTiming[] = [], profiled: StepTiming[] = [];
    for (let s = 0; s < steps; s++) plain.push(await step());
    const profiler = new GpuProfiler(gpu.ctx.device);
    gpu.setProfiler(profiler);
    const dispatchesBefore = gpu.dispatches;
    try {
      for (let s = 0; s < steps; s++) {
        profiler.step = s;
        profiled.push(await step());
      }
    } finally {
      gpu.setProfiler(null);
    }
    const dispatches = gpu.dispatches - dispatchesBefore;
    const kernels = await profiler.collect();
    const med = (ts: StepTiming[]): StepTiming => ({ wallMs: median(ts.map((t) => t.wallMs)), hostMs: median(ts.map((t) => t.hostMs)) });
    const [p, q] = [med(plain), med(profiled)];
    return {
      adapter: gpu.description, model, batch, c2al, compileMs: gpu.compileMs, firstStepMs, plain: p, profiled: q, overhead: q.wallMs / p.wallMs - 1,
        kernels, dispatches, peaks: null,
    };
  } finally {
    labels.dispose();
    opt.dispose();
    net.dispose();
  }
}

/** Chrome trace event format (JSON object form): one complete event per kernel, one track per phase. */
export function chromeTrace(r: ProfileReport): { traceEvents: object[]; displayTimeUnit: 'ms'; otherData: Record<string, unknown> } {
  const phases: Phase[] = ['forward', 'backward', 'optimizer', 'metrics'];
  const meta = [
    { name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: `GPU: ${r.adapter}` } },
    ...phases.map((p, i) => ({ name: 'thread_name', ph: 'M', pid: 1, tid: i + 1, args: { name: p } })),
  ];
  const events = r.kernels.map((k) => ({
    name: k.op ? `${k.kernel} (${k.op})` : k.kernel, cat: k.phase, ph: 'X', pid: 1, tid: phases.indexOf(k.phase) + 1,
    ts: Number((k.startMs * 1000).toFixed(3)), dur: Number((k.durationMs * 1000).toFixed(3)),
    args: {
      kernel: k.kernel, op: k.op, phase: k.phase, step: k.step, shapes: k.shapes, bytes: k.bytes, flops: k.flops, workgroups: k.workgroups,
      ...(k.durationMs > 0 ? { gflops: k.flops / k.durationMs / 1e6, gbps: k.bytes / k.durationMs / 1e6 } : {}),
    },
  }));
  return {
    traceEvents: [...meta, ...events], displayTimeUnit: 'ms',
    otherData: { adapter: r.adapter, model: r.model, batch: r.batch, c2al: r.c2al, plainStepMs: r.plain.wallMs,
      profiledStepMs: r.profiled.wallMs, overhead: r.overhead },
  };
}

export interface KernelSummary { name: string; calls: number; ms: number; share: number; flops: number; bytes: number; gflops: number; gbps: number;
  peakShare: number | null }

/** Kernels grouped by kernel and op, by total GPU time; phases by share. Times are per profiled step. */
export function summarize(r: ProfileReport): { kernels: KernelSummary[]; phases: { phase: Phase; ms: number; share: number }[]; gpuMsPerStep: number } {
  const steps = Math.max(1, new Set(r.kernels.map((k) => k.step)).size);
  const total = r.kernels.reduce((a, k) => a + k.durationMs, 0);
  const groups = new Map<string, KernelSummary>();
  for (const k of r.kernels) {
    const name = k.op ? `${k.kernel} (${k.op})` : k.kernel;
    const g = groups.get(name) ?? { name, calls: 0, ms: 0, share: 0, flops: 0, bytes: 0, gflops: 0, gbps: 0, peakShare: null };
    g.calls++;
    g.ms += k.durationMs;
    g.flops += k.flops;
    g.bytes += k.bytes;
    groups.set(name, g);
  }
  const kernels = [...groups.values()].map((g) => {
    const gflops = g.ms > 0 ? g.flops / g.ms / 1e6 : 0, gbps = g.ms > 0 ? g.bytes / g.ms / 1e6 : 0;
    const peakShare = r.peaks ? Math.max(r.peaks.gflops > 0 ? gflops / r.peaks.gflops : 0, r.peaks.gbps > 0 ? gbps / r.peaks.gbps : 0) : null;
    return { ...g, calls: g.calls / steps, ms: g.ms / steps, flops: g.flops / steps, bytes: g.bytes / steps,
      share: total > 0 ? g.ms / total : 0, gflops, gbps, peakShare };
  }).sort((a, b) => b.ms - a.ms);
  const phases = (['forward', 'backward', 'optimizer', 'metrics'] as Phase[]).map((phase) => {
    const ms = r.kernels.filter((k) => k.phase === phase).reduce((a, k) => a + k.durationMs, 0);
    return { phase, ms: ms / steps, share: total > 0 ? ms / total : 0 };
  }).filter((p) => p.ms > 0);
  return { kernels, phases, gpuMsPerStep: total / steps };
}

export function formatProfile(r: ProfileReport, top = 15): string {
  const s = summarize(r);
  const lines = [
    `profile: ${r.model} DHEN${r.c2al ? ' + C2AL heads' : ''}, batch ${r.batch}, on ${r.adapter}`,
    `time to first step: ${(r.compileMs / 1000).toFixed(2)} s compiling pipelines + ${(r.firstStepMs / 1000).toFixed(2)} s first step; steady state (median):`,
    `  step ${r.plain.wallMs.toFixed(1)} ms (host/JS ${r.plain.hostMs.toFixed(1)} ms = ${(100 * r.plain.hostMs / r.plain.wallMs).toFixed(0)}%), ` +
      `${(r.batch / r.plain.wallMs * 1000).toFixed(0)} samples/s`,
    `  with the profiler ${r.profiled.wallMs.toFixed(1)} ms: overhead ${(100 * r.overhead).toFixed(1)}% (one pass per kernel); kernels' GPU time ` +
      `${s.gpuMsPerStep.toFixed(1)} ms per step`,
    r.peaks ? `  adapter peaks measured in this run: ${r.peaks.gflops.toFixed(1)} GFLOP/s (FMA), ${r.peaks.gbps.toFixed(1)} GB/s (copy)` : '', '',
    `phase       ms/step   share`,
    ...s.phases.map((p) => `${p.phase.padEnd(10)} ${p.ms.toFixed(2).padStart(8)}  ${(100 * p.share).toFixed(1).padStart(5)}%`),
    '',
    `top kernels (per step)                                  calls      ms  share   GFLOP/s    GB/s  of peak`,
    ...s.kernels.slice(0, top).map((k) => `${k.name.slice(0, 54).padEnd(54)} ${k.calls.toFixed(0).padStart(6)} ${k.ms.toFixed(2).padStart(7)} ` +
      `${(100 * k.share).toFixed(1).padStart(5)}% ${k.gflops.toFixed(2).padStart(9)} ${k.gbps.toFixed(2).padStart(7)} ` +
      `${k.peakShare === null ? '—' : `${(100 * k.peakShare).toFixed(0)}%`.padStart(7)}`),
  ];
  return lines.filter((l, i) => l !== '' || i > 4).join('\n');
}
