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
 * refuses other encodings instead of replacing bytes). loadCsv streams the file in chunks through a
 * CsvParser, which keeps only the parsed columns (typed arrays), never the file's text.
 */
import { DataError, validateClickData, type ClickData } from './schema.js';

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
  /** The categorical column the cohort is constant along (a user attribute: the user column). */
  cohortGroup?: string;
}

const SCHEMA_KEYS = ['label', 'categorical', 'numeric', 'cohort', 'delimiter', 'header', 'hashBuckets', 'cohortQuantiles', 'cohortGroup'];

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
    if (!s.hashBuckets || typeof s.hashBuckets !== 'object' || Array.isArray(s.hashBuckets)) fail('"hashBuckets" must map ' +
      'categorical columns to bucket counts');
    for (const [col, n] of Object.entries(s.hashBuckets)) {
      if (!s.categorical.includes(col)) fail(`"hashBuckets" names '${col}', which is not a categorical column`);
      if (!Number.isInteger(n) || n < 1 || n > 2 ** 31) fail(`"hashBuckets" for '${col}' must be a positive integer, got ${JSON.stringify(n)}`);
    }
  }
  if (s.cohortQuantiles !== undefined && (!Number.isInteger(s.cohortQuantiles) || s.cohortQuantiles < 2 || s.cohortQuantiles > 255)) {
    fail(`"cohortQuantiles" must be an integer from 2 to 255, got ${JSON.stringify(s.cohortQuantiles)}`);
  }
  if (s.cohortGroup !== undefined && (typeof s.cohortGroup !== 'string' || !s.categorical.includes(s.cohortGroup))) {
    fail(`"cohortGroup" must name a categorical column (${s.categorical.join(', ')}), got ${JSON.stringify(s.cohortGroup)}`);
  }
  return s;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** A growable typed array (rows arrive one at a time while a file streams). */
class Column<T extends Uint32Array | Uint8Array | Float64Array> {
  length = 0;
  constructor(private data: T) {}
  push(...values: number[]): void {
    if (this.length + values.length > this.data.length) {
      const bigger = new (this.data.constructor as new (n: number) => T)(Math.max(64, 2 * (this.length + values.length)));
      bigger.set(this.data);
      this.data = bigger;
    }
    for (const v of values) this.data[this.length++] = v;
  }
  view(): T { return this.data.subarray(0, this.length) as T; }
}

/**
 * Parses a CSV/TSV file line by line (feed `line()` in order, then `finish()`): only the parsed columns
 * are kept, in typed arrays, so a file streams through without its text or per-row objects in memory.
 */
export class CsvParser {
  private readonly file: string;
  private readonly delim: string;
  private readonly header: boolean;
  private columns: string[] | null = null;
  private labelCol = -1;
  private catCols: number[] = [];
  private numCols: number[] = [];
  private cohortCol = -1;
  private readonly dicts: Map<string, number>[];
  private readonly ids = new Column(new Uint32Array(1024));
  private readonly labels = new Column(new Uint8Array(1024));
  private readonly nums = new Column(new Float64Array(1024));
  private readonly cohortIds = new Column(new Uint32Array(1024));
  /** The cohort column's numbers, for cohortQuantiles. */
  private readonly cohortNumbers = new Column(new Float64Array(1024));
  private readonly cohortValues = new Map<string, number>();
  skipped = 0;

  constructor(private readonly schema: CsvSchema, private readonly opts: { file?: string; skipBadRows?: boolean } = {}) {
    this.file = opts.file ?? 'data.csv';
    validateSchema(schema, `${this.file} schema`);
    this.delim = schema.delimiter ?? (this.file.endsWith('.tsv') ? '\t' : ',');
    this.header = schema.header !== false;
    this.dicts = schema.categorical.map(() => new Map<string, number>());
  }

  private quoted(text: string, n: number): void {
    if (text.includes('"')) throw new DataError(`${this.file}:${n}: quoted fields are not supported (the line holds a '"'); write the file without quoting`);
  }

  private start(text: string, n: number): void {
    const { schema, file } = this;
    if (this.header) this.quoted(text, n);
    const columns = this.header ? text.split(this.delim).map((c) => c.trim()) : text.split(this.delim).map((_, i) => `c${i}`);
    const col = (name: string): number => {
      const i = columns.indexOf(name);
      if (i < 0) throw new DataError(`${file}:${n}: column '${name}' named by the schema is not in the header (${columns.join(', ')})`);
      if (columns.indexOf(name, i + 1) >= 0) throw new DataError(`${file}:${n}: column '${name}' appears twice in the header`);
      return i;
    };
    this.labelCol = col(schema.label);
    this.catCols = schema.categorical.map(col);
    this.numCols = (schema.numeric ?? []).map(col);
    this.cohortCol = col(schema.cohort);
    this.columns = columns;
  }

  /** One line of the file; `n` is its 1-based line number (the header is line 1). */
  line(text: string, n: number): void {
    if (text.trim() === '') return; // blank lines (and the final newline) are not rows
    if (!this.columns) {
      this.start(text, n);
      if (this.header) return;
    }
    const { schema, file } = this, columns = this.columns!;
    const parts = text.split(this.delim);
    try {
      this.quoted(text, n);
      if (parts.length !== columns.length) throw new DataError(`${file}:${n}: expected ${columns.length} columns, got ${parts.length}`);
      const labelText = parts[this.labelCol]!.trim();
      if (labelText !== '0' && labelText !== '1') throw new DataError(`${file}:${n}: label '${schema.label}' must be 0 or 1, got '${labelText}'`);
      const nums = this.numCols.map((c, k) => {
        const t = parts[c]!.trim(), v = Number(t);
        if (t === '' || !Number.isFinite(v) || /^[+-]?0[xob]/i.test(t)) throw new DataError(`${file}:${n}: numeric column '${schema.numeric![k]}' must be ` +
          `a finite number, got '${parts[c]}'`);
        return v;
      });
      const cats = this.catCols.map((c, k) => {
        const value = parts[c]!.trim(), buckets = schema.hashBuckets?.[schema.categorical[k]!];
        if (buckets) return fnv1a(value) % buckets;
        const d = this.dicts[k]!;
        if (!d.has(value)) d.set(value, d.size);
        return d.get(value)!;
      });
      const cohortText = parts[this.cohortCol]!.trim();
      let cohortId: number;
      if (schema.cohortQuantiles) {
        cohortId = Number(cohortText);
        if (!Number.isFinite(cohortId)) throw new DataError(`${file}:${n}: cohort column '${schema.cohort}' must be numeric for ` +
          `cohortQuantiles, got '${cohortText}'`);
      } else {
        if (!this.cohortValues.has(cohortText)) this.cohortValues.set(cohortText, this.cohortValues.size);
        cohortId = this.cohortValues.get(cohortText)!;
      }
      this.ids.push(...cats);
      this.nums.push(...nums);
      this.labels.push(Number(labelText));
      if (schema.cohortQuantiles) this.cohortNumbers.push(cohortId);
      else this.cohortIds.push(cohortId);
    } catch (e) {
      if (!this.opts.skipBadRows) throw e;
      this.skipped++;
    }
  }

  finish(): ClickData & { skipped: number } {
    const { schema, file, skipped } = this;
    if (!this.columns) throw new DataError(`${file}: the file is empty`);
    const rows = this.labels.length;
    if (rows === 0) throw new DataError(`${file}: no usable rows`);
    const fields = schema.categorical.map((name, k) => ({ name, vocab: schema.hashBuckets?.[name] ?? Math.max(1, this.dicts[k]!.size) }));
    const nd = this.numCols.length, raw = this.nums.view();
    const dense = nd ? new Float32Array(rows * nd) : undefined;
    // Standardize numeric features (mean 0, std 1) so one learning rate suits them all.
    for (let k = 0; k < nd; k++) {
      let mean = 0, sd = 0;
      for (let r = 0; r < rows; r++) mean += raw[r * nd + k]! / rows;
      for (let r = 0; r < rows; r++) sd += (raw[r * nd + k]! - mean) ** 2 / rows;
      if (!Number.isFinite(mean) || !Number.isFinite(sd)) throw new DataError(`${file}: numeric column '${schema.numeric![k]}' cannot be standardized: ` +
        `its values overflow (mean ${mean}, variance ${sd}); rescale the column`);
      for (let r = 0; r < rows; r++) dense![r * nd + k] = (raw[r * nd + k]! - mean) / (Math.sqrt(sd) || 1);
    }
    let cohortNames: string[];
    const cohort = new Uint8Array(rows);
    if (schema.cohortQuantiles) {
      const q = schema.cohortQuantiles;
      const values = this.cohortNumbers.view();
      const sorted = Float64Array.from(values).sort();
      const cuts = Array.from({ length: q - 1 }, (_, i) => sorted[Math.floor(((i + 1) * rows) / q)]!);
      values.forEach((v, r) => { cohort[r] = cuts.filter((c) => v >= c).length; });
      cohortNames = Array.from({ length: q }, (_, i) => `${schema.cohort} q${i + 1}`);
    } else {
      const seen = [...this.cohortValues.keys()];
      if (seen.length > 255) throw new DataError(`${file}: cohort column '${schema.cohort}' has ${seen.length} values; at most 255 (use ` +
        `cohortQuantiles for numbers)`);
      const names = [...seen].sort();
      const remap = seen.map((v) => names.indexOf(v));
      const ids = this.cohortIds.view();
      for (let r = 0; r < rows; r++) cohort[r] = remap[ids[r]!]!;
      cohortNames = names.map((n) => `${schema.cohort}=${n}`);
    }
    const data: ClickData & { skipped: number } = {
      fields, ids: Uint32Array.from(this.ids.view()), labels: Uint8Array.from(this.labels.view()), cohort, cohortNames, rows, skipped,
      ...(dense ? { dense, denseFeatures: nd } : {}), ...(schema.cohortGroup ? { cohortGroup: schema.cohortGroup } : {}),
    };
    if (schema.cohortGroup) validateClickData(data, this.file); // the cohort must be constant along it
    return data;
  }
}

/** Splits text into lines (LF, CRLF or CR; a leading byte-order mark dropped) and feeds a CsvParser. */
export function parseCsv(text: string, schema: CsvSchema, opts: { file?: string; skipBadRows?: boolean } = {}): ClickData & { skipped: number } {
  const parser = new CsvParser(schema, opts);
  if (typeof text !== 'string') throw new DataError(`${opts.file ?? 'data.csv'}: expected the file's text, got ${typeof text}`);
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r\n|\r|\n/);
  lines.forEach((l, i) => parser.line(l, i + 1));
  return parser.finish();
}

/**
 * Reads a schema file and streams a data file through a CsvParser in chunks of `chunkBytes` (Node): the
 * file's text is never held whole. Line numbers, line endings, the byte-order mark and UTF-8 checks
 * behave exactly as parseCsv on the whole text.
 */
export async function loadCsv(dataFile: string, schemaFile: string, opts: { skipBadRows?: boolean;
  chunkBytes?: number } = {}): Promise<ClickData & { skipped: number }> {
  const name = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ name)) as {
    readFile(p: string): Promise<Uint8Array>;
    open(p: string, flags: string): Promise<{ read(b: Uint8Array, off: number, len: number,
      pos: number | null): Promise<{ bytesRead: number }>; close(): Promise<void> }>;
  };
  const cannot = (f: string, e: unknown) => new DataError(`cannot read ${f}: ${(e as Error).message.split('\n')[0]}`);
  let schemaBytes: Uint8Array;
  try { schemaBytes = await fs.readFile(schemaFile); } catch (e) { throw cannot(schemaFile, e); }
  let schema: unknown;
  try { schema = JSON.parse(decodeUtf8(schemaBytes, schemaFile)); } catch (e) { throw e instanceof DataError ? e : new DataError(`${schemaFile}: not ` +
    `valid JSON (${(e as Error).message})`); }
  const parser = new CsvParser(validateSchema(schema, schemaFile), { file: dataFile, skipBadRows: opts.skipBadRows });
  let handle: Awaited<ReturnType<typeof fs.open>>;
  try { handle = await fs.open(dataFile, 'r'); } catch (e) { throw cannot(dataFile, e); }
  try {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const buffer = new Uint8Array(opts.chunkBytes ?? 1 << 20);
    let carry = '', lineNo = 1, newlinesBefore = 0, first = true;
    for (;;) {
      let bytesRead: number;
      try { ({ bytesRead } = await handle.read(buffer, 0, buffer.length, null)); } catch (e) { throw cannot(dataFile, e); }
      const chunk = buffer.subarray(0, bytesRead);
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: bytesRead > 0 });
      } catch {
        const at = Math.max(0, firstInvalidUtf8(chunk));
        throw new DataError(`${dataFile}:${newlinesBefore + chunk.subarray(0, at).filter((b) => b === 10).length + 1}: not valid UTF-8 (a byte near ` +
          `offset ${at} of this chunk); convert the file to UTF-8`);
      }
      newlinesBefore += chunk.filter((b) => b === 10).length;
      if (first && text) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      carry += text;
      const end = bytesRead === 0;
      // A line is complete at its terminator, except a final CR, which may be the first half of a CRLF.
      const heldCr = !end && carry.endsWith('\r');
      const parts = (heldCr ? carry.slice(0, -1) : carry).split(/\r\n|\r|\n/);
      carry = end ? '' : `${parts.pop()!}${heldCr ? '\r' : ''}`;
      for (const l of parts) parser.line(l, lineNo++);
      if (end) break;
    }
  } finally {
    await handle.close();
  }
  return parser.finish();
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
