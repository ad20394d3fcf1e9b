import { expect, test } from 'vitest';
import { CpuBackend } from '../../src/index.js';
import { parseCsv, validateSchema } from '../../src/data/csv.js';
import { DataError } from '../../src/data/schema.js';
import { runExperiment } from '../../src/c2al/experiment.js';
import { mulberry32 } from '../../src/random.js';
import { gpu } from '../support/gpu.js';

const schema = validateSchema({ label: 'clicked', categorical: ['user', 'item'], numeric: ['price'], cohort: 'age_group' });
const csv = 'user,item,price,age_group,clicked\nu1,i1,10,young,1\nu2,i1,20,old,0\nu1,i2,30,young,0\n';

test('CSV rows become click data: dictionary ids, standardized numerics, cohorts', () => {
  const d = parseCsv(csv, schema, { file: 'clicks.csv' });
  expect(d.rows).toBe(3);
  expect(d.fields).toEqual([{ name: 'user', vocab: 2 }, { name: 'item', vocab: 2 }]);
  expect(Array.from(d.ids)).toEqual([0, 0, 1, 0, 0, 1]);
  expect(Array.from(d.labels)).toEqual([1, 0, 0]);
  expect(d.denseFeatures).toBe(1);
  expect(Array.from(d.dense!)).toEqual([-1, 0, 1].map((z) => Math.fround(z * Math.sqrt(1.5))));
  expect(d.cohortNames).toEqual(['age_group=old', 'age_group=young']);
  expect(Array.from(d.cohort)).toEqual([1, 0, 1]);
  const hashed = parseCsv(csv, { ...schema, hashBuckets: { user: 7 } });
  expect(hashed.fields[0]).toEqual({ name: 'user', vocab: 7 });
  expect(hashed.ids[0]).toBe(hashed.ids[4]); // u1 hashes the same both times
  const quantiles = parseCsv(csv, { ...schema, cohort: 'price', cohortQuantiles: 3 });
  expect(Array.from(quantiles.cohort)).toEqual([0, 1, 2]);
  expect(parseCsv(csv.replace(/,/g, '\t'), { ...schema, delimiter: '\t' }).rows).toBe(3);
});

test('malformed CSV rows name the file and the line (the header is line 1), or are skipped and counted', () => {
  const bad = `${csv}u3,i1,40,old\nu3,i1,abc,old,1\nu3,i1,5,old,2\nu3,i1,Infinity,old,1\n`;
  expect(() => parseCsv(bad, schema, { file: 'clicks.csv' })).toThrow(/clicks.csv:5: expected 5 columns, got 4/);
  expect(() => parseCsv(`${csv}u3,i1,abc,old,1\n`, schema, { file: 'c.csv' })).toThrow(/c.csv:5: numeric column 'price' must be a finite number, got 'abc'/);
  expect(() => parseCsv(`${csv}u3,i1,5,old,2\n`, schema, { file: 'c.csv' })).toThrow(/c.csv:5: label 'clicked' must be 0 or 1, got '2'/);
  expect(() => parseCsv(`${csv}u3,i1,Infinity,old,1\n`, schema)).toThrow(DataError);
  const skipping = parseCsv(bad, schema, { skipBadRows: true });
  expect(skipping.rows).toBe(3);
  expect(skipping.skipped).toBe(4);
  expect(() => parseCsv(csv, { ...schema, categorical: ['user', 'shop'] }, { file: 'c.csv' })).toThrow(/c.csv:1: column 'shop' named by the schema is not in the header/);
  expect(() => validateSchema({ ...schema, labels: 'x' }, 'schema.json')).toThrow(/schema.json: unknown key 'labels'/);
  expect(() => validateSchema({ categorical: ['a'], cohort: 'b' })).toThrow(/"label" must name the label column/);
});

test('a schema\'s cohortGroup names the column the cohort is constant along, and is refused when it is not', () => {
  const grouped = parseCsv(csv, { ...schema, cohortGroup: 'user' });
  expect(grouped.cohortGroup).toBe('user');
  expect(() => validateSchema({ ...schema, cohortGroup: 'shop' }, 'schema.json')).toThrow(/schema.json: "cohortGroup" must name a categorical column \(user, item\), got "shop"/);
  expect(() => validateSchema({ ...schema, cohortGroup: 3 }, 'schema.json')).toThrow(/"cohortGroup" must name a categorical column/);
  // Item i1 is seen by a young and an old user: the cohort is not constant along item.
  expect(() => parseCsv(csv, { ...schema, cohortGroup: 'item' }, { file: 'c.csv' })).toThrow(/c.csv: the cohort is not constant along cohortGroup 'item': row 1 has cohort age_group=old/);
  // u1 turning old in a later row breaks the user grouping too.
  expect(() => parseCsv(`${csv}u1,i2,5,old,1\n`, { ...schema, cohortGroup: 'user' })).toThrow(/not constant along cohortGroup 'user': row 3/);
});

test('an experiment runs on CSV data with a dense feature', async () => {
  const next = mulberry32(4);
  const lines = ['user,item,price,segment,clicked'];
  for (let i = 0; i < 3000; i++) {
    const seg = next() < 0.7 ? 'a' : next() < 0.5 ? 'b' : 'c', price = Math.floor(next() * 100);
    const p = seg === 'a' ? 0.2 : seg === 'b' ? 0.6 : price / 100;
    lines.push(`u${Math.floor(next() * 50)},i${Math.floor(next() * 30)},${price},${seg},${next() < p ? 1 : 0}`);
  }
  const data = parseCsv(lines.join('\n'), validateSchema({ label: 'clicked', categorical: ['user', 'item'], numeric: ['price'], cohort: 'segment' }));
  const r = await runExperiment(data, gpu ?? new CpuBackend('f64'), { seeds: 2, maxEpochs: 1, patience: 1, permutations: 10, bootstrap: 20, arms: ['baseline', 'c2al'], hyper: { batch: 256 } });
  expect(r.cohorts.map((c) => c.name)).toEqual(['segment=a', 'segment=b', 'segment=c']);
  expect(Number.isFinite(r.overall.ne.c2al!.mean)).toBe(true);
  expect(r.discovery.truth).toBeUndefined();
});

