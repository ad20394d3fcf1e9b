/**
 * The kernel profiler: every dispatch of the profiled steps is timed and tagged (op, phase, shapes,
 * bytes, FLOPs), profiling does not change results, and the Chrome trace follows the Trace Event Format
 * that chrome://tracing and Perfetto import.
 */
import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { GpuProfiler } from '../../src/backend/profiler.js';
import { chromeTrace, formatProfile, profileTraining, summarize } from '../../src/perf/profile.js';
import { gpu } from '../support/gpu.js';

/** The subset of the Trace Event Format we emit: complete events ('X') and metadata ('M'). */
function checkTraceEventFormat(trace: unknown): void {
  const t = JSON.parse(JSON.stringify(trace)) as { traceEvents: Record<string, unknown>[]; displayTimeUnit?: string };
  expect(Array.isArray(t.traceEvents)).toBe(true);
  expect(['ms', 'ns', undefined]).toContain(t.displayTimeUnit);
  for (const e of t.traceEvents) {
    expect(typeof e.name).toBe('string');
    expect(Number.isInteger(e.pid) && Number.isInteger(e.tid)).toBe(true);
    if (e.ph === 'M') {
      expect(['process_name', 'thread_name']).toContain(e.name);
      expect(typeof (e.args as { name?: unknown }).name).toBe('string');
    } else {
      expect(e.ph).toBe('X');
      expect(typeof e.cat).toBe('string');
      expect(typeof e.ts === 'number' && Number.isFinite(e.ts) && e.ts >= 0).toBe(true);
      expect(typeof e.dur === 'number' && Number.isFinite(e.dur) && e.dur >= 0).toBe(true);
      expect(typeof e.args).toBe('object');
    }
  }
}

describe.skipIf(!gpu || !gpu.ctx.features.includes('timestamp-query'))('profiler', () => {
  test('profiled training steps: every kernel timed and tagged with op and phase; trace and summary', async () => {
    const r = await profileTraining(gpu!, { steps: 2, warmup: 1, batch: 64, c2al: true });
    expect(r.kernels).toHaveLength(r.dispatches);
    const perStep = r.dispatches / 2;
    expect(r.kernels.filter((k) => k.step === 0)).toHaveLength(perStep);
    expect(new Set(r.kernels.map((k) => k.step))).toEqual(new Set([0, 1]));
    const phases = new Set(r.kernels.map((k) => k.phase));
    for (const p of ['forward', 'backward', 'optimizer']) expect(phases).toContain(p);
    for (const k of r.kernels) {
      expect(k.durationMs).toBeGreaterThanOrEqual(0);
      expect(k.startMs).toBeGreaterThanOrEqual(0);
      expect(k.bytes).toBeGreaterThan(0);
    }
    const matmul = r.kernels.find((k) => k.kernel.startsWith('matmul') && k.op === 'matmul')!;
    expect(matmul.phase).toBe('forward');
    expect(matmul.shapes).toHaveLength(2);
    expect(matmul.flops).toBeGreaterThan(0);
    expect(r.kernels.some((k) => k.op === 'matmul backward' && k.phase === 'backward')).toBe(true);
    expect(r.kernels.filter((k) => k.phase === 'optimizer').every((k) => k.kernel.startsWith('adam'))).toBe(true);
    // The device runs the passes in order: start times never go back.
    for (let i = 1; i < r.kernels.length; i++) expect(r.kernels[i]!.startMs).toBeGreaterThanOrEqual(r.kernels[i - 1]!.startMs);
    const s = summarize(r);
    expect(s.phases.reduce((a, p) => a + p.share, 0)).toBeCloseTo(1, 9);
    expect(s.kernels.reduce((a, k) => a + k.calls, 0)).toBeCloseTo(perStep, 9);
    checkTraceEventFormat(chromeTrace(r));
    expect(chromeTrace(r).traceEvents.filter((e) => (e as { ph: string }).ph === 'X')).toHaveLength(r.kernels.length);
    expect(formatProfile(r)).toMatch(/top kernels \(per step\)/);
    expect(Number.isFinite(r.overhead)).toBe(true);
  });

  test('profiling changes no result: one Adam step with and without the profiler gives the same weights', async () => {
    const config: c.DhenConfig = { fields: [{ name: 'a', vocab: 30 }, { name: 'b', vocab: 20 }], dim: 8, seed: 4, layers: [{ modules: [{ type: 'fm', k: 4 }], ensemble: 'sum' }], head: { hidden: [8] } };
    const ids = Array.from({ length: 32 * 2 }, (_, i) => (i * 7) % 20);
    const run = async (profile: boolean) => {
      const model = new c.DhenModel(config, gpu!);
      const opt = new c.Adam(model.namedParameters(), { lr: 0.01 });
      const profiler = new GpuProfiler(gpu!.ctx.device);
      if (profile) gpu!.setProfiler(profiler);
      c.scope(() => c.sum(model.forward(ids).logits.primary!).backward());
      opt.step();
      gpu!.setProfiler(null);
      const w = (await Promise.all(model.parameters().map((p) => p.read()))).flatMap((a) => Array.from(a));
      const events = profile ? await profiler.collect() : [];
      opt.dispose();
      model.dispose();
      return { w, events };
    };
    const [plain, profiled] = [await run(false), await run(true)];
    expect(profiled.w).toEqual(plain.w);
    expect(profiled.events.length).toBeGreaterThan(10);
  });
});
