/**
 * Gradient checking for every op in the table: the analytic gradient on a chosen backend vs the float64
 * CPU reference's analytic gradient vs central finite differences in float64. The loss is
 * L = sum(f(x) * w) with fixed random weights w, so every output element's gradient is exercised.
 * gradcheckCases is typed over OpName: a new op without an entry does not compile.
 */
import type { Backend } from '../backend/index.js';
import { CpuBackend } from '../backend/cpu.js';
import * as o from '../ops.js';
import type { OpName } from '../ops.js';
import { tensor } from '../create.js';
import { mulberry32, normalSampler } from '../random.js';
import { numel, fmt } from '../shape.js';
import { getBackend, scope, Tensor } from '../tensor.js';

type Domain = 'any' | 'positive' | 'nonzero' | 'mask' | 'aboveMinusOne' | 'unit';
interface InputSpec { shape: number[]; domain?: Domain; grad?: boolean }
export interface GradcheckCase { label: string; inputs: InputSpec[]; fn: (xs: Tensor[]) => Tensor }

const inp = (shape: number[], domain: Domain = 'any', grad = true): InputSpec => ({ shape, domain, grad });
const unaryCases = (f: (x: Tensor) => Tensor, domain: Domain = 'any'): GradcheckCase[] => [
  { label: '[3, 4]', inputs: [inp([3, 4], domain)], fn: ([x]) => f(x!) },
  { label: '[2, 3, 5]', inputs: [inp([2, 3, 5], domain)], fn: ([x]) => f(x!) },
];
const binaryCases = (f: (a: Tensor, b: Tensor) => Tensor, bDomain: Domain = 'any'): GradcheckCase[] => [
  { label: '[3, 4] · [3, 4]', inputs: [inp([3, 4]), inp([3, 4], bDomain)], fn: ([a, b]) => f(a!, b!) },
  { label: '[2, 3, 4] · [3, 1] (broadcast)', inputs: [inp([2, 3, 4]), inp([3, 1], bDomain)], fn: ([a, b]) => f(a!, b!) },
  { label: '[1, 4] · [3, 1] (both broadcast)', inputs: [inp([1, 4]), inp([3, 1], bDomain)], fn: ([a, b]) => f(a!, b!) },
  { label: '[5] · [] (scalar)', inputs: [inp([5]), inp([], bDomain)], fn: ([a, b]) => f(a!, b!) },
];
const reduceCases = (f: (x: Tensor, axes?: number | number[], keep?: boolean) => Tensor): GradcheckCase[] => [
  { label: '[3, 4] all', inputs: [inp([3, 4])], fn: ([x]) => f(x!) },
  { label: '[2, 3, 4] axis 1', inputs: [inp([2, 3, 4])], fn: ([x]) => f(x!, 1) },
  { label: '[2, 3, 4] axes [0, 2] keepDims', inputs: [inp([2, 3, 4])], fn: ([x]) => f(x!, [0, 2], true) },
  { label: '[3, 5] axis -1', inputs: [inp([3, 5])], fn: ([x]) => f(x!, -1) },
];

export const gradcheckCases: Record<OpName, GradcheckCase[] | null> = {
  bceWithLogits: [
    { label: 'logits [6, 3], soft labels, weights', inputs: [inp([6, 3]), inp([6, 3], 'unit', false), inp([6, 3], 'positive', false)],
      fn: ([x, y, w]) => o.bceWithLogits(x!, y!, w!) },
    { label: 'logits [5, 1], 0/1 labels, default weights', inputs: [inp([5, 1]), inp([5, 1], 'mask', false)], fn: ([x, y]) => o.bceWithLogits(x!, y!) },
    { label: 'logits [4, 3], per-head weights [3] broadcast', inputs: [inp([4, 3]), inp([4, 3], 'mask', false), inp([3], 'positive', false)],
      fn: ([x, y, w]) => o.bceWithLogits(x!, y!, w!) },
  ],
  embeddingBag: [
    { label: 'lookup: 2 fields (vocab 3 + 4), [4, 2] ids with repeats', inputs: [inp([7, 3])],
      fn: ([t]) => o.embeddingLookup(t!, [0, 1, 2, 3, 0, 1, 1, 0], [{ name: 'a', vocab: 3 }, { name: 'b', vocab: 4 }]) },
    { label: 'sum bags with repeated rows, an empty bag', inputs: [inp([5, 2])],
      fn: ([t]) => o.embeddingBag(t!, [4, 0, 4, 2, 2, 1], [0, 3, 3, 6], { mode: 'sum' }) },
    { label: 'mean bags over rows 2..5 of the table', inputs: [inp([6, 4])],
      fn: ([t]) => o.embeddingBag(t!, [0, 3, 3, 1, 2], [0, 2, 5], { mode: 'mean', rowOffset: 2, vocab: 4 }) },
  ],
  layerNorm: [
    { label: 'x [4, 5], gamma, beta [5]', inputs: [inp([4, 5]), inp([5]), inp([5])], fn: ([x, g, b]) => o.layerNorm(x!, g!, b!) },
    { label: 'x [2, 3, 8]', inputs: [inp([2, 3, 8]), inp([8], 'positive'), inp([8])], fn: ([x, g, b]) => o.layerNorm(x!, g!, b!) },
  ],
  neg: unaryCases(o.neg),
  abs: unaryCases(o.abs, 'nonzero'),
  exp: unaryCases(o.exp),
  log: unaryCases(o.log, 'positive'),
  log1p: unaryCases(o.log1p, 'aboveMinusOne'),
  sqrt: unaryCases(o.sqrt, 'positive'),
  sigmoid: unaryCases(o.sigmoid),
  tanh: unaryCases(o.tanh),
  relu: unaryCases(o.relu, 'nonzero'),
  gelu: unaryCases(o.gelu),
  silu: unaryCases(o.silu),
  powScalar: [
    { label: '[3, 4] ^ 2.5', inputs: [inp([3, 4], 'positive')], fn: ([x]) => o.powScalar(x!, 2.5) },
    { label: '[3, 4] ^ 3 (negative x)', inputs: [inp([3, 4])], fn: ([x]) => o.powScalar(x!, 3) },
  ],
  mulScalar: unaryCases((x) => o.mulScalar(x, -1.75)),
  addScalar: unaryCases((x) => o.addScalar(x, 0.5)),
  add: binaryCases(o.add),
  sub: binaryCases(o.sub),
  mul: binaryCases(o.mul),
  div: binaryCases(o.div, 'nonzero'),
  maximum: binaryCases(o.maximum),
  minimum: binaryCases(o.minimum),
  equal: null,
  histogram: null,
  divergences: null,
  greater: null,
  cast: null,
  sum: reduceCases(o.sum),
  mean: reduceCases(o.mean),
  max: reduceCases(o.max),
  reshape: [{ label: '[2, 6] -> [3, -1]', inputs: [inp([2, 6])], fn: ([x]) => o.mul(o.reshape(x!, [3, -1]), o.reshape(x!, [3, 4])) }], permute: [
    { label: '[2, 3, 4] perm [2, 0, 1]', inputs: [inp([2, 3, 4])], fn: ([x]) => o.permute(x!, [2, 0, 1]) },
    { label: '[3, 4] transpose', inputs: [inp([3, 4])], fn: ([x]) => o.transpose(x!) },
  ],
  slice: [{ label: '[4, 5] [1:3, 2:]', inputs: [inp([4, 5])], fn: ([x]) => o.slice(x!, [1, 2], [2, -1]) }],
  concat: [
    { label: '[2, 3] ++ [4, 3] axis 0', inputs: [inp([2, 3]), inp([4, 3])], fn: ([a, b]) => o.concat([a!, b!], 0) },
    { label: '[2, 1, 3] ++ [2, 2, 3] ++ [2, 1, 3] axis 1', inputs: [inp([2, 1, 3]), inp([2, 2, 3]), inp([2, 1, 3])], fn: (xs) => o.concat(xs, 1) },
  ],
  expand: [{ label: '[3, 1] -> [2, 3, 4]', inputs: [inp([3, 1])], fn: ([x]) => o.expand(x!, [2, 3, 4]) }],
  where: [
    { label: 'mask [3, 4], a [3, 4], b [4]', inputs: [inp([3, 4], 'mask', false), inp([3, 4]), inp([4])], fn: ([c, a, b]) => o.where(c!, a!, b!) },
  ],
  fmInteraction: [
    { label: 'x [3, 4, 5], y [4, 3] shared', inputs: [inp([3, 4, 5]), inp([4, 3])], fn: ([x, y]) => o.fmInteraction(x!, y!) },
    { label: 'x [2, 3, 4], y [2, 3, 6] per sample', inputs: [inp([2, 3, 4]), inp([2, 3, 6])], fn: ([x, y]) => o.fmInteraction(x!, y!) },
    // d and k multiples of 4: the backward in one fm_interaction_backward_vec4 dispatch.
    { label: 'x [3, 5, 8], y [5, 4] shared, fused backward', inputs: [inp([3, 5, 8]), inp([5, 4])], fn: ([x, y]) => o.fmInteraction(x!, y!) },
    { label: 'x [2, 3, 4], y [2, 3, 8] per sample, fused backward', inputs: [inp([2, 3, 4]), inp([2, 3, 8])], fn: ([x, y]) => o.fmInteraction(x!, y!) },
  ],
  matmul: [
    { label: '[3, 4] · [4, 5]', inputs: [inp([3, 4]), inp([4, 5])], fn: ([a, b]) => o.matmul(a!, b!) },
    { label: '[4, 3]ᵀ · [4, 5]', inputs: [inp([4, 3]), inp([4, 5])], fn: ([a, b]) => o.matmul(a!, b!, { transA: true }) },
    { label: '[3, 4] · [5, 4]ᵀ', inputs: [inp([3, 4]), inp([5, 4])], fn: ([a, b]) => o.matmul(a!, b!, { transB: true }) },
    { label: '[4, 3]ᵀ · [5, 4]ᵀ', inputs: [inp([4, 3]), inp([5, 4])], fn: ([a, b]) => o.matmul(a!, b!, { transA: true, transB: true }) },
    { label: '[2, 3, 4] · [4, 2] (batch broadcast)', inputs: [inp([2, 3, 4]), inp([4, 2])], fn: ([a, b]) => o.matmul(a!, b!) },
    { label: '[17, 4] · [8, 4]ᵀ (register-blocked kernel, B transposed first)', inputs: [inp([17, 4]), inp([8, 4])],
      fn: ([a, b]) => o.matmul(a!, b!, { transB: true }) },
    { label: '[2, 1, 3, 4] · [3, 4, 2] (batch broadcast both)', inputs: [inp([2, 1, 3, 4]), inp([3, 4, 2])], fn: ([a, b]) => o.matmul(a!, b!) },
  ],
  linear: [
    { label: '[3, 5] · [5, 2] + b [2]', inputs: [inp([3, 5]), inp([5, 2]), inp([2])], fn: ([x, w, b]) => o.linear(x!, w!, b!) },
    { label: 'relu([3, 5] · [5, 2] + b)', inputs: [inp([3, 5]), inp([5, 2]), inp([2])], fn: ([x, w, b]) => o.linear(x!, w!, b!, 'relu') },
    { label: 'relu([17, 8] · [8, 8] + b) (the fused register-blocked kernel)', inputs: [inp([17, 8]), inp([8, 8]), inp([8])],
      fn: ([x, w, b]) => o.linear(x!, w!, b!, 'relu') },
    { label: '[2, 3, 8] · [8, 4] + b (batched rows)', inputs: [inp([2, 3, 8]), inp([8, 4]), inp([4])], fn: ([x, w, b]) => o.linear(x!, w!, b!) },
  ],
};

export interface GradcheckOptions {
  /** Seeds per case (default 2; gradcheckOps only). */
  seeds?: number;
  /** Finite-difference step in float64 (default 1e-6). */
  eps?: number;
  /**
   * Backend vs float64 reference: |g - ref| <= atol + rtol·|ref| (defaults 1e-5, 1e-4: float32 arithmetic,
   * ~10x the largest error measured on lavapipe).
   */
  atol?: number;
  rtol?: number;
  /** Float64 reference vs finite differences (defaults 1e-7, 1e-6; eps 1e-6 leaves ~1e-9). */
  fdAtol?: number;
  fdRtol?: number;
  ops?: OpName[];
  /** Check this many random directional derivatives instead of every element (fast mode for large inputs). */
  directions?: number;
  /** Seed of the loss weights and directions (default 1). */
  seed?: number;
}

export interface Worst { input: number; index: number; analytic: number; reference: number; finiteDifference: number }

interface CaseCheck { maxAbsErr: number; maxRelErr: number; fdMaxAbsErr: number; worst: Worst | null; failure?: string }

export interface GradcheckResult {
  op: OpName;
  cases: number;
  /** Backend analytic gradient vs the float64 reference analytic gradient. */
  maxAbsErr: number;
  maxRelErr: number;
  /** Float64 reference analytic gradient vs central finite differences. */
  fdMaxAbsErr: number;
  tolerance: { atol: number; rtol: number; fdAtol: number; fdRtol: number };
  pass: boolean;
  /** The first failing element, if any. */
  failure?: string;
}

function sample(domain: Domain, next: () => number): number {
  const u = next();
  switch (domain) {
    case 'positive': return 0.5 + 1.5 * u;
    case 'nonzero': return (0.2 + 0.8 * u) * (next() < 0.5 ? -1 : 1);
    case 'mask': return u < 0.5 ? 0 : 1;
    case 'aboveMinusOne': return -0.5 + 2 * u;
    case 'unit': return u;
    default: return -2 + 4 * u;
  }
}

async function analyticGrads(backend: Backend, c: GradcheckCase, values: number[][],
  weights: number[]): Promise<{ grads: (number[] | null)[]; outShape: number[] }> {
  const { xs, outShape } = scope(() => {
    const xs = c.inputs.map((spec, i) => tensor(values[i]!, spec.shape, { backend, requiresGrad: spec.grad !== false }));
    const out = c.fn(xs);
    const w = tensor(weights.slice(0, out.size), out.shape, { backend });
    o.sum(o.mul(out, w)).backward();
    return { xs, outShape: [...out.shape] };
  });
  const grads = await Promise.all(xs.map(async (x, i) => (c.inputs[i]!.grad === false ? null
    : x.grad ? Array.from(await x.grad.read()) : new Array<number>(x.size).fill(0))));
  xs.forEach((x) => x.dispose());
  return { grads, outShape };
}

function lossAt(ref: CpuBackend, c: GradcheckCase, values: number[][], weights: number[]): number {
  return scope(() => {
    const xs = c.inputs.map((spec, i) => tensor(values[i]!, spec.shape, { backend: ref }));
    const out = ref.readSync(c.fn(xs).storage);
    if (out.length > weights.length) throw new Error(`gradcheck: the output has ${out.length} elements; at most ${weights.length} are supported`);
    let l = 0;
    for (let i = 0; i < out.length; i++) l += out[i]! * weights[i]!;
    return l;
  });
}

const MAX_OUTPUT = 1 << 16;

/** Compares one case at given input values: backend vs float64 analytic vs central differences. */
async function checkCase(backend: Backend, ref: CpuBackend, c: GradcheckCase, values: number[][], o_: Required<Pick<GradcheckOptions,
  'eps' | 'atol' | 'rtol' | 'fdAtol' | 'fdRtol' | 'seed'>> & { directions?: number }): Promise<CaseCheck> {
  const next = mulberry32(o_.seed * 7919 + 13);
  const weights = Array.from({ length: MAX_OUTPUT }, () => -1 + 2 * next());
  const refG = await analyticGrads(ref, c, values, weights);
  const devG = backend === ref ? refG : await analyticGrads(backend, c, values, weights);
  const r: CaseCheck = { maxAbsErr: 0, maxRelErr: 0, fdMaxAbsErr: 0, worst: null };
  let worstErr = -1;
  const compare = (input: number, index: number, dev: number, refv: number, fd: number, what: string): void => {
    const abs = Math.abs(dev - refv);
    r.maxAbsErr = Math.max(r.maxAbsErr, abs);
    r.maxRelErr = Math.max(r.maxRelErr, abs / Math.max(Math.abs(refv), 1e-12));
    const fdErr = Math.abs(fd - refv);
    r.fdMaxAbsErr = Math.max(r.fdMaxAbsErr, fdErr);
    const devBad = !(abs <= o_.atol + o_.rtol * Math.abs(refv)), fdBad = !(fdErr <= o_.fdAtol + o_.fdRtol * Math.abs(refv));
    const score = Math.max(abs / (o_.atol + o_.rtol * Math.abs(refv)), fdErr / (o_.fdAtol + o_.fdRtol * Math.abs(refv)));
    if (score > worstErr) { worstErr = score; r.worst = { input, index, analytic: dev, reference: refv, finiteDifference: fd }; }
    if (!r.failure && (devBad || fdBad)) {
      r.failure = devBad ? `${what}: ${backend.description} ${dev} vs reference ${refv}` : `${what}: reference ${refv} vs finite difference ${fd}`;
    }
  };
  const fdAlong = (dir: number[][]): number => {
    const plus = values.map((v, i) => v.map((x, j) => x + o_.eps * (dir[i]?.[j] ?? 0)));
    const minus = values.map((v, i) => v.map((x, j) => x - o_.eps * (dir[i]?.[j] ?? 0)));
    return (lossAt(ref, c, plus, weights) - lossAt(ref, c, minus, weights)) / (2 * o_.eps);
  };
  if (o_.directions) {
    const normal = normalSampler(mulberry32(o_.seed * 104729 + 7));
    for (let k = 0; k < o_.directions; k++) {
      const dir = c.inputs.map((spec, i) => (spec.grad === false ? [] : values[i]!.map(() => normal())));
      const dot = (g: (number[] | null)[]): number => g.reduce((acc, gi, i) => acc + (gi ? gi.reduce((s2, v, j) => s2 + v * dir[i]![j]!, 0) : 0), 0);
      compare(-1, k, dot(devG.grads), dot(refG.grads), fdAlong(dir), `direction ${k}`);
    }
    return r;
  }
  c.inputs.forEach((spec, i) => {
    const rg = refG.grads[i], dg = devG.grads[i];
    if (!rg || !dg) return;
    for (let j = 0; j < rg.length; j++) {
      const dir = c.inputs.map((_, k) => (k === i ? values[i]!.map((__, m) => (m === j ? 1 : 0)) : []));
      compare(i, j, dg[j]!, rg[j]!, fdAlong(dir), `${c.label}, input ${i} ${fmt(spec.shape)}[${j}]`);
    }
  });
  return r;
}

/** The default tolerances (see GradcheckOptions for why). */
export function gradcheckTolerance(opts: GradcheckOptions = {}): GradcheckResult['tolerance'] {
  return { atol: opts.atol ?? 1e-5, rtol: opts.rtol ?? 1e-4, fdAtol: opts.fdAtol ?? 1e-7, fdRtol: opts.fdRtol ?? 1e-6 };
}

/** Runs every case of the selected ops on `backend`; never throws for a failing op (see `pass`). */
export async function gradcheckOps(backend: Backend, opts: GradcheckOptions = {}): Promise<GradcheckResult[]> {
  const tolerance = gradcheckTolerance(opts);
  const ref = new CpuBackend('f64');
  const names = opts.ops ?? (Object.keys(gradcheckCases) as OpName[]);
  const results: GradcheckResult[] = [];
  for (const op of names) {
    const cases = gradcheckCases[op];
    if (cases === undefined) throw new Error(`gradcheck: unknown op '${op}'; known: ${Object.keys(gradcheckCases).join(', ')}`);
    if (cases === null) continue;
    const r: GradcheckResult = { op, cases: 0, maxAbsErr: 0, maxRelErr: 0, fdMaxAbsErr: 0, tolerance, pass: true };
    for (const c of cases) {
      for (let seed = 1; seed <= (opts.seeds ?? 2); seed++) {
        const next = mulberry32(seed * 7919 + results.length);
        const values = c.inputs.map((s) => Array.from({ length: numel(s.shape) }, () => sample(s.domain ?? 'any', next)));
        const check = await checkCase(backend, ref, c, values, { ...tolerance, eps: opts.eps ?? 1e-6, seed: seed + results.length });
        r.cases++;
        r.maxAbsErr = Math.max(r.maxAbsErr, check.maxAbsErr);
        r.maxRelErr = Math.max(r.maxRelErr, check.maxRelErr);
        r.fdMaxAbsErr = Math.max(r.fdMaxAbsErr, check.fdMaxAbsErr);
        if (r.pass && check.failure) {
          r.pass = false;
          r.failure = `seed ${seed}, ${check.failure}`;
        }
      }
    }
    results.push(r);
  }
  return results;
}

export interface GradcheckInput {
  shape: number[];
  /** Values (float64); sampled from `domain` when absent. */
  data?: ArrayLike<number>;
  domain?: Domain;
  /** Whether to check the gradient of this input (default true). */
  requiresGrad?: boolean;
}

export interface GradcheckReport {
  pass: boolean;
  backend: string;
  mode: 'full' | 'directional';
  /** Backend analytic gradient vs the float64 reference's analytic gradient. */
  maxAbsErr: number;
  maxRelErr: number;
  /** Float64 analytic gradient vs central finite differences. */
  fdMaxAbsErr: number;
  /** The element (or direction: input −1, index = direction) closest to failing, or failing worst. */
  worst: Worst | null;
  failure?: string;
  tolerance: GradcheckResult['tolerance'];
}

/**
 * torch.autograd.gradcheck for this engine: the gradient of L = Σ f(x)·w (fixed random w) on `backend`
 * vs the float64 reference's analytic gradient vs central finite differences in float64. `f` must
 * build its result from its inputs with ops (built-in or registered). Inputs are tensors (their values
 * are read) or specs. Set `directions` to check that many random directional derivatives instead of
 * every element (fast mode for large inputs). Returns a report; never throws for a failing check.
 */
export async function gradcheck(f: (xs: Tensor[]) => Tensor, inputs: (Tensor | GradcheckInput)[],
  opts: GradcheckOptions & { backend?: Backend } = {}): Promise<GradcheckReport> {
  const backend = opts.backend ?? getBackend();
  const tolerance = gradcheckTolerance(opts);
  const next = mulberry32((opts.seed ?? 1) * 31 + 5);
  const values: number[][] = [];
  const specs: InputSpec[] = [];
  for (const x of inputs) {
    if (x instanceof Tensor) {
      values.push(Array.from(await x.read()));
      specs.push({ shape: [...x.shape], grad: true });
    } else {
      values.push(x.data ? Array.from(x.data) : Array.from({ length: numel(x.shape) }, () => sample(x.domain ?? 'any', next)));
      specs.push({ shape: x.shape, grad: x.requiresGrad !== false });
    }
  }
  const check = await checkCase(backend, new CpuBackend('f64'), { label: 'f', inputs: specs, fn: f }, values,
    { ...tolerance, eps: opts.eps ?? 1e-6, seed: opts.seed ?? 1, directions: opts.directions });
  return { pass: !check.failure, backend: backend.description, mode: opts.directions ? 'directional' : 'full', ...check, tolerance };
}
