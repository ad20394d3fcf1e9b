import { expect, test } from 'vitest';
import { parseMovieLens } from '../../src/data/movielens.js';
import { DataError } from '../../src/data/schema.js';

// A synthetic fixture in the MovieLens-100K format (3 users, 3 items, 6 ratings).
const user = '1|24|M|technician|85711\n2|53|F|other|94043\n3|16|M|student|E2A1\n';
const genres = (on: number) => Array.from({ length: 19 }, (_, g) => (g === on ? '1' : '0')).join('|');
const item = `1|Toy Story (1995)|01-Jan-1995||http://x|${genres(3)}\n2|GoldenEye (1995)|01-Jan-1995||http://y|${genres(1)}\n3|Nothing||||${genres(-1)}\n`;
const data = '1\t1\t5\t0\n1\t2\t3\t3600\n2\t1\t4\t86400\n2\t3\t1\t90000\n3\t2\t4\t7200\n1\t3\t2\t0\n';

test('MovieLens rows become click data: label = rating ≥ 4, fields, cohorts by axis', () => {
  const d = parseMovieLens({ data, user, item }, { cohort: 'age' });
  expect(d.rows).toBe(6);
  expect(d.fields.map((f) => f.name)).toEqual(['user', 'item', 'age', 'gender', 'occupation', 'zip', 'hour', 'weekday', 'genre']);
  expect(Array.from(d.labels)).toEqual([1, 0, 1, 0, 1, 0]);
  const f = d.fields.length;
  // Row 0: user 1 (index 0), item 1 (index 0), 24 → bucket 18-24, M, technician, zip 8, 00:00 UTC Thursday 1970-01-01, genre 3.
  expect(Array.from(d.ids.subarray(0, f))).toEqual([0, 0, 1, 1, 2, 8, 0, 4, 3]);
  expect(d.ids[5 * f + 5]).toBe(8); // zip digit
  expect(d.ids[4 * f + 5]).toBe(10); // non-numeric zip ('E2A1') → bucket 10
  expect(d.cohortNames[d.cohort[0]!]).toBe('18-24');
  expect(d.cohortNames[d.cohort[4]!]).toBe('under 18');
  expect(parseMovieLens({ data, user, item }, { cohort: 'gender' }).cohortNames).toEqual(['F', 'M']);
  const activity = parseMovieLens({ data, user, item }, { cohort: 'activity' });
  expect(activity.cohort[0]).toBe(3); // user 1 rated most
  expect(activity.cohort[4]).toBeLessThan(activity.cohort[0]!); // user 3 rated least
});

test('malformed MovieLens rows name the file and the line', () => {
  expect(() => parseMovieLens({ data: data + '1\t2\t3\n', user, item }, { dir: 'ml' })).toThrow(/ml\/u.data:7: expected 4 tab-separated fields, got 3/);
  expect(() => parseMovieLens({ data: '1\t9\t4\t0\n', user, item })).toThrow(/u.data:1: item 9 is not in u.item/);
  expect(() => parseMovieLens({ data: '1\t1\t6\t0\n', user, item })).toThrow(/u.data:1: rating must be 1-5, got 6/);
  expect(() => parseMovieLens({ data, user: user.replace('|M|', '|X|'), item })).toThrow(/u.user:1: gender must be F or M/);
  expect(() => parseMovieLens({ data, user, item: item + '4|short\n' })).toThrow(DataError);
  expect(() => parseMovieLens({ data, user, item }, { cohort: 'zodiac' as never })).toThrow(/cohort axis 'zodiac'/);
});

