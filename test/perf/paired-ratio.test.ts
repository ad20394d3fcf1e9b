/** The paired speed ratio of the train bench (captured / op by op), against a reference computation on fixed numbers. */
import { describe, expect, test } from 'vitest';
import { pairedRatio } from '../../src/perf/paired-ratio.js';

describe('pairedRatio', () => {
  test('matches the log-scale paired t-interval computed by hand (Python, t(0.975, 4) = 2.7764451051977987)', () => {
    const r = pairedRatio([100, 110, 95, 120, 105], [98, 100, 97, 110, 100]);
    expect(r.n).toBe(5);
    expect(r.ratio).toBeCloseTo(1.0471750064219751, 12);
    expect(r.ci[0]).toBeCloseTo(0.9864675859642754, 9);
    expect(r.ci[1]).toBeCloseTo(1.1116183741637669, 9);
    expect(r.resolution).toBeCloseTo(0.06154020803264215, 9);
  });

  test('is the geometric mean: a pair at 2× and one at 0.5× cancel, and swapping the arms inverts the ratio and the interval', () => {
    expect(pairedRatio([2, 1], [1, 2]).ratio).toBeCloseTo(1, 15);
    const a = [10, 12, 11, 9], b = [9, 10, 10, 9.5];
    const ab = pairedRatio(a, b), ba = pairedRatio(b, a);
    expect(ba.ratio).toBeCloseTo(1 / ab.ratio, 14);
    expect(ba.ci[0]).toBeCloseTo(1 / ab.ci[1], 12);
    expect(ba.ci[1]).toBeCloseTo(1 / ab.ci[0], 12);
    expect(ba.resolution).toBeCloseTo(ab.resolution, 14);
  });

  test('one pair has a ratio and no interval', () => {
    const r = pairedRatio([3], [2]);
    expect(r.ratio).toBeCloseTo(1.5, 15);
    expect(r.ci.every(Number.isNaN) && Number.isNaN(r.resolution)).toBe(true);
  });

  test('refuses unequal lengths, no pairs, and times that are not finite and positive', () => {
    expect(() => pairedRatio([1, 2], [1])).toThrow(/2 baseline times for 1 candidate/);
    expect(() => pairedRatio([], [])).toThrow(/no pairs/);
    expect(() => pairedRatio([1, 0], [1, 1])).toThrow(/pair 1 has times 0 and 1/);
    expect(() => pairedRatio([1, 1], [1, NaN])).toThrow(/pair 1/);
    expect(() => pairedRatio([Infinity], [1])).toThrow(/pair 0/);
  });
});
