/**
 * Data loaders under fuzz: parseCsv / validateSchema and parseMovieLens on random tables (LF, CRLF and CR
 * line endings, a byte-order mark, blank lines, huge fields, any delimiter), on the same tables with random
 * corruption, and on random bytes read as UTF-8 and latin-1. Every call ends in rows parsed correctly (or
 * skipped and counted with skipBadRows, consistently with parsing each line alone) or in a DataError that
 * names the file (and the line, for a row) — never another exception, a hang, or silently wrong rows.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeUtf8, firstInvalidUtf8, parseCsv, validateSchema, type CsvSchema } from '../../src/data/csv.js';
import { parseMovieLens } from '../../src/data/movielens.js';
import { DataError } from '../../src/data/schema.js';
import { validateClickData, type ClickData } from '../../src/data/schema.js';
import { project } from '../support/gpu.js';

const runs = project === 'browser' ? 60 : 300;
const stats = { inputs: 0, parsed: 0, refused: 0 };
afterAll(() => console.log(`[c2al] loader fuzz (${project}): ${stats.inputs} inputs, ${stats.parsed} parsed and checked, ${stats.refused} refused with a DataError`));

/** Calls fn: a DataError whose message starts with one of the file names, or a result validateClickData accepts. */
function parsedOrRefused<T extends ClickData>(files: RegExp, fn: () => T): T | null {
  stats.inputs++;
  let out: T;
  try {
    out = fn();
  } catch (e) {
    if (!(e instanceof DataError)) throw new Error(`threw ${(e as Error).name}, not a DataError: ${(e as Error).message}\n${(e as Error).stack}`);
    expect((e as Error).message).toMatch(files);
    stats.refused++;
    return null;
  }
  validateClickData(out, 'parsed data');
  stats.parsed++;
  return out;
}

// ---------- CSV ----------

const token = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'u1', 'u2', 'x y', 'é', '日本', '🙂', '-', '0', 'NaN', 'null') },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('k', 'é', ' ', '_', '9'), maxLength: 6 }).map((s) => `v${s}`) },
  { weight: 1, arbitrary: fc.constant('h'.repeat(20_000)) }, // a huge field
);
const number = fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.double({ min: -1e12, max: 1e12, noNaN: true }));

interface Table { columns: string[]; rows: string[][]; labels: number[]; cohorts: string[]; nums: number[]; delimiter: string }

const tables = fc.record({
  order: fc.shuffledSubarray([0, 1, 2, 3, 4], { minLength: 5 }),
  delimiter: fc.constantFrom(',', '\t', ';', '|'),
  rows: fc.array(fc.tuple(token, token, number, token, fc.constantFrom(0, 1)), { minLength: 1, maxLength: 12 }),
}).map(({ order, delimiter, rows }): Table => {
  const names = ['user', 'item', 'price', 'segment', 'clicked'];
  return {
    columns: order.map((i) => names[i]!), delimiter,
    rows: rows.map((r) => order.map((i) => String(r[i]))),
    labels: rows.map((r) => r[4]), cohorts: rows.map((r) => String(r[3]).trim()), nums: rows.map((r) => r[2]), // eslint-disable-line
  };
});
const schemaFor = (t: Table): CsvSchema => validateSchema({ label: 'clicked', categorical: ['user', 'item'], numeric: ['price'], cohort: 'segment', delimiter: t.delimiter });
const render = (t: Table, eol = '\n'): string => [t.columns.join(t.delimiter), ...t.rows.map((r) => r.join(t.delimiter))].join(eol) + eol;

describe('CSV loader', () => {
  test('random tables parse to the rows written, the same with LF, CRLF or CR endings, a BOM, blank lines', () => {
    fc.assert(fc.property(tables, (t) => {
      const schema = schemaFor(t);
      const lf = parsedOrRefused(/^data\.csv/, () => parseCsv(render(t), schema))!;
      expect(lf, 'a well-formed table is never refused').not.toBeNull();
      expect(lf.rows).toBe(t.rows.length);
      expect(Array.from(lf.labels)).toEqual(t.labels);
      expect(Array.from(lf.cohort, (c) => lf.cohortNames[c])).toEqual(t.cohorts.map((c) => `segment=${c}`));
      // Same value ↔ same id in each categorical column.
      for (const [k, name] of ['user', 'item'].entries()) {
        const col = t.columns.indexOf(name), values = t.rows.map((r) => r[col]!.trim());
        for (let i = 0; i < values.length; i++) for (let j = 0; j < values.length; j++) {
          expect(lf.ids[i * 2 + k] === lf.ids[j * 2 + k]).toBe(values[i] === values[j]);
        }
      }
      // Standardized numerics: (v − mean) / std, as float32.
      const mean = t.nums.reduce((a, v) => a + v / t.nums.length, 0);
      const sd = Math.sqrt(t.nums.reduce((a, v) => a + (v - mean) ** 2 / t.nums.length, 0)) || 1;
      t.nums.forEach((v, r) => expect(Math.abs(lf.dense![r]! - (v - mean) / sd)).toBeLessThan(1e-5 * (1 + Math.abs((v - mean) / sd))));
      const variants = [render(t, '\r\n'), render(t, '\r'), `\uFEFF${render(t)}`, `\n\n${render(t, '\n\n')}  \n`, render(t).slice(0, -1)];
      for (const text of variants) expect(parseCsv(text, schema)).toEqual(lf);
    }), { numRuns: runs });
  });

  const corruption = fc.array(fc.tuple(fc.constantFrom('insert', 'delete', 'duplicate line', 'truncate', 'swap'), fc.nat(), fc.nat({ max: 30 }),
    fc.constantFrom(',', '\t', ';', '|', '"', '\r', '\n', '\r\n', '\u0000', '\uFFFD', '\uFEFF', ' ', 'x', '1', '0', '2', '-', 'e', 'Infinity', '0x1f')), { minLength: 1, maxLength: 3 });
  function corrupt(text: string, ops: [string, number, number, string][]): string {
    let s = text;
    for (const [op, at, len, ch] of ops) {
      const i = s.length ? at % s.length : 0;
      if (op === 'insert') s = s.slice(0, i) + ch + s.slice(i);
      else if (op === 'delete') s = s.slice(0, i) + s.slice(i + 1 + len);
      else if (op === 'truncate') s = s.slice(0, i);
      else if (op === 'swap') s = s.slice(0, i) + (s[i + 1] ?? '') + (s[i] ?? '') + s.slice(i + 2);
      else { const lines = s.split('\n'); const k = at % lines.length; lines.splice(k, 0, lines[k]!); s = lines.join('\n'); }
    }
    return s;
  }

  test('corrupted tables: a DataError naming the file and line, or rows that parse; skipBadRows keeps exactly the lines that parse alone', () => {
    fc.assert(fc.property(tables, corruption, (t, ops) => {
      const schema = schemaFor(t), text = corrupt(render(t), ops as never);
      parsedOrRefused(/^data\.csv(:\d+)?: /, () => parseCsv(text, schema));
      const skipping = parsedOrRefused(/^data\.csv(:\d+)?: /, () => parseCsv(text, schema, { skipBadRows: true }));
      if (!skipping) return;
      // Line by line: the header plus one line at a time.
      const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
      const head = lines.findIndex((l) => l.trim() !== '');
      const alone = lines.slice(head + 1).filter((l) => l.trim() !== '').map((l) => {
        try { return parseCsv(`${lines[head]}\n${l}\n`, schema); } catch (e) { if (e instanceof DataError) return null; throw e; }
      });
      const kept = alone.filter((r): r is NonNullable<typeof r> => r !== null);
      expect(skipping.rows + skipping.skipped).toBe(alone.length);
      expect(Array.from(skipping.labels)).toEqual(kept.map((r) => r.labels[0]));
      expect(Array.from(skipping.cohort, (c) => skipping.cohortNames[c])).toEqual(kept.map((r) => r.cohortNames[r.cohort[0]!]));
    }), { numRuns: runs });
  });

  test('random bytes as UTF-8 (invalid sequences refused with file, line and byte) or latin-1 never throw anything but a DataError', () => {
    const schema = validateSchema({ label: 'clicked', categorical: ['user'], cohort: 'segment' });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, withHeader) => {
      const prefix = withHeader ? new TextEncoder().encode('user,segment,clicked\n') : new Uint8Array(0);
      const all = new Uint8Array(prefix.length + bytes.length);
      all.set(prefix);
      all.set(bytes, prefix.length);
      parsedOrRefused(/^data\.csv(:\d+)?: /, () => parseCsv(decodeUtf8(all, 'data.csv'), schema));
      parsedOrRefused(/^data\.csv(:\d+)?: /, () => parseCsv(new TextDecoder('latin1').decode(all), schema));
      // The reported byte is the first one a strict decoder rejects.
      const bad = firstInvalidUtf8(all);
      let strict = true;
      try { new TextDecoder('utf-8', { fatal: true }).decode(all); } catch { strict = false; }
      expect(bad < 0).toBe(strict);
      if (bad >= 0) expect(() => new TextDecoder('utf-8', { fatal: true }).decode(all.subarray(0, bad))).not.toThrow();
    }), { numRuns: runs });
  });

  test('malformed schemas are refused with a DataError naming the key', () => {
    const base = { label: 'clicked', categorical: ['user'], cohort: 'segment' };
    const bad: [object, RegExp][] = [
      [{ ...base, numeric: 'price' }, /"numeric" must be a list of column names/],
      [{ ...base, delimiter: '' }, /"delimiter" must be one character/],
      [{ ...base, delimiter: '"' }, /"delimiter" must be one character/],
      [{ ...base, hashBuckets: { user: 1.5 } }, /"hashBuckets" for 'user' must be a positive integer/],
      [{ ...base, hashBuckets: { shop: 3 } }, /names 'shop', which is not a categorical column/],
      [{ ...base, cohortQuantiles: 0 }, /"cohortQuantiles" must be an integer from 2 to 255/],
      [{ ...base, cohortQuantiles: 300 }, /"cohortQuantiles" must be an integer from 2 to 255/],
      [{ ...base, categorical: ['user', 'user'] }, /lists a column twice/],
      [{ ...base, header: 'yes' }, /"header" must be true or false/],
      [[], /must be a JSON object/],
    ];
    for (const [schema, error] of bad) {
      stats.inputs++;
      expect(() => validateSchema(schema, 'schema.json')).toThrow(error);
      expect(() => parseCsv('user,segment,clicked\nu,a,1\n', schema as CsvSchema, { file: 'c.csv' })).toThrow(DataError);
      stats.refused++;
    }
    // Rows the old parser read silently wrong or crashed on:
    const s = validateSchema({ ...base, numeric: ['price'] });
    expect(() => parseCsv('', s, { file: 'c.csv' })).toThrow(/c.csv: the file is empty/);
    expect(() => parseCsv('user,price,segment,clicked\n"u,1",2,a,1\n', s, { file: 'c.csv' })).toThrow(/c.csv:2: quoted fields are not supported/);
    expect(() => parseCsv('user,user,price,segment,clicked\nu,v,1,a,1\n', s, { file: 'c.csv' })).toThrow(/c.csv:1: column 'user' appears twice/);
    expect(() => parseCsv('user,price,segment,clicked\nu,0x10,a,1\n', s, { file: 'c.csv' })).toThrow(/c.csv:2: numeric column 'price' must be a finite number, got '0x10'/);
    expect(() => parseCsv('user,price,segment,clicked\nu,1e308,a,1\nv,-1e308,a,0\n', s, { file: 'c.csv' })).toThrow(/c.csv: numeric column 'price' cannot be standardized/);
    expect(() => decodeUtf8(new Uint8Array([0x61, 0x0a, 0x62, 0xe9, 0x0a]), 'latin1.csv')).toThrow(/latin1.csv:2: not valid UTF-8 \(byte 3 is 0xe9\)/);
  });
});

// ---------- MovieLens ----------

const genres = (on: number) => Array.from({ length: 19 }, (_, g) => (g === on ? '1' : '0')).join('|');
const movielens = fc.record({
  users: fc.array(fc.tuple(fc.integer({ min: 1, max: 90 }), fc.constantFrom('F', 'M'), fc.constantFrom('student', 'other', 'writer', 'a b'), fc.constantFrom('85711', 'E2A1', '0', '')), { minLength: 1, maxLength: 6 }),
  items: fc.array(fc.integer({ min: -1, max: 18 }), { minLength: 1, maxLength: 6 }),
  ratings: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 2 ** 31 })), { minLength: 1, maxLength: 12 }),
}).map(({ users, items, ratings }) => ({
  user: users.map(([age, g, occ, zip], i) => `${i + 1}|${age}|${g}|${occ}|${zip}`),
  item: items.map((g, i) => `${i + 1}|Title ${i}|01-Jan-1995||http://x|${genres(g)}`),
  data: ratings.map(([u, it, r, ts]) => `${(u % users.length) + 1}\t${(it % items.length) + 1}\t${r}\t${ts}`),
  labels: ratings.map(([, , r]) => (r >= 4 ? 1 : 0)),
}));
const join = (lines: string[], eol = '\n') => lines.join(eol) + eol;

describe('MovieLens loader', () => {
  test('random files parse to the ratings written, the same with CRLF or CR endings, a BOM, blank lines', () => {
    fc.assert(fc.property(movielens, fc.constantFrom('age', 'gender', 'occupation', 'activity'), (m, cohort) => {
      const lf = parsedOrRefused(/^u\./, () => parseMovieLens({ data: join(m.data), user: join(m.user), item: join(m.item) }, { cohort }))!;
      expect(lf).not.toBeNull();
      expect(Array.from(lf.labels)).toEqual(m.labels);
      for (const eol of ['\r\n', '\r']) expect(parseMovieLens({ data: join(m.data, eol), user: join(m.user, eol), item: join(m.item, eol) }, { cohort })).toEqual(lf);
      expect(parseMovieLens({ data: `\uFEFF${join(m.data)}\n\n`, user: `\uFEFF${join(m.user)}`, item: `\n${join(m.item)}` }, { cohort })).toEqual(lf);
    }), { numRuns: runs });
  });

  test('corrupted or random files: a DataError naming the file and line, or ratings that parse', () => {
    const mutate = fc.tuple(fc.constantFrom('data', 'user', 'item'), fc.nat(), fc.constantFrom('\t', '|', '\r', '\n', 'x', '9', '0x2', '1e3', '-', '', ' ', '\uFEFF', '99999999999999999999'), fc.boolean());
    fc.assert(fc.property(movielens, fc.array(mutate, { minLength: 1, maxLength: 3 }), fc.uint8Array({ maxLength: 200 }), (m, ops, bytes) => {
      const files = { data: join(m.data), user: join(m.user), item: join(m.item) };
      for (const [file, at, ch, cut] of ops) {
        const s = files[file as 'data'], i = at % Math.max(1, s.length);
        files[file as 'data'] = s.slice(0, i) + ch + s.slice(cut ? i + 1 : i);
      }
      parsedOrRefused(/^(ml\/)?u\.(data|user|item)(:\d+)?: /, () => parseMovieLens(files, { dir: 'ml' }));
      const noise = new TextDecoder('latin1').decode(bytes);
      for (const file of ['data', 'user', 'item'] as const) {
        parsedOrRefused(/^(ml\/)?u\.(data|user|item)(:\d+)?: /, () => parseMovieLens({ ...files, [file]: noise }, { dir: 'ml' }));
      }
    }), { numRuns: runs });
    // Values the old parser accepted silently or crashed on:
    const m = { user: '1|20|M|x|1\n', item: `1|t|||u|${genres(2)}\n`, data: '1\t1\t4\t0\n' };
    expect(() => parseMovieLens({ ...m, data: '0x1\t1\t4\t0\n' })).toThrow(/u.data:1: user id must be an integer >= 1, got '0x1'/);
    expect(() => parseMovieLens({ ...m, data: '1\t1\t4\t99999999999999\n' })).toThrow(/u.data:1: timestamp 99999999999999 is out of range/);
    expect(() => parseMovieLens({ ...m, user: `${m.user}1|30|F|y|2\n` })).toThrow(/u.user:2: user id 1 appears twice \(first at line 1\)/);
    expect(() => parseMovieLens({ ...m, item: `1|t|||u|${genres(2).replace('1', '2')}\n` })).toThrow(/u.item:1: genre flag 3 must be 0 or 1, got '2'/);
    expect(() => parseMovieLens({ ...m, data: '\n\n' })).toThrow(/u.data: no ratings/);
  });
});
