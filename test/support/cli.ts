/** Running the c2al CLI (from source, through tsx) and PyTorch's Python as child processes, for the Node-only tests. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticClicks } from '../../src/data/synthetic.js';

export interface Run { code: number; stdout: string; stderr: string }

/** Runs `command args…` to completion, collecting its output. */
export function run(command: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...env } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr: stderr.trim() }));
  });
}

/** `c2al …` as a user runs it. */
export function c2al(...args: string[]): Promise<Run> {
  return run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args]);
}

/** A planted-world dataset written as a CSV with its schema (ids as strings, the cohort a column): {csv, schema}. */
export function plantedCsv(dir: string, rows: number): { csv: string; schema: string } {
  const d = syntheticClicks({ world: 'planted', rows, seed: 1 }), f = d.fields.length;
  const lines = [['click', ...d.fields.map((x) => x.name), 'cohort'].join(',')];
  for (let r = 0; r < d.rows; r++) {
    lines.push([d.labels[r], ...d.ids.subarray(r * f, r * f + f), d.cohortNames[d.cohort[r]!]!.replace('age ', '')].join(','));
  }
  const csv = join(dir, 'clicks.csv'), schema = join(dir, 'schema.json');
  writeFileSync(csv, `${lines.join('\n')}\n`);
  writeFileSync(schema, JSON.stringify({ label: 'click', categorical: d.fields.map((x) => x.name), cohort: 'cohort', cohortGroup: 'user' }));
  return { csv, schema };
}
