/**
 * The c2al CLI as users run it (Node only): train → evaluate → discover on saved checkpoints, and user
 * errors as one line with exit code 2 and no stack trace.
 */
import { describe, expect, test } from 'vitest';
import { c2al } from '../../support/cli.js';

describe('c2al CLI', () => {
  test('train saves checkpoints; evaluate and discover read them back', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const out = await mkdtemp(`${tmpdir()}/c2al-cli-`);
    const data = ['--rows', '3000'];
    const trained = await c2al('train', '--method', 'c2al', ...data, '--steps', '6', '--batch', '256', '--aux-cohorts', 'age 55+,age 18-24', '--lambda', '0.2', '--out', out, '--json');
    expect(trained.stderr).toBe('');
    expect(trained.code).toBe(0);
    const t = JSON.parse(trained.stdout) as { method: string; aux: { cohort: string; lambda: number }[]; test: { name: string; ne: { mean: number } }[] };
    expect(t.method).toBe('c2al');
    expect(t.aux).toEqual([{ cohort: 'age 55+', lambda: 0.2 }, { cohort: 'age 18-24', lambda: 0.2 }]);
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
    expect(wrong.stderr).toMatch(/baseline was trained on fields \[\["user",2000\],.*but the data has \[\["user",7\],\["item",5\]/);
    const text = await c2al('evaluate', '--checkpoint', `${out}/c2al-train/model.safetensors`, ...data);
    expect(text.stdout).toMatch(/overall\s+100\.0%\s+\d\.\d{4} ± 0\.0000/);
  });

  test('train saves a state at every validation; after a kill, --resume continues to the uninterrupted weights', async () => {
    const { mkdtemp, readFile } = await import('node:fs/promises');
    const { existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { spawn } = await import('node:child_process');
    const [whole, parts] = [await mkdtemp(`${tmpdir()}/c2al-whole-`), await mkdtemp(`${tmpdir()}/c2al-parts-`)];
    const common = ['--rows', '3000', '--batch', '128', '--dim', '8', '--max-epochs', '3', '--patience', '3', '--json'];
    expect((await c2al('train', ...common, '--out', whole)).code).toBe(0);
    // SIGKILL once the first validation's state is on disk.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'train', ...common, '--out', parts], { stdio: 'ignore' });
    const state = `${parts}/train-state/seed-1/latest.json`;
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (existsSync(state)) { clearInterval(t); child.kill('SIGKILL'); resolve(); } }, 20); });
    await new Promise((resolve) => child.on('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 1200)); // the orphaned command process notices and stops
    expect(JSON.parse(await readFile(state, 'utf8')).step).toBeLessThan(3 * 18);
    const resumed = await c2al('train', ...common, '--resume', parts);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(Buffer.compare(await readFile(`${whole}/baseline/model.safetensors`), await readFile(`${parts}/baseline/model.safetensors`))).toBe(0);
    const missing = await c2al('train', ...common, '--resume', `${parts}/nothing-here`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--resume .*nothing-here: no such run folder$/);
  });

  test('experiment --resume after two kills at different points gives the uninterrupted numbers; another configuration is refused', async () => {
    const { mkdtemp, readFile, readdir } = await import('node:fs/promises');
    const { existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { spawn } = await import('node:child_process');
    const common = ['experiment', '--rows', '3000', '--seeds', '2', '--max-epochs', '2', '--patience', '1', '--arms', 'baseline,c2al', '--permutations', '20', '--dim', '8', '--batch', '256', '--json'];
    const [whole, parts] = [`${await mkdtemp(`${tmpdir()}/c2al-exp-`)}/run`, `${await mkdtemp(`${tmpdir()}/c2al-exp-`)}/run`];
    const a = await c2al(...common, '--out', whole);
    expect(a.code).toBe(0);
    const results = async () => (existsSync(`${parts}/runs`) ? (await readdir(`${parts}/runs`, { recursive: true })).filter((f) => String(f).endsWith('result.json')).length : 0);
    for (const [flags, after] of [[['--out', parts], 1], [['--resume', parts], 4]] as const) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...common, ...flags], { stdio: 'ignore' });
      await new Promise<void>((resolve) => { const t = setInterval(() => { void results().then((n) => { if (n >= after) { clearInterval(t); child.kill('SIGKILL'); resolve(); } }); }, 50); });
      await new Promise((resolve) => child.on('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, 1200)); // the orphaned command process notices and stops
    }
    expect(existsSync(`${parts}/metrics.json`)).toBe(false);
    const b = await c2al(...common, '--resume', parts);
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    type Report = Record<string, unknown> & { arms: { perSeed: Record<string, unknown>[] }[] };
    const [ra, rb] = [JSON.parse(a.stdout) as Report, JSON.parse(b.stdout) as Report];
    const strip = (r: Report) => ({ ...r, seconds: 0, out: 0, report: 0, inference: 0, curves: 0, arms: r.arms.map((x) => ({ ...x, perSeed: x.perSeed.map((s) => ({ ...s, seconds: 0 })) })) });
    expect(strip(rb)).toEqual(strip(ra));
    expect(JSON.parse(await readFile(`${parts}/metrics.json`, 'utf8')).overall).toEqual(ra.overall);
    // The same folder with other options or data is refused, naming what differs.
    const other = await c2al(...common.map((x) => (x === '2' ? '3' : x)), '--resume', parts);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/^c2al: --resume .*: that run used another protocol/);
    const data = await c2al(...common.map((x) => (x === '3000' ? '3500' : x)), '--resume', parts);
    expect(data.stderr).toMatch(/that run used another data/);
    const fresh = await c2al(...common, '--out', parts);
    expect(fresh.stderr).toMatch(/already holds an experiment; pass --resume/);
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

  test('CSV data: a cohortGroup that names no column, or a cohort axis with one cohort, is refused before training', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/c2al-csv-`);
    await writeFile(`${dir}/clicks.csv`, 'user,item,age,clicked\n' + Array.from({ length: 200 }, (_, i) => `u${i % 20},i${i % 7},adult,${i % 3 === 0 ? 1 : 0}`).join('\n'));
    await writeFile(`${dir}/grouped.json`, JSON.stringify({ label: 'clicked', categorical: ['user', 'item'], cohort: 'age', cohortGroup: 'household' }));
    await writeFile(`${dir}/plain.json`, JSON.stringify({ label: 'clicked', categorical: ['user', 'item'], cohort: 'age' }));
    const noColumn = await c2al('experiment', '--data', `csv:${dir}/clicks.csv`, '--schema', `${dir}/grouped.json`);
    expect(noColumn.code).toBe(2);
    expect(noColumn.stderr).toMatch(/^c2al: .*grouped.json: "cohortGroup" must name a categorical column \(user, item\), got "household"$/);
    const oneCohort = await c2al('experiment', '--data', `csv:${dir}/clicks.csv`, '--schema', `${dir}/plain.json`, '--out', `${dir}/run`);
    expect(oneCohort.code).toBe(2);
    expect(oneCohort.stderr).toMatch(/^c2al: the cohort axis has one cohort \(age=adult\); C2AL needs at least two$/);
    const { existsSync } = await import('node:fs');
    expect(existsSync(`${dir}/run`)).toBe(false); // refused before the run folder is made
  });

  test('user errors: one line on stderr, exit code 2, no stack trace (--verbose shows it)', async () => {
    const cases: [string[], RegExp][] = [
      [['train', '--lambda=-1'], /^c2al: --lambda must be a number >= 0 \(or a comma-separated list of them\), got '-1'$/],
      [['experiment', '--lambda', '0.1,x'], /^c2al: --lambda must be a number >= 0 \(or a comma-separated list of them\), got 'x'$/],
      [['experiment', '--lambda', '0.1,'], /^c2al: --lambda must be a comma-separated list of numbers, got '0.1,'$/],
      [['experiment', '--patience', '0'], /^c2al: --patience must be a positive integer, got '0'$/],
      [['experiment', '--max-epochs', '-2'], /^c2al: --max-epochs must be a positive integer, got '-2'$/],
      [['experiment', '--arms', 'baseline,magic'], /^c2al: --arms must be one of baseline, c2al, random, reweight, duplicate, got 'magic'$/],
      [['experiment', '--arms', 'c2al'], /^c2al: --arms must include baseline/],
      [['experiment', '--tune-lr', ''], /^c2al: --tune-lr must be a comma-separated list of numbers, got ''$/],
      [['experiment', '--world', 'flat'], /^c2al: --world must be one of planted, null, legacy, got 'flat'$/],
      [['experiment', '--permutations', '0'], /^c2al: --permutations must be a positive integer, got '0'$/],
      [['experiment', '--schedule', 'linear'], /^c2al: --schedule must be one of cosine, step, constant, got 'linear'$/],
      [['experiment', '--protocol', 'thorough'], /^c2al: --protocol must be one of quick, full, got 'thorough'$/],
      [['train', '--capture', '--no-capture'], /^c2al: --capture and --no-capture exclude each other$/],
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
