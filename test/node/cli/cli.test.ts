/**
 * The c2al CLI as users run it (Node only): train → evaluate → discover on saved checkpoints, and user
 * errors as one line with exit code 2 and no stack trace.
 */
import { describe, expect, test } from 'vitest';

interface Run { code: number; stdout: string; stderr: string }

async function c2al(...args: string[]): Promise<Run> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr: stderr.trim() }));
  });
}

describe('c2al CLI', () => {
  test('train saves checkpoints; evaluate and discover read them back', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const out = await mkdtemp(`${tmpdir()}/c2al-cli-`);
    const data = ['--rows', '3000'];
    const trained = await c2al('train', '--method', 'c2al', ...data, '--steps', '6', '--batch', '256', '--aux-cohorts', 'age 55+,age 18-24', '--lambda-head', '0.2', '--out', out, '--json');
    expect(trained.stderr).toBe('');
    expect(trained.code).toBe(0);
    const t = JSON.parse(trained.stdout) as { method: string; aux: { cohort: string; lambda: number }[]; test: { name: string; ne: { mean: number } }[] };
    expect(t.method).toBe('c2al');
    expect(t.aux).toEqual([{ cohort: 'age 55+', lambda: 0.2 }, { cohort: 'age 18-24', lambda: 0.5 }]);
    expect(t.test.map((r) => r.name)[0]).toBe('overall');
    const base = await c2al('train', ...data, '--steps', '6', '--batch', '256', '--out', out, '--json');
    expect(base.code).toBe(0);
    // A run folder with both models: NE per cohort of each, and the change.
    const ev = await c2al('evaluate', '--checkpoint', out, ...data, '--json');
    expect(ev.stderr).toBe('');
    const e = JSON.parse(ev.stdout) as { models: { checkpoint: string; cohorts: { name: string; ne: { mean: number } }[] }[]; change: { name: string; change: number }[] };
    expect(e.models.map((m) => m.checkpoint.split('/').pop())).toEqual(['baseline', 'c2al-inference']);
    expect(e.models[1]!.cohorts[0]!.ne.mean).toBeCloseTo(t.test[0]!.ne.mean, 6); // the saved serving model predicts what training measured
    expect(e.change).toHaveLength(6);
    const disc = await c2al('discover', '--checkpoint', `${out}/baseline`, ...data, '--json', '--aux-cohorts', '3');
    const d = JSON.parse(disc.stdout) as { head: string; tail: string; matrix: number[][]; aux: string[] };
    expect(d.matrix).toHaveLength(5);
    expect(d.aux.slice(0, 2)).toEqual([d.head, d.tail]);
    expect(d.aux).toHaveLength(3);
    // The same checkpoint on data with other fields is refused, naming both.
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${out}/clicks.csv`, `user,item,age,clicked\n${Array.from({ length: 40 }, (_, i) => `u${i % 7},i${i % 5},${i % 2 ? 'young' : 'old'},${i % 3 ? 0 : 1}`).join('\n')}\n`);
    await writeFile(`${out}/schema.json`, JSON.stringify({ label: 'clicked', categorical: ['user', 'item'], cohort: 'age' }));
    const wrong = await c2al('evaluate', '--checkpoint', `${out}/baseline`, '--data', `csv:${out}/clicks.csv`, '--schema', `${out}/schema.json`);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/baseline was trained on fields \[\["user",500\],.*but the data has \[\["user",7\],\["item",5\]/);
    const text = await c2al('evaluate', '--checkpoint', `${out}/c2al-train/model.safetensors`, ...data);
    expect(text.stdout).toMatch(/overall\s+100\.0%\s+\d\.\d{4} ± 0\.0000/);
  });

  test('train --checkpoint-every saves resumable states; --resume continues to the uninterrupted weights', async () => {
    const { mkdtemp, readFile, readdir } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const [whole, parts] = [await mkdtemp(`${tmpdir()}/c2al-whole-`), await mkdtemp(`${tmpdir()}/c2al-parts-`)];
    const common = ['--rows', '3000', '--batch', '128', '--json'];
    expect((await c2al('train', ...common, '--steps', '12', '--out', whole)).code).toBe(0);
    expect((await c2al('train', ...common, '--steps', '8', '--checkpoint-every', '4', '--out', parts)).code).toBe(0);
    expect((await readdir(`${parts}/train-state/seed-1`)).sort()).toEqual(['latest.json', 'step-00000004', 'step-00000008']);
    const resumed = await c2al('train', ...common, '--steps', '12', '--checkpoint-every', '4', '--resume', parts);
    expect(resumed.stderr).toBe('');
    expect(JSON.parse(await readFile(`${parts}/train-state/seed-1/latest.json`, 'utf8'))).toEqual({ step: 12, folder: 'step-00000012' });
    expect(Buffer.compare(await readFile(`${whole}/baseline/model.safetensors`), await readFile(`${parts}/baseline/model.safetensors`))).toBe(0);
    const missing = await c2al('train', ...common, '--steps', '12', '--resume', `${parts}/nothing-here`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--resume .*nothing-here: no such run folder$/);
  });

  test('profile writes a Chrome trace and reports its overhead', async () => {
    const { mkdtemp, readFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const trace = `${await mkdtemp(`${tmpdir()}/c2al-profile-`)}/step.trace.json`;
    const r = await c2al('profile', '--steps', '2', '--batch', '64', '--trace', trace, '--json');
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as { kernels: unknown[]; dispatches: number; overhead: number; summary: { phases: { phase: string }[] }; peaks: { gflops: number } };
    expect(report.kernels).toHaveLength(report.dispatches);
    expect(report.summary.phases.map((p) => p.phase)).toEqual(['forward', 'backward', 'optimizer']);
    expect(report.peaks.gflops).toBeGreaterThan(0);
    const events = (JSON.parse(await readFile(trace, 'utf8')) as { traceEvents: { ph: string }[] }).traceEvents;
    expect(events.filter((e) => e.ph === 'X')).toHaveLength(report.dispatches);
  });

  test('what a command prints is its own: no Dawn warnings reach stderr (they are filtered by line), everything else does', async () => {
    const doctor = await c2al('doctor');
    expect(doctor.code).toBe(0);
    expect(doctor.stderr).toBe('');
    expect(doctor.stdout).toMatch(/status\s+ready/);
    const { filterLines } = await import('../../../src/cli/quiet-stderr.js');
    const { PassThrough } = await import('node:stream');
    const from = new PassThrough(), to = new PassThrough();
    let out = '';
    to.on('data', (d: Buffer) => { out += d; });
    const done = filterLines(from, to);
    from.write('first line\nWarning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dyn');
    from.write('amic offset allocation limit.\nWarning: something else\n');
    from.end('Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 500000 to 16 to fit dynamic offset allocation limit.\nlast, unterminated');
    await done;
    expect(out).toBe('first line\nWarning: something else\nlast, unterminated');
  });

  test('user errors: one line on stderr, exit code 2, no stack trace (--verbose shows it)', async () => {
    const cases: [string[], RegExp][] = [
      [['train', '--lambda=-1'], /^c2al: --lambda must be a number >= 0 \(or a comma-separated list\), got '-1'$/],
      [['experiment', '--select', 'best'], /^c2al: --select must be one of divergence, random, got 'best'$/],
      [['train', '--steps', '10', '--epochs', '2'], /^c2al: --steps and --epochs exclude each other$/],
      [['experiment', '--steps', '0'], /^c2al: --steps must be a positive integer, got '0'$/],
      [['experiment', '--steps', '-5'], /^c2al: --steps must be a positive integer, got '-5'$/],
      [['train', '--bogus'], /^c2al: Unknown option '--bogus'.* \(c2al --help lists the options\)$/],
      [['evaluate', '--rows', '100'], /^c2al: evaluate needs --checkpoint FILE_OR_DIR/],
      [['evaluate', '--checkpoint', '/nonexistent/run', '--rows', '100'], /^c2al: \/nonexistent\/run: no such file or folder$/],
      [['train', '--method', 'c2al', '--rows', '500', '--steps', '1', '--aux-cohorts', 'age 99+'], /^c2al: unknown cohort age 99\+; the cohorts are age 25-34, /],
      [['experiment', '--data', 'csv:/nonexistent.csv'], /^c2al: --data csv:FILE needs --schema FILE$/],
    ];
    for (const [args, message] of cases) {
      const r = await c2al(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.split('\n'), args.join(' ')).toHaveLength(1);
    }
    const verbose = await c2al('evaluate', '--checkpoint', '/nonexistent/run', '--rows', '100', '--verbose');
    expect(verbose.code).toBe(2);
    expect(verbose.stderr).toMatch(/CheckpointError: \/nonexistent\/run: no such file or folder\n\s+at /);
  });
});
