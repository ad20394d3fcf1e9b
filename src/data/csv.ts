/**
 * A CSV/TSV loader driven by a JSON schema:
 *   {"label": "clicked", "categorical": ["user", "item"], "numeric": ["price"], "cohort": "age_group",
 *    "delimiter": ",", "header": true, "hashBuckets": {"user": 100000}, "cohortQuantiles": 4}
 * Categorical values get dense ids in order of first appearance (or a hash into `hashBuckets[column]`
 * buckets); numeric columns become dense features (standardized by their mean and std); the cohort column
 * is categorical, or bucketed into `cohortQuantiles` quantiles when numeric. Labels must be 0 or 1.
 * A malformed row (wrong column count, bad label, non-numeric or non-finite number) is an error naming
 * the file and the line (the header is line 1), or is skipped and counted with skipBadRows.
 * The whole file is parsed in memory (no streaming yet).
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
  if (!s || typeof s !== 'object') throw new DataError(`${file}: the schema must be a JSON object`);
  const unknown = Object.keys(s).filter((k) => !SCHEMA_KEYS.includes(k));
  if (unknown.length) throw new DataError(`${file}: unknown key ${unknown.map((k) => `'${k}'`).join(', ')} (allowed: ${SCHEMA_KEYS.join(', ')})`);
  if (typeof s.label !== 'string') throw new DataError(`${file}: "label" must name the label column`);
  if (!Array.isArray(s.categorical) || s.categorical.length === 0) throw new DataError(`${file}: "categorical" must list at least one column`);
  if (typeof s.cohort !== 'string') throw new DataError(`${file}: "cohort" must name the cohort column`);
  return s;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export function parseCsv(text: string, schema: CsvSchema, opts: { file?: string; skipBadRows?: boolean } = {}): ClickData & { skipped: number } {
  const file = opts.file ?? 'data.csv';
  const delim = schema.delimiter ?? (file.endsWith('.tsv') ? '\t' : ',');
  const rawLines = text.split(/\r?\n/);
  if (rawLines[rawLines.length - 1] === '') rawLines.pop();
  const header = schema.header !== false;
  const columns = header ? rawLines[0]!.split(delim).map((c) => c.trim()) : rawLines[0]!.split(delim).map((_, i) => `c${i}`);
  const col = (name: string): number => {
    const i = columns.indexOf(name);
    if (i < 0) throw new DataError(`${file}:1: column '${name}' named by the schema is not in the header (${columns.join(', ')})`);
    return i;
  };
  const labelCol = col(schema.label), catCols = schema.categorical.map(col), numCols = (schema.numeric ?? []).map(col), cohortCol = col(schema.cohort);
  const dicts = schema.categorical.map(() => new Map<string, number>());
  const good: { cats: number[]; nums: number[]; label: number; cohort: string }[] = [];
  let skipped = 0;
  for (let i = header ? 1 : 0; i < rawLines.length; i++) {
    const line = i + 1, parts = rawLines[i]!.split(delim);
    try {
      if (parts.length !== columns.length) throw new DataError(`${file}:${line}: expected ${columns.length} columns, got ${parts.length}`);
      const labelText = parts[labelCol]!.trim();
      if (labelText !== '0' && labelText !== '1') throw new DataError(`${file}:${line}: label '${schema.label}' must be 0 or 1, got '${labelText}'`);
      const nums = numCols.map((c, k) => {
        const v = Number(parts[c]!.trim());
        if (parts[c]!.trim() === '' || !Number.isFinite(v)) throw new DataError(`${file}:${line}: numeric column '${schema.numeric![k]}' must be a finite number, got '${parts[c]}'`);
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
  const fs = (await import(/* @vite-ignore */ name)) as { readFile(p: string, enc: string): Promise<string> };
  const read = async (f: string): Promise<string> => {
    try { return await fs.readFile(f, 'utf8'); } catch (e) { throw new DataError(`cannot read ${f}: ${(e as Error).message.split('\n')[0]}`); }
  };
  let schema: unknown;
  try { schema = JSON.parse(await read(schemaFile)); } catch (e) { throw e instanceof DataError ? e : new DataError(`${schemaFile}: not valid JSON (${(e as Error).message})`); }
  return parseCsv(await read(dataFile), validateSchema(schema, schemaFile), { file: dataFile, skipBadRows: opts.skipBadRows });
}
