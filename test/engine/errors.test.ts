import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { CpuBackend, DeviceLostError, ShapeError, TensorError, WebGpuBackend } from '../../src/index.js';
import { gpu, backends } from '../support/gpu.js';


for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`bad input is refused before dispatch on ${name}`, () => {
    const opts = { backend: backend! };

    /** Runs `bad`, expects the error, then checks nothing was dispatched, allocated or corrupted. */
    async function refused(inputs: c.Tensor[], bad: () => unknown, error: RegExp, type: new (...a: never[]) => Error = ShapeError): Promise<void> {
      const before = await Promise.all(inputs.map((t) => t.toArray()));
      const live = c.liveTensors().length;
      const mem = backend!.memory().bytesInUse;
      let thrown: unknown;
      try { bad(); } catch (e) { thrown = e; }
      expect(thrown).toBeInstanceOf(type);
      expect((thrown as Error).message).toMatch(error);
      expect(c.liveTensors().length).toBe(live);
      expect(backend!.memory().bytesInUse).toBe(mem);
      expect(await Promise.all(inputs.map((t) => t.toArray()))).toEqual(before);
    }

    test('shape mismatch in a binary op names both tensors and shapes', async () => {
      const a = c.tensor([[1, 2, 3], [4, 5, 6]], undefined, { ...opts, name: 'a' });
      const b = c.tensor([1, 2], undefined, { ...opts, name: 'b' });
      await refused([a, b], () => c.add(a, b), /add: a tensor 'a' \(#\d+, f32 \[2, 3\]\).*b tensor 'b' \(#\d+, f32 \[2\]\)/);
      a.dispose(); b.dispose();
    });

    test('matmul inner dimensions', async () => {
      const a = c.zeros([2, 3], opts), b = c.zeros([4, 5], opts);
      await refused([a, b], () => c.matmul(a, b), /matmul: inner dimensions differ: a tensor \(#\d+, f32 \[2, 3\]\) has K=3, b tensor \(#\d+, f32 \[4, 5\]\) has K=4/);
      const v = c.zeros([3], opts);
      await refused([a, v], () => c.matmul(a, v), /rank >= 2/);
      a.dispose(); b.dispose(); v.dispose();
    });

    test('wrong dtype names the tensor', async () => {
      const f = c.zeros([3], opts);
      const i = c.tensor([1, 2, 3], [3], { ...opts, dtype: 'i32', name: 'ids' });
      await refused([f, i], () => c.mul(f, i), /mul: b must be f32, got tensor 'ids' \(#\d+, i32 \[3\]\)/, TensorError);
      await refused([i], () => c.exp(i), /exp: x must be f32/, TensorError);
      expect(() => c.tensor([1.5], [1], { ...opts, dtype: 'i32' })).toThrow(/element 0 is 1.5, not a i32 value/);
      expect(() => c.tensor([-1], [1], { ...opts, dtype: 'u32' })).toThrow(/not a u32 value/);
      expect(() => c.tensor([1], [1], { ...opts, dtype: 'i32', requiresGrad: true })).toThrow(/only f32 tensors can require grad/);
      f.dispose(); i.dispose();
    });

    test('use after dispose names the tensor', async () => {
      const a = c.tensor([1, 2], undefined, { ...opts, name: 'gone' });
      const b = c.tensor([1, 2], undefined, opts);
      a.dispose();
      await refused([b], () => c.add(a, b), /add: a: tensor 'gone' \(#\d+, f32 \[2\]\) was used after dispose\(\)/, TensorError);
      await expect(a.read()).rejects.toThrow(/'gone'.*used after dispose/);
      b.dispose();
    });

    test('backward through a disposed intermediate is refused with its name', () => {
      const x = c.tensor([1, 2], undefined, { ...opts, requiresGrad: true });
      const h = c.exp(x).named('hidden');
      const y = c.sum(h);
      h.dispose();
      expect(() => y.backward()).toThrow(/'hidden'.*used after dispose/);
      x.dispose(); y.dispose();
    });

    test('bad axes, permutations, slices, reshapes and values', async () => {
      const x = c.zeros([2, 3], opts);
      await refused([x], () => c.sum(x, 2), /axis 2 is out of range for rank 2/);
      await refused([x], () => c.sum(x, [0, 0]), /repeated axis/);
      await refused([x], () => c.permute(x, [0]), /not a permutation/);
      await refused([x], () => c.slice(x, [1, 0], [2, 3]), /axis 0 range \[1, 3\) is outside \[0, 2\)/);
      await refused([x], () => c.reshape(x, [4, 2]), /cannot view .*\(6 elements\) as \[4, 2\]/);
      await refused([x], () => c.expand(x, [2, 4]), /do not broadcast/);
      const y = c.zeros([3, 3], opts);
      await refused([x, y], () => c.concat([x, y], 1), /does not match/);
      y.dispose();
      await refused([x], () => c.mulScalar(x, NaN), /scalar must be a finite number, got NaN/, TensorError);
      await refused([x], () => c.tensor([1, 2, 3], [2, 2], opts), /3 values do not fill shape \[2, 2\]/);
      await refused([x], () => c.zeros([2, -1], opts), /non-negative integers/);
      x.dispose();
    });

    test('tensors from different backends do not mix', async () => {
      const other = name === 'cpu' ? new CpuBackend('f32') : new CpuBackend('f64');
      const a = c.zeros([2], opts), b = c.zeros([2], { backend: other });
      await refused([a], () => c.add(a, b), /is on .* but .* is on/, TensorError);
      a.dispose(); b.dispose();
    });
  });
}

test('scope refuses async functions and disposes what they created', async () => {
  const backend = new CpuBackend('f64');
  const live = c.liveTensors().length;
  expect(() => c.scope(async () => c.zeros([2], { backend }))).toThrow(/fn returned a Promise/);
  expect(c.liveTensors().length).toBe(live);
});

describe.skipIf(!gpu)('device loss', () => {
  test('a lost device is reported with its reason, and every later call throws DeviceLostError', async () => {
    // Eager: destroyed right after a lazy create(), the device crashed Dawn's teardown at process exit
    // ('std::system_error: Invalid argument', 1 in 8 runs under load; 0 in 10 eager).
    const lost = await WebGpuBackend.create();
    const x = c.tensor([1, 2, 3], undefined, { backend: lost });
    lost.ctx.device.destroy(); // what a driver reset looks like to the page
    await lost.ctx.device.lost;
    expect(lost.ctx.lost?.reason).toBe('destroyed');
    expect(() => c.exp(x)).toThrow(DeviceLostError);
    expect(() => c.zeros([2], { backend: lost })).toThrow(/WebGPU device was lost \(destroyed\)/);
    await expect(x.read()).rejects.toThrow(DeviceLostError);
    x.dispose();
    lost.ctx.destroy();
  });
});
