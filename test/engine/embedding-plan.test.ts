// The host-side lookup plans every step builds: the order sortedPlan gives the backward's entries (which fixes
// its summation order) is (row, position) whichever sort builds it, and lookupPlan refuses an id outside its
// field's vocabulary whatever the position.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { TensorError } from '../../src/index.js';
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
  // Row spaces small (counting sort) and huge (key sort) against the batch; bags of 0 to 3 entries.
  test.prop([fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 60 }), fc.constantFrom(5, 300, 1e6, 2 ** 31), fc.nat()])(
    'gives the (row, position) order, its rows and their segments, with each entry\'s bag', (sizes, rowSpace, seed) => {
      const offsets = Uint32Array.from([0, ...sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0))]);
      let x = seed;
      const rows = Uint32Array.from({ length: offsets.at(-1)! }, () => { x = (x * 1103515245 + 12345) % 2 ** 31; return x % rowSpace; });
      const plan: BagPlan = { rows, offsets, bags: sizes.length, mean: false };
      const got = sortedPlan(plan), want = naive(plan);
      expect(Array.from(got.uniqueRows)).toEqual(want.uniqueRows);
      expect(Array.from(got.seg)).toEqual(want.seg);
      expect(Array.from(got.entryBag)).toEqual(want.entryBag);
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
