/**
 * `c2al/testing`: vitest (or jest) matchers for users' own test suites, in Node and in browsers.
 *   expect.extend(matchers)
 *   await expect((xs) => myOp(xs)).toPassGradcheck([{ shape: [4, 8] }], { directions: 8 })
 *   await expect((xs) => myOp(xs)).toMatchReference([{ shape: [4, 8] }], { atol: 1e-5 })
 * Both are async: await them.
 */
import { CpuBackend } from '../backend/cpu.js';
import type { Backend } from '../backend/index.js';
import { gradcheck, type GradcheckInput, type GradcheckOptions } from './gradcheck.js';
import { tensor } from '../create.js';
import { mulberry32 } from '../random.js';
import { numel } from '../shape.js';
import { getBackend, noGrad, scope, type Tensor } from '../tensor.js';

type Fn = (xs: Tensor[]) => Tensor;
interface MatcherResult { pass: boolean; message: () => string }

async function toPassGradcheck(received: Fn, inputs: (Tensor | GradcheckInput)[], opts: GradcheckOptions & { backend?: Backend } = {}): Promise<MatcherResult> {
  const r = await gradcheck(received, inputs, opts);
  const w = r.worst;
  const worst = w ? `${w.input < 0 ? `direction ${w.index}` : `input ${w.input}, element ${w.index}`}: ${r.backend} ${w.analytic}, float64 reference ` +
    `${w.reference}, finite difference ${w.finiteDifference}` : 'none';
  return {
    pass: r.pass,
    message: () => r.pass
      ? `expected the gradcheck to fail, but every ${r.mode === 'full' ? 'element' : 'direction'} passed (worst: ${worst})`
      : `gradcheck failed (${r.mode}): ${r.failure}\n  worst: ${worst}\n  max |backend − reference| ${r.maxAbsErr.toExponential(2)}, max |reference − ` +
        `finite difference| ${r.fdMaxAbsErr.toExponential(2)}\n  tolerance ${r.tolerance.atol} + ${r.tolerance.rtol}·|ref| (finite differences ` +
        `${r.tolerance.fdAtol} + ${r.tolerance.fdRtol}·|ref|)`,
  };
}

/** Runs fn on the active backend and on the float64 reference with the same inputs; compares outputs. */
async function toMatchReference(received: Fn, inputs: (Tensor | GradcheckInput)[],
  opts: { atol?: number; rtol?: number; seed?: number; backend?: Backend } = {}): Promise<MatcherResult> {
  const backend = opts.backend ?? getBackend(), ref = new CpuBackend('f64');
  const next = mulberry32(opts.seed ?? 1);
  const values = await Promise.all(inputs.map(async (x) => ('read' in x ? { shape: [...x.shape], data: Array.from(await x.read()) }
    : { shape: x.shape, data: x.data ? Array.from(x.data) : Array.from({ length: numel(x.shape) }, () => -2 + 4 * next()) })));
  const run = async (b: Backend) => {
    const out = noGrad(() => scope(() => received(values.map((v) => tensor(v.data, v.shape, { backend: b })))));
    const data = Array.from(await out.read());
    out.dispose();
    return data;
  };
  const [got, want] = [await run(backend), await run(ref)];
  const atol = opts.atol ?? 1e-5, rtol = opts.rtol ?? 1e-4;
  let worst = -1, worstErr = 0;
  want.forEach((v, i) => {
    const e = Math.abs(got[i]! - v) / (atol + rtol * Math.abs(v));
    if (e > worstErr) { worstErr = e; worst = i; }
  });
  const pass = got.length === want.length && worstErr <= 1;
  return {
    pass,
    message: () => got.length !== want.length ? `output has ${got.length} elements, the reference ${want.length}`
      : `element ${worst}: ${backend.description} ${got[worst]} vs float64 reference ${want[worst]} (tolerance ${atol} + ${rtol}·|ref|)`,
  };
}

export const matchers = { toPassGradcheck, toMatchReference };

/**
 * The matchers' signatures, for your test types. With vitest, add once (e.g. in a .d.ts of your tests):
 *   import type { C2alMatchers } from 'c2al/testing';
 *   declare module 'vitest' { interface Matchers<T = any> extends C2alMatchers<T> {} }
 */
export interface C2alMatchers<R = unknown> {
  toPassGradcheck(inputs: (Tensor | GradcheckInput)[], opts?: GradcheckOptions & { backend?: Backend }): Promise<R>;
  toMatchReference(inputs: (Tensor | GradcheckInput)[], opts?: { atol?: number; rtol?: number; seed?: number; backend?: Backend }): Promise<R>;
}
