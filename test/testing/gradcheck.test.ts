import { describe, expect, test } from 'vitest';
import { CpuBackend, gradcheckCases, gradcheckOps, ops, sigmoid, type OpName } from '../../src/index.js';
import { gpu } from '../support/gpu.js';

const differentiable = (Object.keys(ops) as OpName[]).filter((k) => ops[k].backward !== null);

test('every op in the table has a gradcheck entry, and every differentiable op has cases', () => {
  expect(Object.keys(gradcheckCases).sort()).toEqual(Object.keys(ops).sort());
  for (const op of differentiable) expect(gradcheckCases[op]?.length, op).toBeGreaterThan(0);
  for (const op of Object.keys(ops) as OpName[]) if (ops[op].backward === null) expect(gradcheckCases[op], op).toBeNull();
});

test('float64 reference: analytic gradients match central finite differences for every op', async () => {
  const results = await gradcheckOps(new CpuBackend('f64'));
  expect(results.map((r) => r.op).sort()).toEqual([...differentiable].sort());
  for (const r of results) expect(r.pass, `${r.op}: ${r.failure}`).toBe(true);
});

test('float32 CPU backend passes with float32 tolerances', async () => {
  const results = await gradcheckOps(new CpuBackend('f32'));
  for (const r of results) expect(r.pass, `${r.op}: ${r.failure}`).toBe(true);
});

describe.skipIf(!gpu)('webgpu', () => {
  test('analytic gradients on the GPU match the float64 reference for every op', async () => {
    const results = await gradcheckOps(gpu!);
    for (const r of results) {
      expect(r.pass, `${r.op}: ${r.failure}`).toBe(true);
      expect(r.cases).toBeGreaterThan(0);
    }
  });
});

test('a wrong backward rule is caught', async () => {
  const saved = ops.sigmoid.backward;
  // Drop the y·(1 − y) factor: the gradient becomes plain d.
  (ops.sigmoid as { backward: unknown }).backward = (d: unknown) => [d];
  try {
    const [r] = await gradcheckOps(new CpuBackend('f64'), { ops: ['sigmoid'] });
    expect(r!.pass).toBe(false);
    expect(r!.failure).toMatch(/finite difference/);
  } finally {
    (ops.sigmoid as { backward: unknown }).backward = saved;
  }
  expect(sigmoid).toBeTypeOf('function');
});

test('softmax (a composed function, not a table op): finite-difference gradcheck on the reference and the GPU', async () => {
  const { gradcheck, softmax, mulScalar } = await import('../../src/index.js');
  const f = (xs: import('../../src/index.js').Tensor[]) => softmax(mulScalar(xs[0]!, 3), 1);
  const onRef = await gradcheck(f, [{ shape: [3, 5] }], { backend: new CpuBackend('f64') });
  expect(onRef.pass, onRef.failure).toBe(true);
  if (gpu) {
    const onGpu = await gradcheck(f, [{ shape: [3, 5] }], { backend: gpu });
    expect(onGpu.pass, onGpu.failure).toBe(true);
  }
});
