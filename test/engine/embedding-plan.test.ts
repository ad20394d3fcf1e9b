// The host-side lookup plans every step builds: the order sortedPlan gives the backward's entries (which fixes
// its summation order) is (row, position) whichever sort builds it, and lookupPlan refuses an id outside its
// field's vocabulary whatever the position.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { TensorError, mulberry32 } from '../../src/index.js';
import { lookupPlan, sortedPlan, type BagPlan } from '../../src/embedding-plan.js';

/** The specification: entries sorted by (row, position), grouped by row. */
function naive(plan: BagPlan) {
  const bagOf = (e: number) => { let b = 0; while (plan.offsets[b + 1]! <= e) b++; return b; };
  const order = Array.from(plan.rows, (_, e) => e).sort((a, b) => plan.rows[a]! - plan.rows[b]! || a - b);
  const unique: number[] = [], seg: number[] = [];
  order.forEach((e, i) => { if (unique.at(-1) !== plan.rows[e]) { unique.push(plan.rows[e]!); seg.push(i); } });
  seg.push(order.length);
  return { uniqueRows: unique, seg, entryBag: order.map(bagOf) };
}

describe('sortedPlan', () => {
  // Row spaces small (one counting pass, a bucket per row) and huge (radix passes) against the batch; with
  // `hot`, half the entries fall on three rows. Bags of 0 to 3 entries.
  test.prop([fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 60, size: 'max' }), fc.constantFrom(5, 300, 1e6, 2 ** 31), fc.boolean(), fc.nat()])(
    'gives the (row, position) order, its rows and their segments, with each entry\'s bag', (sizes, rowSpace, hot, seed) => {
      const offsets = Uint32Array.from([0, ...sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0))]);
      const next = mulberry32(seed);
      const rows = Uint32Array.from({ length: offsets.at(-1)! }, () => Math.floor(next() * (hot && next() < 0.5 ? 3 : rowSpace)));
      const plan: BagPlan = { rows, offsets, bags: sizes.length, mean: false };
      const got = sortedPlan(plan), want = naive(plan);
      expect(Array.from(got.uniqueRows)).toEqual(want.uniqueRows);
      expect(Array.from(got.seg)).toEqual(want.seg);
      expect(Array.from(got.entryBag)).toEqual(want.entryBag);
    });

  test('rows over the whole u32 range (three radix passes) with a hot run of rows keep the (row, position) order', () => {
    const n = 2 ** 21 + 8;
    // 40 entries on rows 0..6 in descending runs; the rest spread over the whole u32 range.
    const rows = Uint32Array.from({ length: n }, (_, e) => (e < 40 ? (39 - e) % 7 : Math.imul(e, 2654435761) >>> 0));
    rows[n - 1] = 2 ** 32 - 1;
    const offsets = Uint32Array.from({ length: n + 1 }, (_, i) => i);
    // One entry per bag: entryBag is the order; strictly ascending (row, position) over n entries makes it a permutation.
    const order = sortedPlan({ rows, offsets, bags: n, mean: false }).entryBag;
    for (let i = 1; i < n; i++) {
      const a = order[i - 1]!, b = order[i]!;
      if (rows[a]! > rows[b]! || (rows[a] === rows[b] && a >= b)) expect.fail(`entries ${a} (row ${rows[a]}) and ${b} (row ${rows[b]}) out of order at ${i}`);
    }
    expect(Array.from(order.subarray(0, 6))).toEqual([4, 11, 18, 25, 32, 39]);
  });
});

describe('lookupPlan', () => {
  const fields = [{ name: 'user', vocab: 4 }, { name: 'item', vocab: 3 }];
  test('stacks the fields\' rows and makes one bag per id', () => {
    const plan = lookupPlan([3, 2, 0, 1], fields, 7);
    expect(Array.from(plan.rows)).toEqual([3, 6, 0, 5]);
    expect(Array.from(plan.offsets)).toEqual([0, 1, 2, 3, 4]);
  });
  test.each([[[0, 3], 'item', 3, 0], [[1, 1, 4, 0], 'user', 4, 1], [[0, 0, 1, -1], 'item', -1, 1], [[0.5, 0], 'user', 0.5, 0], [[NaN, 0], 'user', NaN, 0]])(
    'ids %j: refused naming the table, the id and the row', (ids, table, id, row) => {
      expect(() => lookupPlan(ids, fields, 7)).toThrow(TensorError);
      expect(() => lookupPlan(ids, fields, 7)).toThrow(`table '${table}' (field ${table === 'user' ? 0 : 1}): id ${id} at row ${row} is outside`);
    });
});
