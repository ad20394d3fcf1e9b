/**
 * MovieLens-100K (u.data, u.user, u.item) as click data: label = rating ≥ 4; fields user, item, age
 * bucket, gender, occupation, zip prefix, hour and weekday of the rating (UTC), and the item's first
 * genre (the full genre set is a multi-hot bag the DHEN model does not take yet). Cohort axes: age,
 * gender, occupation, and activity (quartiles of each user's number of ratings). parseMovieLens() works
 * on file contents (browsers, tests); loadMovieLens() reads a directory (Node). A malformed row is an
 * error naming the file and the line.
 */
import type { ClickData } from './synthetic.js';

export type MovieLensAxis = 'age' | 'gender' | 'occupation' | 'activity';
export const MOVIELENS_AXES: readonly MovieLensAxis[] = ['age', 'gender', 'occupation', 'activity'];

export class DataError extends Error {
  override name = 'DataError';
}

const AGE_BUCKETS = ['under 18', '18-24', '25-34', '35-44', '45-49', '50-55', '56+'];
const ageBucket = (age: number): number => (age < 18 ? 0 : age < 25 ? 1 : age < 35 ? 2 : age < 45 ? 3 : age < 50 ? 4 : age < 56 ? 5 : 6);

function lines(text: string): string[] {
  const out = text.split(/\r?\n/);
  if (out[out.length - 1] === '') out.pop();
  return out;
}

function int(file: string, line: number, what: string, v: string | undefined, min = 0): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isInteger(n) || n < min) throw new DataError(`${file}:${line}: ${what} must be an integer >= ${min}, got '${v ?? ''}'`);
  return n;
}

export function parseMovieLens(files: { data: string; user: string; item: string }, opts: { cohort?: MovieLensAxis; dir?: string } = {}): ClickData {
  const dir = opts.dir ? `${opts.dir}/` : '';
  const axis = opts.cohort ?? 'age';
  if (!MOVIELENS_AXES.includes(axis)) throw new DataError(`movielens: cohort axis '${axis}' is not one of ${MOVIELENS_AXES.join(', ')}`);
  // u.user: id|age|gender|occupation|zip
  const users = new Map<number, { age: number; gender: number; occupation: string; zip: number }>();
  lines(files.user).forEach((l, i) => {
    const p = l.split('|');
    if (p.length !== 5) throw new DataError(`${dir}u.user:${i + 1}: expected 5 fields separated by '|', got ${p.length}`);
    const gender = p[2] === 'F' ? 0 : p[2] === 'M' ? 1 : -1;
    if (gender < 0) throw new DataError(`${dir}u.user:${i + 1}: gender must be F or M, got '${p[2]}'`);
    const zipDigit = /^[0-9]/.test(p[4]!) ? Number(p[4]![0]) : 10;
    users.set(int(`${dir}u.user`, i + 1, 'user id', p[0], 1), { age: int(`${dir}u.user`, i + 1, 'age', p[1]), gender, occupation: p[3]!, zip: zipDigit });
  });
  // u.item: id|title|release|video release|url|19 genre flags
  const genre = new Map<number, number>();
  lines(files.item).forEach((l, i) => {
    const p = l.split('|');
    if (p.length !== 24) throw new DataError(`${dir}u.item:${i + 1}: expected 24 fields separated by '|', got ${p.length}`);
    const first = p.slice(5).findIndex((f) => f === '1');
    genre.set(int(`${dir}u.item`, i + 1, 'item id', p[0], 1), Math.max(0, first));
  });
  const occupations = [...new Set([...users.values()].map((u) => u.occupation))].sort();
  const userIds = [...users.keys()].sort((a, b) => a - b), itemIds = [...genre.keys()].sort((a, b) => a - b);
  const userIndex = new Map(userIds.map((u, i) => [u, i])), itemIndex = new Map(itemIds.map((it, i) => [it, i]));
  // u.data: user \t item \t rating \t timestamp
  const rows = lines(files.data);
  const fields = [
    { name: 'user', vocab: userIds.length }, { name: 'item', vocab: itemIds.length }, { name: 'age', vocab: AGE_BUCKETS.length },
    { name: 'gender', vocab: 2 }, { name: 'occupation', vocab: occupations.length }, { name: 'zip', vocab: 11 },
    { name: 'hour', vocab: 24 }, { name: 'weekday', vocab: 7 }, { name: 'genre', vocab: 19 },
  ];
  const f = fields.length;
  const ids = new Uint32Array(rows.length * f), labels = new Uint8Array(rows.length), rowUser = new Uint32Array(rows.length);
  const ratingsPerUser = new Map<number, number>();
  rows.forEach((l, r) => {
    const p = l.split('\t');
    const file = `${dir}u.data`;
    if (p.length !== 4) throw new DataError(`${file}:${r + 1}: expected 4 tab-separated fields, got ${p.length}`);
    const u = int(file, r + 1, 'user id', p[0], 1), it = int(file, r + 1, 'item id', p[1], 1), rating = int(file, r + 1, 'rating', p[2], 1), ts = int(file, r + 1, 'timestamp', p[3]);
    if (rating > 5) throw new DataError(`${file}:${r + 1}: rating must be 1-5, got ${rating}`);
    const user = users.get(u), ui = userIndex.get(u), ii = itemIndex.get(it);
    if (!user || ui === undefined) throw new DataError(`${file}:${r + 1}: user ${u} is not in u.user`);
    if (ii === undefined) throw new DataError(`${file}:${r + 1}: item ${it} is not in u.item`);
    const date = new Date(ts * 1000);
    ids.set([ui, ii, ageBucket(user.age), user.gender, occupations.indexOf(user.occupation), user.zip, date.getUTCHours(), date.getUTCDay(), genre.get(it)!], r * f);
    labels[r] = rating >= 4 ? 1 : 0;
    rowUser[r] = u;
    ratingsPerUser.set(u, (ratingsPerUser.get(u) ?? 0) + 1);
  });
  let cohortNames: string[];
  const cohort = new Uint8Array(rows.length);
  if (axis === 'activity') {
    // Quartiles of users' rating counts (by user, so each user belongs to one bucket).
    const counts = [...ratingsPerUser.values()].sort((a, b) => a - b);
    const cut = [1, 2, 3].map((q) => counts[Math.floor((q * counts.length) / 4)]!);
    cohortNames = ['activity q1 (fewest ratings)', 'activity q2', 'activity q3', 'activity q4 (most ratings)'];
    rowUser.forEach((u, r) => { const n = ratingsPerUser.get(u)!; cohort[r] = n < cut[0]! ? 0 : n < cut[1]! ? 1 : n < cut[2]! ? 2 : 3; });
  } else {
    const column = { age: 2, gender: 3, occupation: 4 }[axis];
    cohortNames = axis === 'age' ? AGE_BUCKETS : axis === 'gender' ? ['F', 'M'] : occupations;
    for (let r = 0; r < rows.length; r++) cohort[r] = ids[r * f + column]!;
  }
  return { fields, ids, labels, cohort, cohortNames, rows: rows.length };
}

/** Reads u.data, u.user and u.item from `dir` (Node). */
export async function loadMovieLens(dir: string, opts: { cohort?: MovieLensAxis } = {}): Promise<ClickData> {
  const name = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ name)) as { readFile(p: string, enc: string): Promise<string> };
  const read = async (f: string): Promise<string> => {
    try {
      return await fs.readFile(`${dir}/${f}`, 'latin1');
    } catch (e) {
      throw new DataError(`movielens: cannot read ${dir}/${f} (${(e as Error).message.split('\n')[0]}); expected the MovieLens-100K files u.data, u.user, u.item`);
    }
  };
  return parseMovieLens({ data: await read('u.data'), user: await read('u.user'), item: await read('u.item') }, { ...opts, dir });
}
