#!/usr/bin/env node
/**
 * The `c2al` command line. Commands: doctor (what adapter, features and limits this machine offers, and
 * whether the engine has what it needs), gradcheck (every op's gradient on a backend vs the float64
 * reference vs finite differences). Every command takes --json for machines.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CpuBackend, WebGpuBackend, gradcheck as gradcheckFn, gradcheckOps, gradcheckCases, gradcheckTolerance, type GradcheckInput, type GradcheckOptions, type Tensor, kernels, matmul, noGrad, randomUniform, scope,
  type Backend, type GradcheckResult, type OpName,
} from '../index.js';
import { formatReport, measurePeaks, runBench } from './bench.js';
import { chromeTrace, formatProfile, profileTraining, summarize } from './profile.js';
import { discoverCommand, evaluateCommand, experimentCommand, trainCommand, type C2alCliOptions } from './c2al.js';
import { METRICS, type DivergenceMetric } from '../c2al/discovery.js';
import { IMPORTANT_LIMITS, NO_ADAPTER_HINT, REQUIRED_LIMITS, parseDawnFlags } from '../backend/device.js';
import type { KernelName } from '../kernels.js';
import { matmulSgPreferred } from '../kernel-plan.js';
import { runFiltered } from './quiet-stderr.js';

const USAGE = `usage: c2al <command> [options]

commands:
  experiment  C2AL end to end: baseline, cohort discovery, C2AL, NE per cohort, report.html (npm start)
  discover    train (or load with --checkpoint) a baseline; print the cohort divergence matrix and the choice
  train       train --method baseline|c2al over --seeds; save checkpoints and test-split NE per cohort
  evaluate    NE, AUC and calibration per cohort of a saved model (--checkpoint) on --data's test split
  doctor      show the WebGPU runtime, adapter, features and limits, and check what the engine needs
  gradcheck   check every op's gradient: backend vs float64 reference vs finite differences
  bench       time the kernels (validated first) against measured peaks, TF.js-webgpu and our v1 floor
  profile     GPU-time every kernel of a few training steps: Chrome trace, top kernels, phases, overhead

data (experiment, discover, train, evaluate):
  --data SOURCE       synthetic (default), movielens:DIR (MovieLens-100K) or csv:FILE
  --rows N            synthetic rows (default 100000)
  --cohort AXIS       MovieLens cohort axis: age (default), gender, occupation or activity
  --schema FILE       with csv: the JSON schema (label, categorical, numeric, cohort, …)
  --skip-bad-rows     with csv: skip and count malformed rows instead of stopping

training and C2AL:
  --steps N           training steps per model (default 200)
  --epochs X          passes over the training split instead of --steps
  --batch N           rows per step (default 512)
  --seeds N           seeds (default 3 for experiment, 1 for train); gradcheck: seeds per case (default 2)
  --method NAME       train: baseline (default) or c2al
  --lambda X[,Y…]     λ of every auxiliary head (default 0.5); several values: experiment sweeps them
  --lambda-head X     λ of the head cohort (overrides --lambda)
  --lambda-tail X     λ of the tail cohort (overrides --lambda)
  --aux-cohorts N|A,B auxiliary cohorts: how many (default 2: head and tail), or their names
  --select HOW        divergence (default) or random: how N auxiliary cohorts are chosen (random = control)
  --metric NAME       discovery divergence: jsDistance (default), symmetricKL, wasserstein1, cosine
  --min-cohort-share X  cohorts below this share of rows are never chosen (default 0.01)
  --freeze-y          keep the FM attention weights Y at their initial values (ablation)
  --aux-hidden H[,H…] hidden sizes of the auxiliary heads' MLPs (default: the primary head's 64,32; 0 = linear)
  --guard-finite      check every step on the device for NaN/Inf; stop naming the step, tensor and layer
  --capture           capture the training step after the first and replay it (one submit per step, same weights)
  --checkpoint-every N  train: save a resumable state (weights + optimizer) every N steps in OUT/train-state
  --resume DIR        train: continue the run in DIR from its last saved states (same flags as the first run)
  --checkpoint PATH   discover: the baseline to use; evaluate: a checkpoint folder, its .safetensors, or a run folder
  --out DIR           run folder (default runs/<date-time>): config, metrics, report.html, checkpoints

other options:
  --json              print one JSON object instead of text
  --verbose           show the stack trace of a user error
  --backend NAME      gradcheck: webgpu (default) or cpu (the CPU twins in float32)
  --op NAME           gradcheck only this op (repeatable)
  --module FILE       gradcheck the cases a user module exports (see docs/custom-ops.md)
  --filter TEXT       bench only cases whose name contains TEXT
  --quick             bench the smaller sizes only
  --model NAME        profile: small (default; the experiment's DHEN, batch 512) or reference (26 × 10⁵, batch 2048)
  --trace FILE        profile: where to write the Chrome trace (default runs/profile-<date-time>.trace.json)
  --dawn FLAGS        Dawn flags, e.g. "adapter=SwiftShader" (also C2AL_DAWN)
  -h, --help          this text
  -v, --version       the package version

environment:
  C2AL_DAWN           Dawn flags, comma separated ("backend=vulkan,enable-dawn-features=a,b")
  VK_ICD_FILENAMES    pick a Vulkan driver, e.g. /usr/lib/chromium/vk_swiftshader_icd.json
`;

interface Check { name: string; ok: boolean; detail: string }

/**
 * Runs `fn` with a warmed WebGPU backend and always releases it. A missing adapter prints one line and
 * gives exit code 1.
 */
async function withGpu(command: string, dawn: string[], fn: (gpu: WebGpuBackend) => Promise<number>): Promise<number> {
  let gpu: WebGpuBackend;
  try {
    gpu = await WebGpuBackend.create({ dawnFlags: dawn, warm: true });
  } catch (e) {
    console.error(`c2al ${command}: ${(e as Error).message}`);
    return 1;
  }
  try {
    return await fn(gpu);
  } finally {
    gpu.destroy();
    gpu.ctx.destroy();
  }
}

function version(): string {
  // package.json sits three levels up from dist/src/cli, two from src/cli.
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'c2al') return pkg.version;
    } catch { /* try the next location */ }
  }
  return 'unknown';
}

async function doctor(json: boolean, dawn: string[]): Promise<number> {
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
  checks.push({ name: 'pipelines', ok: true, detail: `${built} of ${Object.keys(kernels).length} kernels compiled and warmed in ${gpu.compileMs.toFixed(0)} ms` });
  const sg = ctx.subgroupSize;
  checks.push({
    name: 'subgroups', ok: true,
    detail: sg === null ? 'no fixed subgroup size (matmul uses matmul_vec4)'
      : matmulSgPreferred(gpu.plan, sg) ? `fixed size ${sg} (row-major matmuls use matmul_sg)` : `fixed size ${sg} (matmul_sg built; matmul_vec4 chosen, measured faster at this size)`,
  });
  checks.push({ name: 'timestamp-query', ok: true, detail: ctx.features.includes('timestamp-query') ? 'available (profiler can time kernels)' : 'not offered (profiler falls back to CPU timing)' });
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
    backend: 'webgpu', runtime: ctx.runtime, node: process.version, adapter: ctx.adapter, features: ctx.adapterFeatures, enabledFeatures: ctx.features, limits, checks, ok,
    env: { C2AL_DAWN: process.env.C2AL_DAWN ?? null, VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? null },
  };
  if (json) console.log(JSON.stringify(report));
  else {
    const a = ctx.adapter;
    console.log(`c2al ${version()} doctor`);
    console.log(`  runtime   ${ctx.runtime === 'dawn' ? `Dawn (npm webgpu) on Node ${process.version}` : ctx.runtime}`);
    console.log(`  adapter   ${a.description || '(no description)'}  [vendor '${a.vendor}', architecture '${a.architecture}'${a.device ? `, device '${a.device}'` : ''}]`);
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

function fmtErr(x: number): string { return x === 0 ? '0' : x.toExponential(2); }

async function gradcheck(json: boolean, backendName: string, only: string[], seeds: number, dawn: string[]): Promise<number> {
  const known = Object.keys(gradcheckCases);
  const unknown = only.filter((o) => !known.includes(o));
  if (unknown.length) {
    console.error(`c2al gradcheck: unknown op ${unknown.join(', ')}; ops: ${known.join(', ')}`);
    return 2;
  }
  const notDiff = only.filter((o) => gradcheckCases[o as OpName] === null);
  if (notDiff.length) console.error(`c2al gradcheck: ${notDiff.join(', ')} ${notDiff.length > 1 ? 'are' : 'is'} not differentiable; nothing to check`);
  let backend: Backend;
  if (backendName === 'cpu') backend = new CpuBackend('f32');
  else if (backendName === 'webgpu') {
    try {
      // Warm: lazily compiling drivers (lavapipe) would otherwise charge compilation to the first op checked.
      backend = await WebGpuBackend.create({ dawnFlags: dawn, warm: true });
    } catch (e) {
      console.error(`c2al gradcheck: ${(e as Error).message}`);
      return 1;
    }
  } else {
    console.error(`c2al gradcheck: --backend must be webgpu or cpu, got '${backendName}'`);
    return 2;
  }
  const t0 = performance.now();
  const results: GradcheckResult[] = [];
  const ops = (only.length ? only : known) as OpName[];
  if (!json) {
    console.log(`c2al gradcheck on ${backend.description}: analytic gradient vs float64 reference vs central finite differences`);
    const t = gradcheckTolerance();
    console.log(`  pass when |backend - ref| <= ${t.atol} + ${t.rtol}·|ref| and |ref - fd| <= ${t.fdAtol} + ${t.fdRtol}·|ref|`);
    console.log(`  ${'op'.padEnd(11)}${'cases'.padStart(6)}  ${'max abs err'.padStart(11)}  ${'max rel err'.padStart(11)}  ${'fd abs err'.padStart(10)}  result`);
  }
  for (const op of ops) {
    const [r] = await gradcheckOps(backend, { ops: [op], seeds });
    if (!r) continue;
    results.push(r);
    if (!json) {
      console.log(`  ${r.op.padEnd(11)}${String(r.cases).padStart(6)}  ${fmtErr(r.maxAbsErr).padStart(11)}  ${fmtErr(r.maxRelErr).padStart(11)}  ${fmtErr(r.fdMaxAbsErr).padStart(10)}  ${r.pass ? 'pass' : `FAIL: ${r.failure}`}`);
    }
  }
  const failed = results.filter((r) => !r.pass);
  const adapter = backend instanceof WebGpuBackend ? { ...backend.ctx.adapter } : { description: backend.description };
  if (json) console.log(JSON.stringify({ backend: backend.name, adapter, results }));
  else console.log(`${results.length} ops, ${results.reduce((a, r) => a + r.cases, 0)} cases, ${failed.length} failed, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  backend.destroy();
  if (backend instanceof WebGpuBackend) backend.ctx.destroy();
  return failed.length ? 1 : 0;
}

async function profile(json: boolean, o: { model: string; steps?: string; batch?: string; method?: string; trace?: string; auxHidden?: string }, dawn: string[]): Promise<number> {
  const model = oneOf('model', o.model, ['small', 'reference'] as const);
  const c2al = oneOf('method', o.method ?? 'c2al', ['baseline', 'c2al'] as const) === 'c2al';
  const steps = positiveInt('steps', o.steps, 5), batch = o.batch === undefined ? undefined : positiveInt('batch', o.batch, 512);
  return withGpu('profile', dawn, async (gpu) => {
    if (!json) console.log(`profiling ${steps} steps of the ${model} DHEN${c2al ? ' + C2AL heads' : ''} on ${gpu.description}…`);
    const report = await profileTraining(gpu, { model, steps, batch, c2al, auxHidden: auxHidden(o.auxHidden) });
    report.peaks = await measurePeaks(gpu);
    const trace = o.trace ?? `runs/profile-${new Date().toISOString().replace(/[:.]/g, '-')}.trace.json`;
    const { mkdir, writeFile } = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    await mkdir(dirname(trace), { recursive: true });
    await writeFile(trace, JSON.stringify(chromeTrace(report)));
    if (json) console.log(JSON.stringify({ ...report, summary: summarize(report), trace }));
    else console.log(`${formatProfile(report)}\n\ntrace: ${trace} (open in https://ui.perfetto.dev or chrome://tracing)`);
    return 0;
  });
}

async function bench(json: boolean, filter: string | undefined, quick: boolean, dawn: string[]): Promise<number> {
  return withGpu('bench', dawn, async (gpu) => {
    const report = await runBench(gpu, { filter, quick, log: json ? undefined : (line) => console.log(line) });
    console.log(json ? JSON.stringify(report) : `\n${formatReport(report)}`);
    return 0;
  });
}

interface ModuleCase { name: string; fn: (xs: Tensor[]) => Tensor; inputs: GradcheckInput[]; options?: GradcheckOptions }

/** Imports a user's gradcheck module: exports `cases` (and optionally `setup(backend)`, which registers ops). */
async function gradcheckModule(file: string, json: boolean, backendName: string, dawn: string[]): Promise<number> {
  if (file.endsWith('.ts')) {
    try {
      const name = 'tsx/esm/api';
      ((await import(/* @vite-ignore */ name)) as { register: () => void }).register();
    } catch {
      console.error(`c2al gradcheck: ${file} is TypeScript; install tsx (npm i -D tsx) or compile it to .js first`);
      return 2;
    }
  }
  let mod: { cases?: ModuleCase[]; setup?: (b: Backend) => Promise<void> | void };
  try {
    mod = await import(pathToFileURL(resolve(file)).href);
  } catch (e) {
    console.error(`c2al gradcheck: cannot load ${file}: ${(e as Error).message}`);
    return 2;
  }
  if (!Array.isArray(mod.cases) || mod.cases.length === 0) {
    console.error(`c2al gradcheck: ${file} must export a non-empty \`cases\` array of { name, fn, inputs, options? }`);
    return 2;
  }
  const backend: Backend = backendName === 'cpu' ? new CpuBackend('f32') : await WebGpuBackend.create({ dawnFlags: dawn, warm: true });
  await mod.setup?.(backend);
  const results = [];
  for (const c of mod.cases) {
    const r = await gradcheckFn(c.fn, c.inputs, { ...c.options, backend });
    results.push({ name: c.name, ...r });
    if (!json) {
      const w = r.worst;
      console.log(`  ${r.pass ? 'pass' : 'FAIL'}  ${c.name.padEnd(44)} ${r.mode.padEnd(11)} max abs err ${r.maxAbsErr.toExponential(2)}  fd err ${r.fdMaxAbsErr.toExponential(2)}${r.pass ? '' : `  ${r.failure}${w ? ` (worst: input ${w.input}, index ${w.index})` : ''}`}`);
    }
  }
  if (json) console.log(JSON.stringify({ backend: backend.name, adapter: backend.description, module: file, results }));
  else console.log(`${results.length} cases, ${results.filter((r) => !r.pass).length} failed on ${backend.description}`);
  backend.destroy();
  if (backend instanceof WebGpuBackend) backend.ctx.destroy();
  return results.every((r) => r.pass) ? 0 : 1;
}

/** A bad flag value: one line, exit code 2. */
class OptionError extends Error {
  override name = 'OptionError';
}

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new OptionError(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

/** --aux-hidden: hidden sizes "64,32", or "0" / "none" for linear auxiliary heads. */
function auxHidden(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  return v === '0' || v === 'none' ? [] : v.split(',').map((x) => positiveInt('aux-hidden', x.trim(), 1));
}

function number(name: string, v: string | undefined, ok: (x: number) => boolean, want: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new OptionError(`--${name} must be ${want}, got '${v}'`);
  return n;
}

function oneOf<T extends string>(name: string, v: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new OptionError(`--${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

/** Errors a user can fix (bad flag, file or data): printed as one line unless --verbose. */
const USER_ERRORS = new Set(['OptionError', 'DataError', 'CheckpointError', 'TensorError', 'ShapeError', 'NonFiniteError', 'BackendError']);
/** Not the user's fault, but not a bug either: one line (with what to do), exit code 3. */
const RUNTIME_ERRORS = new Set(['DeviceLostError', 'NoAdapterError']);

const C2AL_COMMANDS = ['experiment', 'discover', 'train', 'evaluate'] as const;

function c2alOptions(command: string, v: Record<string, string | boolean | string[] | undefined>): C2alCliOptions {
  const s = (k: string) => v[k] as string | undefined;
  const lambdas = (s('lambda') ?? '0.5').split(',').map((x) => number('lambda', x, (n) => n >= 0, 'a number >= 0 (or a comma-separated list)')!);
  const aux = s('aux-cohorts');
  let auxCohorts: number | string[] | undefined;
  if (aux !== undefined) auxCohorts = /^\d+$/.test(aux) ? positiveInt('aux-cohorts', aux, 2) : aux.split(',').map((x) => x.trim()).filter(Boolean);
  if (s('steps') !== undefined && s('epochs') !== undefined) throw new OptionError('--steps and --epochs exclude each other');
  return {
    json: !!v.json, data: s('data') ?? 'synthetic', rows: positiveInt('rows', s('rows'), 100_000), cohort: s('cohort') ?? 'age', schema: s('schema'), skipBadRows: !!v['skip-bad-rows'],
    seeds: positiveInt('seeds', s('seeds'), command === 'experiment' ? 3 : 1),
    steps: s('steps') === undefined ? undefined : positiveInt('steps', s('steps'), 200),
    epochs: number('epochs', s('epochs'), (n) => n > 0, 'a number > 0'),
    batch: s('batch') === undefined ? undefined : positiveInt('batch', s('batch'), 512),
    lambdas, lambdaHead: number('lambda-head', s('lambda-head'), (n) => n >= 0, 'a number >= 0'), lambdaTail: number('lambda-tail', s('lambda-tail'), (n) => n >= 0, 'a number >= 0'),
    auxCohorts, select: oneOf('select', s('select') ?? 'divergence', ['divergence', 'random'] as const),
    metric: oneOf<DivergenceMetric>('metric', s('metric') ?? 'jsDistance', METRICS),
    minShare: number('min-cohort-share', s('min-cohort-share'), (n) => n >= 0 && n < 1, 'a share in [0, 1)') ?? 0.01,
    checkpointEvery: s('checkpoint-every') === undefined ? undefined : positiveInt('checkpoint-every', s('checkpoint-every'), 1), resume: s('resume'),
    auxHidden: auxHidden(s('aux-hidden')),
    freezeY: !!v['freeze-y'], finiteGuard: !!v['guard-finite'], capture: !!v.capture, method: oneOf('method', s('method') ?? 'baseline', ['baseline', 'c2al'] as const), checkpoint: s('checkpoint'), out: s('out'),
  };
}

/**
 * `--steps -5` as `--steps=-5`: parseArgs takes a value that starts with '-' for an option ("argument is
 * ambiguous"); joined, the value reaches the option's own check and its message.
 */
function negativeValuesJoined(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!, next = argv[i + 1];
    if (/^--[a-z][a-z-]*$/.test(a) && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: negativeValuesJoined(argv), allowPositionals: true,
      options: {
        json: { type: 'boolean' }, verbose: { type: 'boolean' }, backend: { type: 'string', default: 'webgpu' }, op: { type: 'string', multiple: true }, module: { type: 'string' },
        seeds: { type: 'string' }, filter: { type: 'string' }, quick: { type: 'boolean' },
        rows: { type: 'string' }, steps: { type: 'string' }, epochs: { type: 'string' }, batch: { type: 'string' },
        lambda: { type: 'string' }, 'lambda-head': { type: 'string' }, 'lambda-tail': { type: 'string' }, 'aux-cohorts': { type: 'string' }, select: { type: 'string' },
        metric: { type: 'string' }, 'min-cohort-share': { type: 'string' }, 'freeze-y': { type: 'boolean' }, 'guard-finite': { type: 'boolean' }, capture: { type: 'boolean' }, 'aux-hidden': { type: 'string' }, 'checkpoint-every': { type: 'string' }, resume: { type: 'string' }, method: { type: 'string' }, checkpoint: { type: 'string' },
        data: { type: 'string' }, cohort: { type: 'string' }, out: { type: 'string' }, schema: { type: 'string' }, 'skip-bad-rows': { type: 'boolean' },
        model: { type: 'string' }, trace: { type: 'string' },
        dawn: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (e) {
    console.error(`c2al: ${(e as Error).message.split('\n')[0]} (c2al --help lists the options)`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.version) { console.log(version()); return 0; }
  const [command, ...rest] = positionals;
  if (v.help || !command) { (command || v.help ? console.log : console.error)(USAGE); return command || v.help ? 0 : 2; }
  if (rest.length) { console.error(`c2al ${command}: unexpected argument '${rest[0]}'`); return 2; }
  const dawn = parseDawnFlags(v.dawn);
  const known = [...C2AL_COMMANDS, 'doctor', 'gradcheck', 'bench', 'profile'];
  if (!known.includes(command)) {
    console.error(`c2al: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  // Options are checked here, before anything starts; then the command runs with Dawn's own stderr lines filtered out.
  const o = (C2AL_COMMANDS as readonly string[]).includes(command) ? c2alOptions(command, v) : null;
  const seeds = positiveInt('seeds', v.seeds, 2);
  const filtered = await runFiltered();
  if (filtered !== null) return filtered;
  if (o) {
    const run = { experiment: experimentCommand, discover: discoverCommand, train: trainCommand, evaluate: evaluateCommand }[command as (typeof C2AL_COMMANDS)[number]];
    return withGpu(command, dawn, (gpu) => run(gpu, o));
  }
  switch (command) {
    case 'doctor': return doctor(!!v.json, dawn);
    case 'gradcheck': return v.module ? gradcheckModule(v.module, !!v.json, v.backend!, dawn) : gradcheck(!!v.json, v.backend!, v.op ?? [], seeds, dawn);
    case 'bench': return bench(!!v.json, v.filter, !!v.quick, dawn);
    case 'profile': return profile(!!v.json, { model: v.model ?? 'small', steps: v.steps, batch: v.batch, method: v.method, trace: v.trace, auxHidden: v['aux-hidden'] }, dawn);
    default: return 2; // unreachable: `known` lists every command
  }
}

// Dawn keeps the event loop alive while an instance exists: exit explicitly once output is flushed.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    // A user error (bad flag, file or data) is one line; anything else is a bug worth its stack.
    const err = e as Error, user = USER_ERRORS.has(err?.name ?? ''), runtime = RUNTIME_ERRORS.has(err?.name ?? '');
    console.error((user || runtime) && !process.argv.includes('--verbose') ? `c2al: ${err.message}` : `c2al: ${err?.stack ?? String(e)}`);
    process.exit(user ? 2 : runtime ? 3 : 1);
  },
);
