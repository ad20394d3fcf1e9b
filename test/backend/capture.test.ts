import { describe, expect, test, vi } from 'vitest';
import * as c from '../../src/index.js';
import { CaptureError, CpuBackend, LookupFeed, TensorError, type Tensor } from '../../src/index.js';
import { predict, train } from '../../src/train/loop.js';
import { gpu, backends } from '../support/gpu.js';
import { randomArray, batchIds } from '../support/util.js';

const bits = (x: ArrayLike<number>): number[] => Array.from(new Uint32Array(Float32Array.from(x).buffer));

async function weights(params: readonly (readonly [string, Tensor])[]): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, p] of params) out[name] = bits(await p.read());
  return out;
}

const fields = [{ name: 'user', vocab: 40 }, { name: 'item', vocab: 25 }, { name: 'category', vocab: 6 }];

// Batches with many repeated rows, so padded and unpadded backward plans differ in length.
const skewedIds = (rows: number, seed: number): number[] => batchIds(fields, rows, seed);

/**
 * An embedding + MLP click model trained with `make`'s optimizer: `batches` steps, each on its own
 * batch (ids, dense features, labels), op by op or captured after the first step.
 */
async function fit(backend: c.WebGpuBackend, make: (params: c.NamedParams) => c.Optimizer, captured: boolean, steps = 7) {
  const B = 32, dim = 4;
  const emb = new c.Embeddings(fields, dim, { backend, seed: 3 });
  const mlp = new c.MLP([fields.length * dim + 2, 16, 1], { backend, seed: 4, layerNorm: true });
  const params = [...emb.namedParameters().map(([n, p]) => [`emb.${n}`, p] as const), ...mlp.namedParameters().map(([n, p]) => [`mlp.${n}`, p] as const)];
  const opt = make(params);
  const dense = c.zeros([B, 2], { backend }), y = c.zeros([B, 1], { backend });
  const feed = emb.feed(B);
  const batch = (s: number) => ({
    ids: skewedIds(B, 10 + s), dense: randomArray(B * 2, 50 + s), y: randomArray(B, 90 + s, 0, 1).map((u) => (u < 0.3 ? 1 : 0)),
  });
  const stepFn = (ids: number[] | c.EmbeddingsFeed) => () => {
    c.scope(() => {
      const x = c.concat([c.reshape(emb.forward(ids), [B, fields.length * dim]), dense], 1);
      c.mulScalar(c.bceWithLogits(mlp.forward(x), y), 1 / B).backward();
    });
    opt.step();
    opt.zeroGrad();
  };
  let step: c.CapturedStep | null = null;
  const memory: c.MemoryStats[] = [];
  for (let s = 0; s < steps; s++) {
    const b = batch(s);
    backend.write(dense.storage, Float32Array.from(b.dense));
    backend.write(y.storage, Float32Array.from(b.y));
    // A schedule changes lr between steps; a replay must read it.
    opt.lr = 0.02 / (1 + s);
    if (!captured) {
      stepFn(b.ids)();
      continue;
    }
    feed.set(b.ids);
    if (s === 0) stepFn(feed)();
    else if (s === 1) step = backend.capture(stepFn(feed)).step;
    else step!.replay();
    await backend.done();
    if (s > 1) memory.push(backend.memory());
  }
  const result = { weights: await weights(params), meta: opt.stateMetadata(), step, memory };
  return {
    ...result,
    dispose() {
      step?.dispose();
      feed.dispose();
      emb.dispose();
      mlp.dispose();
      opt.dispose();
      dense.dispose();
      y.dispose();
    },
  };
}

describe.skipIf(!gpu)('captured steps', () => {
  const optimizers: [string, (p: c.NamedParams) => c.Optimizer][] = [
    ['Adam (lazy row-sparse on the tables)', (p) => new c.Adam(p, { lr: 0.02 })],
    ['AdamW', (p) => new c.AdamW(p, { lr: 0.02 })],
    ['SGD with momentum', (p) => new c.SGD(p, { lr: 0.02, momentum: 0.9 })],
  ];
  for (const [name, make] of optimizers) {
    test(`${name}: replays give the weights and optimizer state of the op-by-op loop bit for bit, with new batches and a changing lr`, async () => {
      const eager = await fit(gpu!, make, false);
      const replayed = await fit(gpu!, make, true);
      expect(replayed.step!.replays).toBe(5);
      expect(replayed.step!.dynamicDispatches).toBeGreaterThan(0);
      expect(replayed.meta).toEqual(eager.meta);
      for (const key of Object.keys(eager.weights)) expect(replayed.weights[key], key).toEqual(eager.weights[key]);
      // Live memory is the same after every replay.
      expect(new Set(replayed.memory.map((m) => `${m.bytesInUse}/${m.liveStorages}`)).size).toBe(1);
      eager.dispose();
      replayed.dispose();
    });
  }

  test('a replay is one submit of the recorded dispatches, and dispose gives the step\'s buffers back', async () => {
    const x = c.tensor(randomArray(64 * 16, 1), [64, 16], { backend: gpu! });
    const lin = new c.Linear(16, 8, { backend: gpu!, seed: 2 });
    const before = gpu!.memory();
    const { step, result } = gpu!.capture(() => c.scope(() => c.keep(c.sum(c.relu(lin.forward(x))))));
    const first = await result.read();
    const submits = gpu!.submits, dispatches = gpu!.dispatches;
    step.replay();
    expect(gpu!.submits).toBe(submits + 1);
    expect(gpu!.dispatches).toBe(dispatches + step.dispatches);
    expect(Array.from(await result.read())).toEqual(Array.from(first));
    // New input data, same buffers: the output follows.
    gpu!.write(x.storage, Float32Array.from(randomArray(64 * 16, 2)));
    step.replay();
    const expected = c.scope(() => c.sum(c.relu(lin.forward(x))));
    expect(Array.from(await result.read())).toEqual(Array.from(await expected.read()));
    expected.dispose();
    expect(step.bytes).toBeGreaterThan(0);
    result.dispose();
    step.dispose();
    expect(gpu!.memory().bytesInUse).toBe(before.bytesInUse);
    expect(gpu!.memory().liveStorages).toBe(before.liveStorages);
    lin.dispose();
    x.dispose();
  });

  test('host data cannot enter a capture: uploads, writes, reads and done() are refused, and a failed capture leaks nothing', async () => {
    const x = c.tensor([1, 2, 3, 4], [4], { backend: gpu! });
    const before = gpu!.memory();
    expect(() => gpu!.capture(() => c.scope(() => c.add(x, c.tensor([1, 1, 1, 1], [4], { backend: gpu! }))))).toThrow(/upload of 4 values .* while capturing a step: host data enters a captured step only through tensors made before the capture/);
    expect(() => gpu!.capture(() => gpu!.write(x.storage, new Float32Array(4)))).toThrow(CaptureError);
    // done() and read() are async: they refuse through their promises.
    for (const wait of [() => gpu!.done(), () => x.read()] as (() => Promise<unknown>)[]) {
      const { step, result } = gpu!.capture(wait);
      await expect(result).rejects.toThrow(/while capturing a step: a captured step cannot wait for the device/);
      step.dispose();
    }
    expect(() => gpu!.capture(() => gpu!.capture(() => 0))).toThrow(/do not nest/);
    expect(gpu!.capturing).toBe(false);
    expect(gpu!.memory().bytesInUse).toBe(before.bytesInUse);
    expect(gpu!.memory().liveStorages).toBe(before.liveStorages);
    expect(Array.from(await x.read())).toEqual([1, 2, 3, 4]);
    x.dispose();
  });

  test('dropout draws its masks on the host, so capturing it is refused with the reason', () => {
    const mlp = new c.MLP([4, 4, 1], { backend: gpu!, dropout: 0.5, seed: 1 });
    const x = c.zeros([2, 4], { backend: gpu! });
    expect(() => gpu!.capture(() => c.scope(() => { mlp.forward(x); }))).toThrow(/upload of 8 values \(tensor\) while capturing/);
    mlp.dispose();
    x.dispose();
  });

  test('a replay refuses to run once a tensor it binds was disposed, or once the step was disposed', () => {
    const x = c.zeros([8], { backend: gpu! });
    const { step, result } = gpu!.capture(() => c.keep(c.mulScalar(x, 2)));
    x.dispose();
    expect(() => step.replay()).toThrow(/a tensor the step reads or writes .* was disposed after the capture; capture the step again/);
    step.dispose();
    expect(() => step.replay()).toThrow(/was disposed/);
    result.dispose();
  });

  test('a profiler and a capture exclude each other', () => {
    if (!gpu!.ctx.features.includes('timestamp-query')) return;
    const profiler = new c.GpuProfiler(gpu!.ctx.device);
    gpu!.setProfiler(profiler);
    expect(() => gpu!.capture(() => 0)).toThrow(/profiler is attached/);
    gpu!.setProfiler(null);
    expect(() => gpu!.capture(() => gpu!.setProfiler(profiler))).toThrow(/capture is recording/);
  });

  test('capture with validation between replays: early stopping, the restored best weights and the history are the op-by-op run\'s bit for bit', async () => {
    const all = c.syntheticClicks({ world: 'planted', rows: 3000, seed: 6 });
    const split = c.splitRows(all.rows, 2);
    const [trainRows, valid] = [c.subset(all, split.train), c.subset(all, split.valid)];
    // A real validation: the primary head's NE on held-out rows, in eval mode, between training steps.
    const validate = async (m: c.DhenModel) => c.metrics(await predict(m, valid), valid.labels).ne;
    const opts = { batch: 256, dim: 4, k: 2, seed: 3, lr: 0.02, maxEpochs: 5, patience: 1, evalEvery: 3, validate,
      aux: [{ cohort: 2, lambda: 1 }, { cohort: 4, lambda: 1 }], reweight: { cohorts: [2], factor: 2 } };
    const eager = await train(trainRows, gpu!, { ...opts, capture: false });
    const replayed = await train(trainRows, gpu!, { ...opts, capture: true });
    expect(replayed.history.validation).toEqual(eager.history.validation);
    expect(replayed.history.best).toEqual(eager.history.best);
    expect(replayed.history.stopped).toBe(eager.history.stopped);
    expect(eager.history.validation.length).toBeGreaterThan(2);
    const [a, b] = [await weights(eager.model.namedParameters()), await weights(replayed.model.namedParameters())];
    for (const key of Object.keys(a)) expect(b[key], key).toEqual(a[key]);
    eager.model.dispose();
    replayed.model.dispose();
  });

  test('train({ capture: true }) gives the weights and losses of the op-by-op loop bit for bit (C2AL heads)', async () => {
    const data = c.syntheticClicks({ rows: 1500, seed: 4 });
    const opts = { steps: 9, batch: 128, seed: 2, logEvery: 2, aux: [{ cohort: 1, lambda: 0.5 }, { cohort: 3, lambda: 0.25 }] };
    const eager = await train(data, gpu!, { ...opts, capture: false });
    const live = gpu!.memory().liveStorages;
    const replayed = await train(data, gpu!, { ...opts, capture: true });
    expect(replayed.history.loss).toEqual(eager.history.loss);
    expect(replayed.history.steps).toEqual(eager.history.steps);
    expect(replayed.history.attention).toEqual(eager.history.attention);
    const [a, b] = [await weights(eager.model.namedParameters()), await weights(replayed.model.namedParameters())];
    for (const key of Object.keys(a)) expect(b[key], key).toEqual(a[key]);
    // The capture, its feed and its buffers are gone; only the returned model's tensors remain.
    expect(gpu!.memory().liveStorages).toBe(live + replayed.model.namedParameters().length);
    eager.model.dispose();
    replayed.model.dispose();
  });

  test('train refuses capture with the finite guard, and on the CPU backend', async () => {
    const data = c.syntheticClicks({ rows: 200, seed: 4 });
    await expect(train(data, gpu!, { steps: 2, batch: 32, capture: true, finiteGuard: true })).rejects.toThrow(/capture and finiteGuard do not go together/);
    await expect(train(data, new CpuBackend('f32'), { steps: 2, batch: 32, capture: true })).rejects.toThrow(/capture needs the webgpu backend \(this is cpu\)/);
    await expect(train(data, gpu!, { steps: 2, batch: 32, capture: 'yes' as never })).rejects.toThrow(/capture must be true, false or 'auto', got yes/);
  });

  test("capture 'auto' (the default) captures on WebGPU, and trains uncaptured where a captured step cannot run", async () => {
    const data = c.syntheticClicks({ rows: 400, seed: 5 });
    const spy = vi.spyOn(gpu!, 'capture');
    try {
      for (const o of [{}, { capture: 'auto' as const }]) (await train(data, gpu!, { steps: 3, batch: 32, ...o })).model.dispose();
      expect(spy).toHaveBeenCalledTimes(2);
      for (const o of [{ finiteGuard: true }, { dropout: 0.1 }, { capture: false }]) (await train(data, gpu!, { steps: 3, batch: 32, ...o })).model.dispose();
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
    (await train(data, new CpuBackend('f32'), { steps: 2, batch: 32 })).model.dispose();
  });
});

for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`LookupFeed on ${name}`, () => {
    test('a fed lookup gives the host lookup\'s output and gradient; its padding rows lie past the table', async () => {
      const B = 48, dim = 3, rows = 71;
      const ids = skewedIds(B, 5);
      const upstream = c.tensor(randomArray(B * 3 * dim, 6), [B, 3, dim], { backend: backend! });
      const table = c.tensor(randomArray(rows * dim, 7), [rows, dim], { backend: backend!, requiresGrad: true });
      table.sparseGrad = true;
      const feed = new LookupFeed(backend!, fields, rows, B);
      feed.set(ids);
      const run = async (input: number[] | LookupFeed) => {
        const out = c.embeddingLookup(table, input, fields);
        const values = await out.read();
        c.scope(() => c.sum(c.mul(out, upstream)).backward());
        out.dispose();
        const g = table.rowGrads[0]!;
        const result = { values: Array.from(values), rows: Array.from(await g.rows.read()), grad: Array.from(await g.values.read()), dense: Array.from(await c.scope(() => c.densifyRows(g)).read()) };
        table.zeroGrad();
        return result;
      };
      const host = await run(ids), fed = await run(feed);
      expect(fed.values).toEqual(host.values);
      expect(fed.dense).toEqual(host.dense);
      const u = host.rows.length;
      expect(u).toBeLessThan(B * 3);
      expect(fed.rows.slice(0, u)).toEqual(host.rows);
      expect(fed.rows.slice(u)).toEqual(new Array(B * 3 - u).fill(rows));
      expect(fed.grad.slice(0, u * dim)).toEqual(host.grad);
      expect(fed.grad.slice(u * dim).every((v) => v === 0)).toBe(true);
      feed.dispose();
      table.dispose();
      upstream.dispose();
    });

    test('prepare() plans on the host only; set() of a prepared batch writes what set(ids) writes', async () => {
      const B = 40, rows = 71, ids = skewedIds(B, 8);
      const direct = new LookupFeed(backend!, fields, rows, B), ahead = new LookupFeed(backend!, fields, rows, B);
      const contents = async (f: LookupFeed) => Promise.all([f.rows, f.seg, f.entryBag, f.uniqueRows].map(async (t) => Array.from(await t.read())));
      const empty = await contents(ahead);
      direct.set(ids);
      const batch = ahead.prepare(ids);
      expect(ahead.plan).toBeNull();
      expect(await contents(ahead)).toEqual(empty);
      ahead.set(batch);
      expect(await contents(ahead)).toEqual(await contents(direct));
      expect(() => ahead.prepare([...ids.slice(0, 4), 25, ...ids.slice(5)])).toThrow(/table 'item' \(field 1\): id 25 at row 1 is outside/);
      expect(ahead.plan).toBe(batch.plan);
      expect(() => direct.set(batch)).toThrow(/prepared for another feed/);
      ahead.dispose();
      expect(() => ahead.prepare(ids)).toThrow(/disposed/);
      expect(() => ahead.set(batch)).toThrow(/disposed/);
      direct.dispose();
    });

    test('an EmbeddingsFeed of several table groups takes prepared batches too', async () => {
      const B = 16, dim = 2;
      const emb = new c.Embeddings(fields, dim, { backend: backend!, seed: 5, maxBindingBytes: 50 * dim * 4 });
      expect(emb.groups.length).toBeGreaterThan(1);
      const feed = emb.feed(B), other = emb.feed(B), ids = skewedIds(B, 9);
      const hostOut = emb.forward(ids);
      feed.set(feed.prepare(ids));
      const fedOut = emb.forward(feed);
      expect(Array.from(await fedOut.read())).toEqual(Array.from(await hostOut.read()));
      hostOut.dispose();
      fedOut.dispose();
      expect(() => feed.set(other.prepare(ids))).toThrow(/EmbeddingsFeed.set: the batch was prepared for another feed/);
      expect(() => feed.prepare(ids.slice(1))).toThrow(/47 ids for a feed of batch 16 × 3 fields/);
      for (const x of [feed, other, emb]) x.dispose();
    });

    test('feed errors name the table, the id and the row, and a feed fits only its own table', () => {
      const table = c.zeros([71, 2], { backend: backend! });
      const feed = new LookupFeed(backend!, fields, 71, 2);
      expect(() => c.embeddingLookup(table, feed, fields)).toThrow(/holds no batch yet/);
      expect(() => feed.set([1, 2, 3])).toThrow(/3 ids for a feed of batch 2 × 3 fields/);
      expect(() => feed.set([1, 2, 3, 4, 25, 5])).toThrow(TensorError);
      expect(() => feed.set([1, 2, 3, 4, 25, 5])).toThrow(/table 'item' \(field 1\): id 25 at row 1 is outside its vocabulary of 25 rows/);
      feed.set([1, 2, 3, 4, 5, 5]);
      const other = c.zeros([72, 2], { backend: backend! });
      expect(() => c.embeddingLookup(other, feed, fields)).toThrow(/made for other fields, another table size \(71 rows\)/);
      feed.dispose();
      expect(() => feed.set([1, 2, 3, 4, 5, 5])).toThrow(/disposed/);
      other.dispose();
      table.dispose();
    });
  });
}
