/** The shared MovieLens-100K copy (Node: reads files; skipped with a printed reason where it is absent). */
import { expect, test } from 'vitest';

test('the shared MovieLens-100K copy loads', async (ctx) => {
  const { existsSync } = await import('node:fs');
  const dir = new URL('../../../../shared/data/movielens-100k', import.meta.url).pathname;
  if (!existsSync(`${dir}/u.data`)) {
    console.warn(`[c2al] skipping: MovieLens-100K not found at ${dir}`);
    ctx.skip();
  }
  const { loadMovieLens } = await import('../../../src/data/movielens.js');
  const d = await loadMovieLens(dir, { cohort: 'activity' });
  expect(d.rows).toBe(100_000);
  expect(d.fields[0]).toEqual({ name: 'user', vocab: 943 });
  expect(d.fields[1]).toEqual({ name: 'item', vocab: 1682 });
  const positive = d.labels.reduce((a, b) => a + b, 0) / d.rows;
  expect(positive).toBeGreaterThan(0.5);
  expect(positive).toBeLessThan(0.6);
  expect(new Set(d.cohort).size).toBe(4);
});
