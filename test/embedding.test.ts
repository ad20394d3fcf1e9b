import { describe, expect, test } from 'vitest';
import * as c from '../src/index.js';
import { CpuBackend, TensorError, type Backend } from '../src/index.js';
import { gpu } from './gpu.js';
import { randomArray } from './util.js';

const backends: [string, Backend | null][] = [['cpu', new CpuBackend('f64')], ['webgpu', gpu]];
const fields = [{ name: 'user', vocab: 50 }, { name: 'item', vocab: 30 }, { name: 'category', vocab: 5 }];

/** A batch with many repeats per row, so summation order would show in the bits if it were not fixed. */
function batchIds(rows: number, seed: number): number[] {
  const r = randomArray(rows * fields.length, seed, 0, 1);
  return r.map((u, i) => Math.floor(u ** 3 * fields[i % fields.length]!.vocab));
}

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
      const ids = batchIds(512, 11);
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
