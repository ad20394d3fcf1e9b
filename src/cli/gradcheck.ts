/**
 * `c2al gradcheck`: every differentiable op's analytic gradient on a backend against the float64 reference,
 * and that against central finite differences; or (`--module FILE`) the cases a user's module exports.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CpuBackend, WebGpuBackend, gradcheck as gradcheckFn, gradcheckOps, gradcheckCases, gradcheckTolerance, type GradcheckInput,
    type GradcheckOptions, type Tensor,
  type Backend, type GradcheckResult, type OpName,
} from '../index.js';

function fmtErr(x: number): string { return x === 0 ? '0' : x.toExponential(2); }

export async function gradcheck(json: boolean, backendName: string, only: string[], seeds: number, dawn: string[]): Promise<number> {
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
    console.log(`  ${'op'.padEnd(11)}${'cases'.padStart(6)}  ${'max abs err'.padStart(11)}  ${'max rel err'.padStart(11)}  ` +
      `${'fd abs err'.padStart(10)}  result`);
  }
  for (const op of ops) {
    const [r] = await gradcheckOps(backend, { ops: [op], seeds });
    if (!r) continue;
    results.push(r);
    if (!json) {
      console.log(`  ${r.op.padEnd(11)}${String(r.cases).padStart(6)}  ${fmtErr(r.maxAbsErr).padStart(11)}  ${fmtErr(r.maxRelErr).padStart(11)}  ` +
        `${fmtErr(r.fdMaxAbsErr).padStart(10)}  ${r.pass ? 'pass' : `FAIL: ${r.failure}`}`);
    }
  }
  const failed = results.filter((r) => !r.pass);
  const adapter = backend instanceof WebGpuBackend ? { ...backend.ctx.adapter } : { description: backend.description };
  if (json) console.log(JSON.stringify({ backend: backend.name, adapter, results }));
  else console.log(`${results.length} ops, ${results.reduce((a, r) => a + r.cases, 0)} cases, ${failed.length} failed, in ` +
    `${((performance.now() - t0) / 1000).toFixed(1)} s`);
  backend.destroy();
  if (backend instanceof WebGpuBackend) backend.ctx.destroy();
  return failed.length ? 1 : 0;
}

interface ModuleCase { name: string; fn: (xs: Tensor[]) => Tensor; inputs: GradcheckInput[]; options?: GradcheckOptions }

/** Imports a user's gradcheck module: exports `cases` (and optionally `setup(backend)`, which registers ops). */
export async function gradcheckModule(file: string, json: boolean, backendName: string, dawn: string[]): Promise<number> {
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
      console.log(`  ${r.pass ? 'pass' : 'FAIL'}  ${c.name.padEnd(44)} ${r.mode.padEnd(11)} max abs err ${r.maxAbsErr.toExponential(2)}  fd err ` +
        `${r.fdMaxAbsErr.toExponential(2)}${r.pass ? '' : `  ${r.failure}${w ? ` (worst: input ${w.input}, index ${w.index})` : ''}`}`);
    }
  }
  if (json) console.log(JSON.stringify({ backend: backend.name, adapter: backend.description, module: file, results }));
  else console.log(`${results.length} cases, ${results.filter((r) => !r.pass).length} failed on ${backend.description}`);
  backend.destroy();
  if (backend instanceof WebGpuBackend) backend.ctx.destroy();
  return results.every((r) => r.pass) ? 0 : 1;
}
