/**
 * A complete custom op: swish(x) = x·sigmoid(βx) with its own forward and backward WGSL kernels, their
 * float64 CPU twins, and gradcheck cases. docs/custom-ops.md walks through it; test/custom-op.test.ts
 * runs it in both test projects; `npx c2al gradcheck --module docs/examples/custom-swish.ts` checks it
 * from the CLI (setup() and cases are what the CLI looks for).
 */
import { f32Bits, registerOp, type Backend, type Tensor } from '../../src/index.js';

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

// Bindings follow the engine's convention: @group(0) inputs (read) then outputs (read_write); Params in @group(1).
const forwardWgsl = /* wgsl */ `
struct Params { n: u32, beta: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(256)
fn swish_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let v = x[i];
  y[i] = v / (1.0 + exp(-p.beta * v));
}
`;

const backwardWgsl = /* wgsl */ `
struct Params { n: u32, beta: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(256)
fn swish_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  let v = x[i];
  let s = 1.0 / (1.0 + exp(-p.beta * v));
  dx[i] = dy[i] * (s + p.beta * v * s * (1.0 - s));
}
`;

interface SwishArgs { n: number; beta: number }
export interface SwishAttrs { beta?: number }

/** Registers the op on `backends` and returns it: swish([x], { beta }) → Tensor of x's shape. */
export function registerSwish(backends?: Backend[]): Promise<(inputs: Tensor[], attrs?: SwishAttrs) => Tensor> {
  return registerOp<SwishAttrs>({
    name: 'swish',
    kernels: [
      {
        name: 'swish_forward', code: forwardWgsl, file: 'docs/examples/swish_forward.wgsl', entry: 'swish_forward', inputs: 1, outputs: 1,
        params: (a: SwishArgs) => [a.n, f32Bits(a.beta)],
        grid: (a: SwishArgs) => Math.ceil(a.n / 256),
        cpu: ([x], [y], a: SwishArgs) => { for (let i = 0; i < a.n; i++) y![i] = x![i]! * sigmoid(a.beta * x![i]!); },
      },
      {
        name: 'swish_backward', code: backwardWgsl, file: 'docs/examples/swish_backward.wgsl', entry: 'swish_backward', inputs: 2, outputs: 1,
        params: (a: SwishArgs) => [a.n, f32Bits(a.beta)],
        grid: (a: SwishArgs) => Math.ceil(a.n / 256),
        cpu: ([x, dy], [dx], a: SwishArgs) => {
          for (let i = 0; i < a.n; i++) {
            const s = sigmoid(a.beta * x![i]!);
            dx![i] = dy![i]! * (s + a.beta * x![i]! * s * (1 - s));
          }
        },
      },
    ],
    validate: ([x], attrs) => {
      if (x?.dtype !== 'f32') throw new TypeError(`swish: x must be an f32 tensor, got ${x?.describe()}`);
      if (attrs.beta !== undefined && !Number.isFinite(attrs.beta)) throw new TypeError(`swish: beta must be finite, got ${attrs.beta}`);
    },
    outputShape: ([x]) => x!.shape,
    forward: ([x], { beta = 1 }, k) => {
      const y = k.empty(x!.shape, x!);
      k.run('swish_forward', [x!], [y], { n: x!.size, beta });
      return { out: y };
    },
    backward: (dy, [x], _saved, { beta = 1 }, k) => {
      const dx = k.empty(x!.shape, x!);
      k.run('swish_backward', [x!, dy], [dx], { n: x!.size, beta });
      return [dx];
    },
    cost: ([x]) => ({ flops: 4 * x!.size, bytes: 8 * x!.size }),
  }, backends);
}

let swish: ((inputs: Tensor[], attrs?: SwishAttrs) => Tensor) | null = null;

/** For `c2al gradcheck --module`: registers the op on the CLI's backend. */
export async function setup(backend: Backend): Promise<void> {
  swish ??= await registerSwish([backend]);
}

/** Gradcheck cases the CLI runs: a name, the function, its inputs, options. */
export const cases = [
  { name: 'swish β=1 [4, 8]', fn: (xs: Tensor[]) => swish!([xs[0]!]), inputs: [{ shape: [4, 8] }] },
  { name: 'swish β=1.7 [3, 5, 7] (directional)', fn: (xs: Tensor[]) => swish!([xs[0]!], { beta: 1.7 }), inputs: [{ shape: [3, 5, 7] }], options: { directions: 6 } },
];
