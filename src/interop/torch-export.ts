/**
 * `c2al export --checkpoint DIR --torch OUT_DIR`: a checkpoint folder (config.json + model.safetensors)
 * as a PyTorch project: model.py (DhenModel, no dependency on this package), train_c2al.py (the C2AL
 * objective, one process or torchrun + DDP), crosscheck.py, the checkpoint's own config.json and
 * model.safetensors, and a README with the commands. Everything is checked before anything is written: a
 * folder that is not a checkpoint, or a config this exporter cannot build, leaves OUT_DIR untouched.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, decodeSafetensors } from '../nn/checkpoint.js';
import { validateConfig, type DhenConfig } from '../nn/dhen.js';
import { torchSourceDir } from './python.js';

export const TORCH_FILES = ['model.py', 'train_c2al.py', 'crosscheck.py'] as const;

export interface ExportResult { out: string; files: string[]; tensors: number; config: DhenConfig }

/** Reads and checks a checkpoint folder: its config builds a DHEN and its weights are a readable safetensors file. */
export function readCheckpointFolder(dir: string): { config: DhenConfig; tensors: number } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CheckpointError(`${dir}: not a checkpoint folder (no such folder)`);
  const configPath = join(dir, 'config.json'), weightsPath = join(dir, 'model.safetensors');
  for (const p of [configPath, weightsPath]) {
    if (!existsSync(p)) throw new CheckpointError(`${dir}: not a checkpoint folder (no ${p.slice(dir.length + 1)}; a checkpoint holds config.json and ` +
      `model.safetensors)`);
  }
  let config: DhenConfig;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8')) as DhenConfig;
  } catch (e) {
    throw new CheckpointError(`${configPath}: ${(e as Error).message}`);
  }
  try {
    validateConfig(config);
  } catch (e) {
    throw new CheckpointError(`${configPath}: ${(e as Error).message.replace(/^DHEN config: /, '')}; the exporter builds fm, linearCompress, ` +
      `cross, dot and attention modules`);
  }
  const { tensors } = decodeSafetensors(readFileSync(weightsPath), weightsPath);
  return { config, tensors: tensors.size };
}

function readme(config: DhenConfig): string {
  const aux = config.auxHeads ?? [];
  return `# A c2al DHEN in PyTorch

Exported by \`c2al export --torch\`. \`model.py\` is the model in plain PyTorch (no dependency on c2al);
\`config.json\` and \`model.safetensors\` are the checkpoint it was exported from (parameter names are
the same in both engines).

\`\`\`python
import json, torch
from model import DhenModel
model = DhenModel(json.load(open('config.json')))
model.load_safetensors('model.safetensors')
logits = model(ids, dense)   # ids [B, ${config.fields.length}] int64, per-field ids; {'primary': [B]${aux.map((h) => `, '${h}': [B]`).join('')}}
\`\`\`

Train with the C2AL objective on one process, or on N with DistributedDataParallel (gloo on CPU, nccl on CUDA):

\`\`\`sh
python3 train_c2al.py --data clicks.csv --schema schema.json --out trained/${aux.length ? ' --cohorts HEAD,TAIL' : ''}
torchrun --standalone --nproc_per_node N train_c2al.py --data clicks.csv --schema schema.json --out trained/${aux.length ? ' --cohorts HEAD,TAIL' : ''}
\`\`\`

(On Debian 12's torch 1.13 with Python 3.11, add \`--redirects 2 --tee 2\` to torchrun: its default fails to parse there.)

\`trained/\` then holds model.safetensors + config.json (and c2al-inference/, the serving model without the
auxiliary heads) that c2al reads back: \`c2al evaluate --checkpoint trained --data csv:clicks.csv --schema schema.json\`.
\`python3 train_c2al.py --evaluate ...\` prints the same test-split NE from PyTorch.

\`python3 crosscheck.py DIR\` is what \`c2al crosscheck --torch\` runs: PyTorch in float64 against c2al's logits,
loss, gradients and Adam steps.
`;
}

/** Writes the PyTorch project for the checkpoint folder `checkpoint` into `out` (created if needed). */
export function exportTorch(checkpoint: string, out: string): ExportResult {
  const { config, tensors } = readCheckpointFolder(checkpoint);
  const src = torchSourceDir();
  if (existsSync(out) && !statSync(out).isDirectory()) throw new CheckpointError(`${out}: exists and is not a folder`);
  if (existsSync(out) && readdirSync(out).some((f) => f === 'model.safetensors' || f === 'config.json')) {
    // Re-exporting into the same folder is fine; writing over another checkpoint is not silently done.
    const config = join(out, 'config.json');
    const same = existsSync(config) && readFileSync(config, 'utf8').trim() === readFileSync(join(checkpoint, 'config.json'), 'utf8').trim();
    if (!same) throw new CheckpointError(`${out}: holds another checkpoint; export into an empty folder`);
  }
  mkdirSync(out, { recursive: true });
  for (const f of TORCH_FILES) copyFileSync(join(src, f), join(out, f));
  copyFileSync(join(checkpoint, 'config.json'), join(out, 'config.json'));
  copyFileSync(join(checkpoint, 'model.safetensors'), join(out, 'model.safetensors'));
  writeFileSync(join(out, 'README.md'), readme(config));
  return { out, files: [...TORCH_FILES, 'config.json', 'model.safetensors', 'README.md'], tensors, config };
}
