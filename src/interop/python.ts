/**
 * The Python that runs the PyTorch side of the interop (export's scripts, crosscheck, the agreement and
 * DDP tests): C2AL_PYTHON when set, else Debian's /usr/bin/python3 (a pyenv `python3` earlier on PATH
 * often has no torch), else `python3`. torchWhyNot() says in one line why torch cannot be used.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function pythonPath(): string {
  return process.env.C2AL_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

/** null when `import torch` works; otherwise what failed and how to install it. */
export function torchWhyNot(python = pythonPath()): string | null {
  const r = spawnSync(python, ['-c', 'import torch, torch.distributed; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const why = r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
  return `${python} cannot import torch (${why}); install it with: apt-get install -y python3-torch (Debian), or set C2AL_PYTHON`;
}

/** The folder of the PyTorch sources (model.py, train_c2al.py, crosscheck.py) shipped with the package. */
export function torchSourceDir(): string {
  // torch/ sits at the package root: three levels up from dist/src/interop, two from src/interop.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../..', '../..']) {
    const dir = join(here, up, 'torch');
    if (existsSync(join(dir, 'model.py'))) return dir;
  }
  throw new Error(`the PyTorch sources (torch/model.py) are not beside this package (looked above ${here})`);
}
