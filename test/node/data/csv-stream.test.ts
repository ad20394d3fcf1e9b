/** loadCsv streaming a file in chunks (Node: a file system), against parseCsv on the whole text. */
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { loadCsv, parseCsv, validateSchema } from '../../../src/data/csv.js';

test('loadCsv streams the file in chunks and parses exactly what parseCsv parses from the whole text', async () => {
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(`${tmpdir()}/c2al-stream-`);
  await writeFile(`${dir}/schema.json`, JSON.stringify({ label: 'clicked', categorical: ['user', 'item'], numeric: ['price'], cohort: 'segment' }));
  const schemaObj = validateSchema({ label: 'clicked', categorical: ['user', 'item'], numeric: ['price'], cohort: 'segment' });
  const outcome = (fn: () => unknown) => { try { return { ok: fn() }; } catch (e) { return { error: (e as Error).message } }; };
  const cell = fc.constantFrom('a', 'b', 'é', '日本', '🙂', 'x y', '', '7');
  const row = fc.tuple(cell, cell, fc.oneof(fc.integer({ min: -99, max: 99 }).map(String), fc.constantFrom('1e3', 'x', '')), fc.constantFrom('young', 'old', 'mid'), fc.constantFrom('0', '1', '2'));
  await fc.assert(fc.asyncProperty(
    fc.array(row, { minLength: 1, maxLength: 14 }), fc.constantFrom('\n', '\r\n', '\r'), fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 40 }), fc.boolean(),
    async (rows, eol, bom, blank, chunkBytes, skipBadRows) => {
      const lines = ['user,item,price,segment,clicked', ...rows.map((r) => r.join(','))];
      if (blank) lines.splice(2, 0, '');
      const text = `${bom ? '\ufeff' : ''}${lines.join(eol)}${eol}`;
      await writeFile(`${dir}/data.csv`, text);
      const whole = outcome(() => parseCsv(text, schemaObj, { file: `${dir}/data.csv`, skipBadRows }));
      let streamed: { ok?: unknown; error?: string };
      try { streamed = { ok: await loadCsv(`${dir}/data.csv`, `${dir}/schema.json`, { skipBadRows, chunkBytes }) }; } catch (e) { streamed = { error: (e as Error).message }; }
      expect(streamed).toEqual(whole);
    }), { numRuns: 150 });
  // Invalid UTF-8 is refused with the line it sits on, wherever the chunks split it.
  await writeFile(`${dir}/latin1.csv`, Uint8Array.from([...Buffer.from('user,item,price,segment,clicked\nu,i,1,old,1\nu,'), 0xe9, ...Buffer.from(',2,old,0\n')]));
  for (const chunkBytes of [3, 7, 1 << 20]) {
    await expect(loadCsv(`${dir}/latin1.csv`, `${dir}/schema.json`, { chunkBytes })).rejects.toThrow(/latin1\.csv:3: not valid UTF-8/);
  }
});
