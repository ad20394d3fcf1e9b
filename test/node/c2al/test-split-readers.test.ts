/** Structurally (reading the source, so Node only): only testPredictions touches the sealed test rows, and only the experiment and the CLI's evaluation commands call it. */
import { expect, test } from 'vitest';

test('only testPredictions reads test rows; only the experiment and the CLI call it', async () => {
  const { readFile, readdir } = await import('node:fs/promises');
  const files = (await readdir('src', { recursive: true })).map(String).filter((f) => f.endsWith('.ts') && !f.endsWith('.gen.ts'));
  const callers: string[] = [];
  for (const f of files) {
    const text = await readFile(`src/${f}`, 'utf8');
    if (f !== 'c2al/test-split.ts' && /sealed\.(get|set|has)\(/.test(text)) callers.push(`${f} touches the sealed map`);
    if (/testPredictions\(/.test(text) && f !== 'c2al/test-split.ts') callers.push(f);
  }
  expect(callers.sort()).toEqual(['c2al/experiment.ts', 'cli/c2al.ts']);
  // The experiment reads it only after an arm's unit is finished (testUnit), never inside training or selection.
  const exp = await readFile('src/c2al/experiment.ts', 'utf8');
  expect(exp.match(/testPredictions\(/g)).toHaveLength(1);
  expect(exp.slice(exp.indexOf('const testUnit'), exp.indexOf('testPredictions('))).toMatch(/servingModel\(key, result\)/);
});
