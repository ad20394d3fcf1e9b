/**
 * The portable bundle (scripts/bundle.mjs, `npm run bundle`) as a GPU box without Node would use it: built
 * and compressed, extracted into a clean folder, then its launchers run with a PATH that has no node.
 */
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The environment of a machine without Node: no PATH to a node, only the Vulkan and Dawn choices kept. */
function bareEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: '/nonexistent', HOME: tmpdir(), XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() };
  for (const k of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'C2AL_DAWN', 'LP_NUM_THREADS']) if (process.env[k]) env[k] = process.env[k];
  return env;
}

describe('portable bundle', () => {
  test('the extracted bundle runs doctor and a 2-step train without a node on PATH', { timeout: 600_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'c2al-bundle-'));
    const built = spawnSync(process.execPath, ['scripts/bundle.mjs', '--out', out], { encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    const archive = built.stdout.trim();
    expect(archive).toBe(join(out, 'c2al-linux-x64.tar.xz'));
    expect(statSync(archive).size).toBeLessThanOrEqual(45 * 2 ** 20);

    const clean = mkdtempSync(join(tmpdir(), 'c2al-extracted-'));
    expect(spawnSync('tar', ['-xJf', archive, '-C', clean]).status).toBe(0);
    const dir = join(clean, 'c2al-linux-x64');
    for (const f of ['c2al', 'bench-train', 'bin/node', 'README.md', 'app/node_modules/webgpu/dist/linux-x64/dawn.node', 'app/bench/train_torch.py'])
      expect(existsSync(join(dir, f)), f).toBe(true);
    // Only the linux-x64 Dawn travels.
    expect(existsSync(join(dir, 'app/node_modules/webgpu/dist/win32-x64'))).toBe(false);

    const env = bareEnv();
    expect(spawnSync('/bin/sh', ['-c', 'command -v node'], { env }).status).not.toBe(0);
    const doctor = spawnSync('/bin/sh', [join(dir, 'c2al'), 'doctor', '--json'], { env, encoding: 'utf8', cwd: clean });
    expect(doctor.status, doctor.stderr).toBe(0);
    const d = JSON.parse(doctor.stdout) as { node: string; adapter: { description: string } };
    expect(d.node).toBe(process.version);
    expect(d.adapter.description.length).toBeGreaterThan(0);

    // Run from inside the folder as `./c2al` too: the launcher finds itself either way.
    const train = spawnSync('/bin/sh', ['./c2al', 'train', '--steps', '2', '--rows', '2000', '--batch', '256', '--out', join(clean, 'run'), '--json'],
      { env, encoding: 'utf8', cwd: dir });
    expect(train.status, train.stderr).toBe(0);
    const t = JSON.parse(train.stdout) as { method: string; test: { name: string; ne: { mean: number } }[] };
    expect(t.method).toBe('baseline');
    expect(t.test[0]!.name).toBe('overall');
    expect(Number.isFinite(t.test[0]!.ne.mean)).toBe(true);

    // The bundle exports to PyTorch as the package does (its torch/ sources travel with it).
    const exported = spawnSync('/bin/sh', ['./c2al', 'export', '--checkpoint', join(clean, 'run', 'baseline'), '--torch', join(clean, 'torch')],
      { env, encoding: 'utf8', cwd: dir });
    expect(exported.status, exported.stderr).toBe(0);
    expect(existsSync(join(clean, 'torch', 'train_c2al.py'))).toBe(true);
  });
});
