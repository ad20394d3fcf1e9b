#!/usr/bin/env node
// Fails when a source line outside the tests is longer than MAX characters (run by `npm test` before the
// suites). Exempt: the generated shader bundle, and the lines a multi-line template literal spans (the
// report's HTML, the benches' markdown), whose line breaks are part of the text they produce.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX = 160;
const files = execFileSync('git', ['ls-files', 'src', 'shaders', 'bench', 'scripts'], { encoding: 'utf8' })
  .split('\n').filter((f) => /\.(ts|mjs|wgsl|py|sh)$/.test(f) && !f.endsWith('.gen.ts'));
const long = [];
for (const file of files) {
  let inTemplate = false;
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    const startsInside = inTemplate;
    const ticks = /\.(ts|mjs)$/.test(file) ? line.replace(/\\`/g, '').split('`').length - 1 : 0;
    if (ticks % 2 === 1) inTemplate = !inTemplate;
    if (line.length > MAX && !startsInside && !inTemplate) long.push(`${file}:${i + 1}: ${line.length} characters`);
  });
}
if (long.length) {
  console.error(`${long.length} line(s) longer than ${MAX} characters:\n  ${long.join('\n  ')}`);
  process.exit(1);
}
