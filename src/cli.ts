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
} from './index.js';
import { formatReport, runBench } from './bench.js';
import { runExperiment, type ExperimentReport } from './c2al/experiment.js';
import { syntheticClicks, type ClickData } from './data/synthetic.js';
import { loadMovieLens, DataError, type MovieLensAxis } from './data/movielens.js';
import { loadCsv } from './data/csv.js';
import { IMPORTANT_LIMITS, NO_ADAPTER_HINT, REQUIRED_LIMITS, parseDawnFlags } from './backend/device.js';

const USAGE = `usage: c2al <command> [options]

commands:
  experiment  C2AL end to end on the synthetic default: baseline, cohort discovery, C2AL, NE per cohort
  doctor      show the WebGPU runtime, adapter, features and limits, and check what the engine needs
  gradcheck   check every op's gradient: backend vs float64 reference vs finite differences
  bench       time the kernels (validated first) against measured peaks, TF.js-webgpu and our v1 floor

options:
  --json              print one JSON object instead of text
  --backend NAME      webgpu (default) or cpu (the CPU twins in float32)
  --op NAME           gradcheck only this op (repeatable)
  --module FILE       gradcheck the cases a user module exports (see docs/custom-ops.md)
  --filter TEXT       bench only cases whose name contains TEXT
  --rows N            experiment: synthetic rows (default 100000)
  --steps N           experiment: training steps of 512 rows per model (default 200)
  --seeds N           experiment: seeds (default 3); gradcheck: seeds per case (default 2)
  --lambda X          experiment: λ of both auxiliary heads (default 0.5)
  --data SOURCE       experiment: synthetic (default), movielens:DIR (MovieLens-100K) or csv:FILE
  --schema FILE       experiment with csv: the JSON schema (label, categorical, numeric, cohort, …)
  --skip-bad-rows     experiment with csv: skip and count malformed rows instead of stopping
  --cohort AXIS       experiment on MovieLens: age (default), gender, occupation or activity
  --out DIR           experiment: run folder (default runs/<date-time>): config, metrics, checkpoints
  --quick             bench the smaller sizes only
  --dawn FLAGS        Dawn flags, e.g. "adapter=SwiftShader" (also C2AL_DAWN)
  -h, --help          this text
  -v, --version       the package version

environment:
  C2AL_DAWN           Dawn flags, comma separated ("backend=vulkan,enable-dawn-features=a,b")
  VK_ICD_FILENAMES    pick a Vulkan driver, e.g. /usr/lib/chromium/vk_swiftshader_icd.json
`;

interface Check { name: string; ok: boolean; detail: string }

/** The package version; package.json sits two levels up in dist/src, one level up when run from src/. */
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
  for (const rel of ['../../package.json', '../package.json']) {
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
  checks.push({ name: 'pipelines', ok: true, detail: `${Object.keys(kernels).length} kernels compiled and warmed in ${gpu.compileMs.toFixed(0)} ms` });
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

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;

function experimentTable(r: ExperimentReport): string {
  const width = Math.max(12, ...r.cohorts.map((c) => c.name.length));
  const row = (name: string, share: number, ne: ExperimentReport['overall']['ne'], change: { mean: number; std: number }) =>
    `  ${name.padEnd(width)} ${(100 * share).toFixed(1).padStart(6)}%  ${ne.baseline.mean.toFixed(4)} ± ${ne.baseline.std.toFixed(4)}  ${ne.c2al.mean.toFixed(4)} ± ${ne.c2al.std.toFixed(4)}  ${pct(change.mean).padStart(8)} ± ${(100 * change.std).toFixed(2)}%  ${ne.bayes?.toFixed(4) ?? '—'}`;
  return [
    `  ${'cohort'.padEnd(width)} ${'share'.padStart(7)}  ${'NE baseline'.padEnd(15)}  ${'NE C2AL'.padEnd(15)}  ${'change'.padStart(8)}           Bayes floor`,
    row('overall', 1, r.overall.ne, r.overall.change),
    ...r.cohorts.map((c) => row(c.name, c.share, c.ne, c.change)),
  ].join('\n');
}

async function experiment(json: boolean, o: { rows: number; steps: number; seeds: number; lambda: number; data: string; cohort: string; out?: string; schema?: string; skipBadRows?: boolean }, dawn: string[]): Promise<number> {
  let data: ClickData;
  if (o.data === 'synthetic') data = syntheticClicks({ rows: o.rows, seed: 1 });
  else if (o.data.startsWith('movielens:')) data = await loadMovieLens(o.data.slice('movielens:'.length), { cohort: o.cohort as MovieLensAxis });
  else if (o.data.startsWith('csv:')) {
    if (!o.schema) throw new DataError('--data csv:FILE needs --schema FILE');
    const csv = await loadCsv(o.data.slice('csv:'.length), o.schema, { skipBadRows: o.skipBadRows });
    if (csv.skipped && !json) console.log(`skipped ${csv.skipped} malformed rows (--skip-bad-rows)`);
    data = csv;
  } else {
    console.error(`c2al experiment: --data must be synthetic or movielens:DIR, got '${o.data}'`);
    return 2;
  }
  return withGpu('experiment', dawn, async (gpu) => {
    const t0 = performance.now();
    const log = json ? undefined : (line: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}`);
    log?.(`${o.data} data: ${data.rows} rows, ${data.cohortNames.length} cohorts (${data.cohortNames.join(', ')}); adapter ${gpu.description}`);
    const out = o.out ?? `runs/${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const report = await runExperiment(data, gpu, { seeds: o.seeds, steps: o.steps, lambdaHead: o.lambda, lambdaTail: o.lambda, log, out });
    if (json) console.log(JSON.stringify(report));
    else {
      const d = report.discovery;
      console.log(`\ndiscovery (${d.metric} of baseline predictions on the validation split): head = ${d.head}, tail = ${d.tail}${d.truth ? ` (the generator's most different pair: ${d.truth.head} / ${d.truth.tail})` : ''}`);
      console.log(`NE on the test split, mean ± std over ${report.seeds} seed${report.seeds > 1 ? 's' : ''} (lower is better; change = (C2AL − baseline) / baseline):`);
      console.log(experimentTable(report));
      console.log(`AUC overall: baseline ${report.overall.auc.baseline.mean.toFixed(4)}, C2AL ${report.overall.auc.c2al.mean.toFixed(4)}; ${report.seconds.toFixed(0)} s on ${report.adapter}`);
      const a = report.attention;
      console.log(`FM attention weights Y: normalized entropy ${a.baseline.normalizedEntropy.toFixed(3)} → ${a.c2al.normalizedEntropy.toFixed(3)}, Gini ${a.baseline.gini.toFixed(3)} → ${a.c2al.gini.toFixed(3)}, near zero ${(100 * a.baseline.nearZero).toFixed(1)}% → ${(100 * a.c2al.nearZero).toFixed(1)}% (baseline → C2AL)`);
      console.log(`run folder: ${out} (config.json, metrics.json, baseline/, c2al-train/, c2al-inference/)`);
    }
    return 0;
  });
}

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        json: { type: 'boolean' }, backend: { type: 'string', default: 'webgpu' }, op: { type: 'string', multiple: true }, module: { type: 'string' },
        seeds: { type: 'string' }, filter: { type: 'string' }, quick: { type: 'boolean' },
        rows: { type: 'string' }, steps: { type: 'string' }, lambda: { type: 'string' }, data: { type: 'string', default: 'synthetic' }, cohort: { type: 'string', default: 'age' }, out: { type: 'string' }, schema: { type: 'string' }, 'skip-bad-rows': { type: 'boolean' }, dawn: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (e) {
    console.error(`c2al: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.version) { console.log(version()); return 0; }
  const [command, ...rest] = positionals;
  if (v.help || !command) { (command || v.help ? console.log : console.error)(USAGE); return command || v.help ? 0 : 2; }
  if (rest.length) { console.error(`c2al ${command}: unexpected argument '${rest[0]}'`); return 2; }
  const dawn = parseDawnFlags(v.dawn);
  let seeds: number, rows: number, steps: number;
  try {
    seeds = positiveInt('seeds', v.seeds, command === 'experiment' ? 3 : 2);
    rows = positiveInt('rows', v.rows, 100_000);
    steps = positiveInt('steps', v.steps, 200);
  } catch (e) {
    console.error(`c2al: ${(e as Error).message}`);
    return 2;
  }
  const lambda = v.lambda === undefined ? 0.5 : Number(v.lambda);
  if (!(lambda >= 0)) { console.error(`c2al: --lambda must be a number >= 0, got '${v.lambda}'`); return 2; }
  switch (command) {
    case 'doctor': return doctor(!!v.json, dawn);
    case 'gradcheck': return v.module ? gradcheckModule(v.module, !!v.json, v.backend!, dawn) : gradcheck(!!v.json, v.backend!, v.op ?? [], seeds, dawn);
    case 'bench': return bench(!!v.json, v.filter, !!v.quick, dawn);
    case 'experiment': return experiment(!!v.json, { rows, steps, seeds, lambda, data: v.data!, cohort: v.cohort!, out: v.out, schema: v.schema, skipBadRows: v['skip-bad-rows'] }, dawn);
    default:
      console.error(`c2al: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

// Dawn keeps the event loop alive while an instance exists: exit explicitly once output is flushed.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    // A user error (bad data) is one line; anything else is a bug worth its stack.
    const err = e as Error;
    console.error(err.name === 'DataError' && !process.argv.includes('--verbose') ? `c2al: ${err.message}` : `c2al: ${err.stack ?? String(e)}`);
    process.exit(err.name === 'DataError' ? 2 : 1);
  },
);
