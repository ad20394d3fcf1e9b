/**
 * A CSV/TSV loader driven by a JSON schema:
 *   {"label": "clicked", "categorical": ["user", "item"], "numeric": ["price"], "cohort": "age_group",
 *    "delimiter": ",", "header": true, "hashBuckets": {"user": 100000}, "cohortQuantiles": 4}
 * Categorical values get dense ids in order of first appearance (or a hash into `hashBuckets[column]`
 * buckets); numeric columns become dense features (standardized by their mean and std); the cohort column
 * is categorical, or bucketed into `cohortQuantiles` quantiles when numeric. Labels must be 0 or 1.
 * A malformed row (wrong column count, bad label, non-numeric or non-finite number, a quote character:
 * quoted fields are not supported, so a quoted delimiter is refused rather than split) is an error naming
 * the file and the line (the header is line 1), or is skipped and counted with skipBadRows. LF, CRLF and
 * CR line endings, a UTF-8 byte-order mark and blank lines are accepted; files must be UTF-8 (loadCsv
 * refuses other encodings instead of replacing bytes). The whole file is parsed in memory (no streaming yet).
 */
import { DataError } from './movielens.js';
import type { ClickData } from './synthetic.js';

export interface CsvSchema {
  label: string;
  categorical: string[];
  numeric?: string[];
  cohort: string;
  delimiter?: string;
  header?: boolean;
  /** Columns listed here are hashed into that many buckets instead of getting a dictionary. */
  hashBuckets?: Record<string, number>;
  /** Bucket a numeric cohort column into this many quantiles. */
  cohortQuantiles?: number;
}

const SCHEMA_KEYS = ['label', 'categorical', 'numeric', 'cohort', 'delimiter', 'header', 'hashBuckets', 'cohortQuantiles'];

export function validateSchema(schema: unknown, file = 'schema'): CsvSchema {
  const s = schema as CsvSchema;
  const fail = (msg: string): never => { throw new DataError(`${file}: ${msg}`); };
  if (!s || typeof s !== 'object' || Array.isArray(s)) fail('the schema must be a JSON object');
  const unknown = Object.keys(s).filter((k) => !SCHEMA_KEYS.includes(k));
  if (unknown.length) fail(`unknown key ${unknown.map((k) => `'${k}'`).join(', ')} (allowed: ${SCHEMA_KEYS.join(', ')})`);
  const names = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && x.trim() !== '');
  if (typeof s.label !== 'string' || s.label.trim() === '') fail('"label" must name the label column');
  if (!names(s.categorical) || s.categorical.length === 0) fail('"categorical" must list at least one column');
  if (new Set(s.categorical).size !== s.categorical.length) fail(`"categorical" lists a column twice: ${JSON.stringify(s.categorical)}`);
  if (s.numeric !== undefined && !names(s.numeric)) fail(`"numeric" must be a list of column names, got ${JSON.stringify(s.numeric)}`);
  if (typeof s.cohort !== 'string' || s.cohort.trim() === '') fail('"cohort" must name the cohort column');
  if (s.delimiter !== undefined && (typeof s.delimiter !== 'string' || s.delimiter.length !== 1 || '"\r\n'.includes(s.delimiter))) {
    fail(`"delimiter" must be one character (not a quote or a line break), got ${JSON.stringify(s.delimiter)}`);
  }
  if (s.header !== undefined && typeof s.header !== 'boolean') fail(`"header" must be true or false, got ${JSON.stringify(s.header)}`);
  if (s.hashBuckets !== undefined) {
    if (!s.hashBuckets || typeof s.hashBuckets !== 'object' || Array.isArray(s.hashBuckets)) fail('"hashBuckets" must map categorical columns to bucket counts');
    for (const [col, n] of Object.entries(s.hashBuckets)) {
      if (!s.categorical.includes(col)) fail(`"hashBuckets" names '${col}', which is not a categorical column`);
      if (!Number.isInteger(n) || n < 1 || n > 2 ** 31) fail(`"hashBuckets" for '${col}' must be a positive integer, got ${JSON.stringify(n)}`);
    }
  }
  if (s.cohortQuantiles !== undefined && (!Number.isInteger(s.cohortQuantiles) || s.cohortQuantiles < 2 || s.cohortQuantiles > 255)) {
    fail(`"cohortQuantiles" must be an integer from 2 to 255, got ${JSON.stringify(s.cohortQuantiles)}`);
  }
  return s;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export function parseCsv(text: string, schema: CsvSchema, opts: { file?: string; skipBadRows?: boolean } = {}): ClickData & { skipped: number } {
  const file = opts.file ?? 'data.csv';
  validateSchema(schema, `${file} schema`);
  if (typeof text !== 'string') throw new DataError(`${file}: expected the file's text, got ${typeof text}`);
  const delim = schema.delimiter ?? (file.endsWith('.tsv') ? '\t' : ',');
  const rawLines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r\n|\r|\n/);
  const first = rawLines.findIndex((l) => l.trim() !== '');
  if (first < 0) throw new DataError(`${file}: the file is empty`);
  const header = schema.header !== false;
  const quoted = (line: string, n: number): void => {
    if (line.includes('"')) throw new DataError(`${file}:${n}: quoted fields are not supported (the line holds a '"'); write the file without quoting`);
  };
  if (header) quoted(rawLines[first]!, first + 1);
  const columns = header ? rawLines[first]!.split(delim).map((c) => c.trim()) : rawLines[first]!.split(delim).map((_, i) => `c${i}`);
  const col = (name: string): number => {
    const i = columns.indexOf(name);
    if (i < 0) throw new DataError(`${file}:${first + 1}: column '${name}' named by the schema is not in the header (${columns.join(', ')})`);
    if (columns.indexOf(name, i + 1) >= 0) throw new DataError(`${file}:${first + 1}: column '${name}' appears twice in the header`);
    return i;
  };
  const labelCol = col(schema.label), catCols = schema.categorical.map(col), numCols = (schema.numeric ?? []).map(col), cohortCol = col(schema.cohort);
  const dicts = schema.categorical.map(() => new Map<string, number>());
  const good: { cats: number[]; nums: number[]; label: number; cohort: string }[] = [];
  let skipped = 0;
  for (let i = header ? first + 1 : first; i < rawLines.length; i++) {
    if (rawLines[i]!.trim() === '') continue; // blank lines (and the final newline) are not rows
    const line = i + 1, parts = rawLines[i]!.split(delim);
    try {
      quoted(rawLines[i]!, line);
      if (parts.length !== columns.length) throw new DataError(`${file}:${line}: expected ${columns.length} columns, got ${parts.length}`);
      const labelText = parts[labelCol]!.trim();
      if (labelText !== '0' && labelText !== '1') throw new DataError(`${file}:${line}: label '${schema.label}' must be 0 or 1, got '${labelText}'`);
      const nums = numCols.map((c, k) => {
        const text = parts[c]!.trim(), v = Number(text);
        if (text === '' || !Number.isFinite(v) || /^[+-]?0[xob]/i.test(text)) throw new DataError(`${file}:${line}: numeric column '${schema.numeric![k]}' must be a finite number, got '${parts[c]}'`);
        return v;
      });
      const cats = catCols.map((c, k) => {
        const value = parts[c]!.trim(), buckets = schema.hashBuckets?.[schema.categorical[k]!];
        if (buckets) return fnv1a(value) % buckets;
        const d = dicts[k]!;
        if (!d.has(value)) d.set(value, d.size);
        return d.get(value)!;
      });
      good.push({ cats, nums, label: Number(labelText), cohort: parts[cohortCol]!.trim() });
    } catch (e) {
      if (!opts.skipBadRows) throw e;
      skipped++;
    }
  }
  if (good.length === 0) throw new DataError(`${file}: no usable rows`);
  const fields = schema.categorical.map((name, k) => ({ name, vocab: schema.hashBuckets?.[name] ?? Math.max(1, dicts[k]!.size) }));
  const f = fields.length, nd = numCols.length, rows = good.length;
  const ids = new Uint32Array(rows * f), labels = new Uint8Array(rows), dense = nd ? new Float32Array(rows * nd) : undefined;
  // Standardize numeric features (mean 0, std 1) so one learning rate suits them all.
  const mean = new Array<number>(nd).fill(0), sd = new Array<number>(nd).fill(0);
  good.forEach((g) => g.nums.forEach((v, k) => { mean[k]! += v / rows; }));
  good.forEach((g) => g.nums.forEach((v, k) => { sd[k]! += (v - mean[k]!) ** 2 / rows; }));
  mean.forEach((m, k) => {
    if (!Number.isFinite(m) || !Number.isFinite(sd[k]!)) throw new DataError(`${file}: numeric column '${schema.numeric![k]}' cannot be standardized: its values overflow (mean ${m}, variance ${sd[k]}); rescale the column`);
  });
  good.forEach((g, r) => {
    ids.set(g.cats, r * f);
    labels[r] = g.label;
    g.nums.forEach((v, k) => { dense![r * nd + k] = (v - mean[k]!) / (Math.sqrt(sd[k]!) || 1); });
  });
  let cohortNames: string[];
  const cohort = new Uint8Array(rows);
  if (schema.cohortQuantiles) {
    const q = schema.cohortQuantiles;
    const values = good.map((g, r) => {
      const v = Number(g.cohort);
      if (!Number.isFinite(v)) throw new DataError(`${file}: cohort column '${schema.cohort}' must be numeric for cohortQuantiles (row ${r + 1} of the data has '${g.cohort}')`);
      return v;
    });
    const sorted = [...values].sort((a, b) => a - b);
    const cuts = Array.from({ length: q - 1 }, (_, i) => sorted[Math.floor(((i + 1) * rows) / q)]!);
    values.forEach((v, r) => { cohort[r] = cuts.filter((c) => v >= c).length; });
    cohortNames = Array.from({ length: q }, (_, i) => `${schema.cohort} q${i + 1}`);
  } else {
    const names = [...new Set(good.map((g) => g.cohort))].sort();
    if (names.length > 255) throw new DataError(`${file}: cohort column '${schema.cohort}' has ${names.length} values; at most 255 (use cohortQuantiles for numbers)`);
    good.forEach((g, r) => { cohort[r] = names.indexOf(g.cohort); });
    cohortNames = names.map((n) => `${schema.cohort}=${n}`);
  }
  return { fields, ids, labels, cohort, cohortNames, rows, skipped, ...(dense ? { dense, denseFeatures: nd } : {}) };
}

/** Reads a schema file and a data file (Node). */
export async function loadCsv(dataFile: string, schemaFile: string, opts: { skipBadRows?: boolean } = {}): Promise<ClickData & { skipped: number }> {
  const name = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ name)) as { readFile(p: string): Promise<Uint8Array> };
  const read = async (f: string): Promise<string> => {
    let bytes: Uint8Array;
    try { bytes = await fs.readFile(f); } catch (e) { throw new DataError(`cannot read ${f}: ${(e as Error).message.split('\n')[0]}`); }
    return decodeUtf8(bytes, f);
  };
  let schema: unknown;
  try { schema = JSON.parse(await read(schemaFile)); } catch (e) { throw e instanceof DataError ? e : new DataError(`${schemaFile}: not valid JSON (${(e as Error).message})`); }
  return parseCsv(await read(dataFile), validateSchema(schema, schemaFile), { file: dataFile, skipBadRows: opts.skipBadRows });
}

/**
 * UTF-8 text of a file, refusing invalid bytes (a latin-1 file would otherwise turn distinct values into
 * the same U+FFFD-mangled string and merge their ids), naming the line and byte of the first one.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = Math.max(0, firstInvalidUtf8(bytes));
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 10) line++;
    throw new DataError(`${file}:${line}: not valid UTF-8 (byte ${at} is 0x${(bytes[at] ?? 0).toString(16).padStart(2, '0')}); convert the file to UTF-8`);
  }
}

/** Index of the first byte that starts an invalid UTF-8 sequence (RFC 3629: no overlongs, surrogates or > U+10FFFF), or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    if (c < 0x80) { i++; continue; }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0 || i + n >= b.length) return i;
    const c1 = b[i + 1]!;
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return i;
    for (let k = 1; k <= n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}
