/**
 * MovieLens-100K (u.data, u.user, u.item) as click data: label = rating ≥ 4; fields user, item, age
 * bucket, gender, occupation, zip prefix, hour and weekday of the rating (UTC), and the item's first
 * genre (the full genre set is a multi-hot bag the DHEN model does not take yet). Cohort axes: age,
 * gender, occupation, and activity (quartiles of each user's number of ratings). parseMovieLens() works
 * on file contents (browsers, tests); loadMovieLens() reads a directory (Node). A malformed row is an
 * error naming the file and the line.
 */
import { DataError, type ClickData } from './schema.js';

export type MovieLensAxis = 'age' | 'gender' | 'occupation' | 'activity';
export const MOVIELENS_AXES: readonly MovieLensAxis[] = ['age', 'gender', 'occupation', 'activity'];

const AGE_BUCKETS = ['under 18', '18-24', '25-34', '35-44', '45-49', '50-55', '56+'];
const ageBucket = (age: number): number => (age < 18 ? 0 : age < 25 ? 1 : age < 35 ? 2 : age < 45 ? 3 : age < 50 ? 4 : age < 56 ? 5 : 6);

/** Non-blank lines with their 1-based line numbers (LF, CRLF or CR endings; a leading byte-order mark is dropped). */
function lines(file: string, text: string): { line: number; text: string }[] {
  if (typeof text !== 'string') throw new DataError(`${file}: expected the file's text, got ${typeof text}`);
  const raw = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r\n|\r|\n/);
  return raw.map((t, i) => ({ line: i + 1, text: t })).filter((l) => l.text.trim() !== '');
}

/** A decimal integer >= min (digits only: '0x10', '1e3' and '4.5' are refused). */
function int(file: string, line: number, what: string, v: string | undefined, min = 0): number {
  const t = v?.trim() ?? '';
  const n = Number(t);
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(n) || n < min) throw new DataError(`${file}:${line}: ${what} must be an integer >= ${min}, got '${v ?? ''}'`);
  return n;
}

export function parseMovieLens(files: { data: string; user: string; item: string }, opts: { cohort?: MovieLensAxis; dir?: string } = {}): ClickData {
  const dir = opts.dir ? `${opts.dir}/` : '';
  const axis = opts.cohort ?? 'age';
  if (!MOVIELENS_AXES.includes(axis)) throw new DataError(`movielens: cohort axis '${axis}' is not one of ${MOVIELENS_AXES.join(', ')}`);
  // u.user: id|age|gender|occupation|zip
  const users = new Map<number, { age: number; gender: number; occupation: string; zip: number; line: number }>();
  const userFile = `${dir}u.user`, itemFile = `${dir}u.item`;
  for (const { line, text } of lines(userFile, files.user)) {
    const p = text.split('|');
    if (p.length !== 5) throw new DataError(`${userFile}:${line}: expected 5 fields separated by '|', got ${p.length}`);
    const gender = p[2]!.trim() === 'F' ? 0 : p[2]!.trim() === 'M' ? 1 : -1;
    if (gender < 0) throw new DataError(`${userFile}:${line}: gender must be F or M, got '${p[2]}'`);
    const zip = p[4]!.trim(), zipDigit = /^[0-9]/.test(zip) ? Number(zip[0]) : 10;
    const id = int(userFile, line, 'user id', p[0], 1);
    const seen = users.get(id);
    if (seen) throw new DataError(`${userFile}:${line}: user id ${id} appears twice (first at line ${seen.line})`);
    users.set(id, { age: int(userFile, line, 'age', p[1]), gender, occupation: p[3]!.trim(), zip: zipDigit, line });
  }
  // u.item: id|title|release|video release|url|19 genre flags
  const genre = new Map<number, number>(), itemLine = new Map<number, number>();
  for (const { line, text } of lines(itemFile, files.item)) {
    const p = text.split('|');
    if (p.length !== 24) throw new DataError(`${itemFile}:${line}: expected 24 fields separated by '|', got ${p.length}`);
    const flags = p.slice(5).map((f) => f.trim());
    const bad = flags.findIndex((f) => f !== '0' && f !== '1');
    if (bad >= 0) throw new DataError(`${itemFile}:${line}: genre flag ${bad + 1} must be 0 or 1, got '${p[5 + bad]}'`);
    const id = int(itemFile, line, 'item id', p[0], 1);
    if (itemLine.has(id)) throw new DataError(`${itemFile}:${line}: item id ${id} appears twice (first at line ${itemLine.get(id)})`);
    itemLine.set(id, line);
    genre.set(id, Math.max(0, flags.indexOf('1')));
  }
  const occupations = [...new Set([...users.values()].map((u) => u.occupation))].sort();
  const userIds = [...users.keys()].sort((a, b) => a - b), itemIds = [...genre.keys()].sort((a, b) => a - b);
  const userIndex = new Map(userIds.map((u, i) => [u, i])), itemIndex = new Map(itemIds.map((it, i) => [it, i]));
  // u.data: user \t item \t rating \t timestamp
  const dataFile = `${dir}u.data`;
  const rows = lines(dataFile, files.data);
  if (rows.length === 0) throw new DataError(`${dataFile}: no ratings (the file is empty)`);
  const fields = [
    { name: 'user', vocab: userIds.length }, { name: 'item', vocab: itemIds.length }, { name: 'age', vocab: AGE_BUCKETS.length },
    { name: 'gender', vocab: 2 }, { name: 'occupation', vocab: occupations.length }, { name: 'zip', vocab: 11 },
    { name: 'hour', vocab: 24 }, { name: 'weekday', vocab: 7 }, { name: 'genre', vocab: 19 },
  ];
  const f = fields.length;
  const ids = new Uint32Array(rows.length * f), labels = new Uint8Array(rows.length), rowUser = new Uint32Array(rows.length);
  const ratingsPerUser = new Map<number, number>();
  rows.forEach(({ line, text }, r) => {
    const p = text.split('\t');
    const file = dataFile;
    if (p.length !== 4) throw new DataError(`${file}:${line}: expected 4 tab-separated fields, got ${p.length}`);
    const u = int(file, line, 'user id', p[0], 1), it = int(file, line, 'item id', p[1], 1), rating = int(file, line, 'rating', p[2],
      1), ts = int(file, line, 'timestamp', p[3]);
    if (rating > 5) throw new DataError(`${file}:${line}: rating must be 1-5, got ${rating}`);
    const user = users.get(u), ui = userIndex.get(u), ii = itemIndex.get(it);
    if (!user || ui === undefined) throw new DataError(`${file}:${line}: user ${u} is not in u.user`);
    if (ii === undefined) throw new DataError(`${file}:${line}: item ${it} is not in u.item`);
    const date = new Date(ts * 1000);
    if (!Number.isFinite(date.getTime())) throw new DataError(`${file}:${line}: timestamp ${ts} is out of range`);
    ids.set([ui, ii, ageBucket(user.age), user.gender, occupations.indexOf(user.occupation), user.zip, date.getUTCHours(),
      date.getUTCDay(), genre.get(it)!], r * f);
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
    if (cohortNames.length > 255) throw new DataError(`${dir}u.user: ${cohortNames.length} distinct occupations; at most 255 cohorts`);
    for (let r = 0; r < rows.length; r++) cohort[r] = ids[r * f + column]!;
  }
  // Every cohort axis is a user attribute: discovery's null shuffles cohorts across users.
  return { fields, ids, labels, cohort, cohortNames, rows: rows.length, cohortGroup: 'user' };
}

/** Reads u.data, u.user and u.item from `dir` (Node). */
export async function loadMovieLens(dir: string, opts: { cohort?: MovieLensAxis } = {}): Promise<ClickData> {
  const name = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ name)) as { readFile(p: string, enc: string): Promise<string> };
  const read = async (f: string): Promise<string> => {
    try {
      return await fs.readFile(`${dir}/${f}`, 'latin1');
    } catch (e) {
      throw new DataError(`movielens: cannot read ${dir}/${f} (${(e as Error).message.split('\n')[0]}); expected the MovieLens-100K ` +
        `files u.data, u.user, u.item`);
    }
  };
  return parseMovieLens({ data: await read('u.data'), user: await read('u.user'), item: await read('u.item') }, { ...opts, dir });
}
