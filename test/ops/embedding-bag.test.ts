import { describe, expect, test } from 'vitest';
import * as c from '../../src/index.js';
import { CpuBackend, TensorError } from '../../src/index.js';
import { gpu, backends } from '../support/gpu.js';
import { expectClose, randomArray, batchIds, kernelsRun } from '../support/util.js';

const fields = [{ name: 'user', vocab: 50 }, { name: 'item', vocab: 30 }, { name: 'category', vocab: 5 }];

const skewedIds = (rows: number, seed: number): number[] => batchIds(fields, rows, seed);

for (const [name, backend] of backends) {
  describe.skipIf(!backend)(`embeddings on ${name}`, () => {
    const opts = { backend: backend! };
    const table = () => c.tensor(randomArray(85 * 8, 3), [85, 8], { ...opts, requiresGrad: true, name: 'tables' });

    test('lookup gathers the right rows of the stacked tables', async () => {
      const t = table();
      const data = await t.toArray();
      const out = c.embeddingLookup(t, [3, 29, 4], fields);
      expect(out.shape).toEqual([1, 3, 8]);
      const rows = [3, 50 + 29, 80 + 4];
      expect(await out.toArray()).toEqual(rows.flatMap((r) => data.slice(r * 8, r * 8 + 8)));
      out.dispose();
      t.dispose();
    });

    test('the backward is bit-identical across runs, and the row-sparse gradient equals the dense one', async () => {
      const ids = skewedIds(512, 11);
      const weights = c.tensor(randomArray(512 * 3 * 8, 12), [512, 3, 8], opts);
      const run = async (sparse: boolean) => {
        const t = table();
        t.sparseGrad = sparse;
        c.scope(() => c.sum(c.mul(c.embeddingLookup(t, ids, fields), weights)).backward());
        const result = sparse
          ? { rows: await t.rowGrads[0]!.rows.toArray(), values: await t.rowGrads[0]!.values.toArray() }
          : { dense: await t.grad!.toArray() };
        t.dispose();
        return result;
      };
      const first = await run(false);
      const second = await run(false);
      expect(new Float64Array(second.dense!)).toEqual(new Float64Array(first.dense!)); // bit-identical
      const sparse = await run(true);
      expect(sparse.rows).toEqual([...new Set(ids.map((id, i) => id + [0, 50, 80][i % 3]!))].sort((a, b) => a - b));
      const fromSparse = new Array<number>(85 * 8).fill(0);
      sparse.rows!.forEach((r, u) => { for (let d = 0; d < 8; d++) fromSparse[r * 8 + d] = sparse.values![u * 8 + d]!; });
      expect(fromSparse).toEqual(first.dense);
      weights.dispose();
    });

    test('zeroGrad and dispose free row-sparse gradients', () => {
      const t = table();
      t.sparseGrad = true;
      const before = c.liveTensors().length;
      c.scope(() => c.sum(c.embeddingBag(t, [1, 2, 2], [0, 1, 3])).backward());
      c.scope(() => c.sum(c.embeddingBag(t, [4], [0, 1])).backward());
      expect(t.rowGrads.length).toBe(2);
      expect(c.liveTensors().length).toBe(before + 4);
      t.zeroGrad();
      expect(c.liveTensors().length).toBe(before);
      t.dispose();
    });

    test('ids outside a vocabulary are refused before dispatch, naming the table, the id and the row', async () => {
      const t = table();
      const live = c.liveTensors().length, bytes = backend!.memory().bytesInUse;
      expect(() => c.embeddingLookup(t, [0, 0, 0, 1, 30, 2], fields)).toThrow(/table 'item' \(field 1\): id 30 at row 1 is outside its vocabulary of 30 rows/);
      expect(() => c.embeddingLookup(t, [0, -1, 0], fields)).toThrow(/id -1 at row 0/);
      expect(() => c.embeddingLookup(t, [0, 1.5, 0], fields)).toThrow(/id 1.5 at row 0/);
      expect(() => c.embeddingLookup(t, [0, 1], fields)).toThrow(/2 ids do not form rows of 3 fields/);
      expect(() => c.embeddingLookup(t, [0, 1, 0], fields.slice(0, 2).concat([{ name: 'x', vocab: 4 }]))).toThrow(/84 \(user 50, item 30, x 4\)/);
      expect(() => c.embeddingBag(t, [1, 99], [0, 1, 2], { name: 'genres' })).toThrow(/table 'genres': id 99 at row 1 is outside its vocabulary of 85 rows/);
      expect(() => c.embeddingBag(t, [1, 2], [0, 2, 1])).toThrow(TensorError);
      expect(() => c.embeddingBag(t, [1, 2], [0, 3])).toThrow(/end at 2/);
      expect(c.liveTensors().length).toBe(live);
      expect(backend!.memory().bytesInUse).toBe(bytes);
      t.dispose();
    });
  });
}

describe('embedding modules', () => {
  const backend = gpu ?? new CpuBackend('f64');
  const fields = [{ name: 'a', vocab: 6 }, { name: 'b', vocab: 5 }, { name: 'c', vocab: 7 }, { name: 'd', vocab: 2 }];

  test('fields are grouped into tables that each fit the binding limit, and lookups match one stacked table', async () => {
    expect(c.groupFields(fields, 12).map((g) => g.map((f) => f.name).join(''))).toEqual(['ab', 'cd']);
    expect(() => c.groupFields(fields, 6)).toThrow(/table 'c' \(7 rows\) exceeds the 6 rows/);
    const split = new c.Embeddings(fields, 3, { backend, seed: 1, maxBindingBytes: 12 * 3 * 4 });
    expect(split.namedParameters().map(([n, t]) => `${n} ${t.shape}`)).toEqual(['tables.0 11,3', 'tables.1 9,3']);
    const whole = c.tensor(Array.from(await split.tables[0]!.read()).concat(Array.from(await split.tables[1]!.read())), [20, 3], { backend });
    const ids = [5, 4, 6, 1, 0, 0, 0, 0, 2, 3, 3, 1];
    const got = await c.noGrad(() => split.forward(ids)).toArray();
    const want = await c.noGrad(() => c.embeddingLookup(whole, ids, fields)).toArray();
    expect(got).toEqual(want);
    c.scope(() => c.sum(split.forward(ids)).backward());
    expect(split.tables.map((t) => t.rowGrads.length)).toEqual([1, 1]);
    split.dispose();
    whole.dispose();
  });

  test('EmbeddingBag pools multi-hot bags by mean', async () => {
    const bag = new c.EmbeddingBag('genres', 4, 2, { backend, seed: 2 });
    const t = await bag.table.toArray();
    const out = await c.noGrad(() => bag.forward([0, 3, 1], [0, 2, 3])).toArray();
    expectClose(out, [(t[0]! + t[6]!) / 2, (t[1]! + t[7]!) / 2, t[2]!, t[3]!], 1e-6, 1e-6, 'bags');
    expect(() => bag.forward([9], [0, 1])).toThrow(/table 'genres': id 9 at row 0/);
    bag.dispose();
  });
});

describe.skipIf(!gpu)('the four-wide gather', () => {
  test('dims that are multiples of 4 take embedding_bag_vec4, others embedding_bag, with the same bits per output', async () => {
    const g = gpu!;
    for (const dim of [8, 6]) {
      const t = c.tensor(randomArray(85 * dim, 7), [85, dim], { backend: g });
      const ids = skewedIds(64, 8);
      const names = kernelsRun(g, () => c.noGrad(() => c.scope(() => { c.embeddingLookup(t, ids, fields); })));
      expect(names).toContain(dim % 4 === 0 ? 'embedding_bag_vec4' : 'embedding_bag');
      const out = c.noGrad(() => c.embeddingLookup(t, ids, fields));
      const got = Array.from(await out.read());
      const rowIds = [...Uint32Array.from(ids.map((id, i) => id + [0, 50, 80][i % 3]!))];
      const table = await t.toArray();
      expect(got).toEqual(rowIds.flatMap((r) => table.slice(r * dim, r * dim + dim)));
      [t, out].forEach((x) => x.dispose());
    }
    // Pooled bags (sums in entry order), the two kernels side by side on the same buffers.
    const [rows, dim, bags] = [40, 12, 30];
    const table = g.upload(Float32Array.from(randomArray(rows * dim, 9)), 'f32');
    const offsets = [0];
    for (let b = 0; b < bags; b++) offsets.push(offsets[b]! + (b % 4));
    const entries = g.upload(Uint32Array.from({ length: offsets[bags]! }, (_, i) => (i * 17) % rows), 'u32');
    const offs = g.upload(Uint32Array.from(offsets), 'u32');
    const run = async (kernel: 'embedding_bag' | 'embedding_bag_vec4', mean: boolean): Promise<number[]> => {
      const out = g.alloc(bags * dim, 'f32');
      g.run(kernel, [table, entries, offs], [out], { bags, dim, mean });
      const values = Array.from(await g.read(out));
      g.release(out);
      return values;
    };
    for (const mean of [false, true]) expect(await run('embedding_bag_vec4', mean)).toEqual(await run('embedding_bag', mean));
    [table, entries, offs].forEach((s) => g.release(s));
  });
});
