/**
 * `c2al import --torch FILE.safetensors --config config.json --out DIR`: weights trained outside this
 * package (train_c2al.py) into a c2al checkpoint folder. The file must be safetensors whose every tensor
 * the config's model has, with its shape: each missing, unexpected or mis-shaped tensor is named, and
 * nothing is written unless all of them match.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Backend } from '../backend/index.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../nn/checkpoint.js';
import { DhenModel, type DhenConfig } from '../nn/dhen.js';

export interface ImportResult { out: string; tensors: number; parameters: number; metadata: Record<string, string> }

export async function importTorch(file: string, configPath: string, out: string, backend: Backend): Promise<ImportResult> {
  let config: DhenConfig;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8')) as DhenConfig;
  } catch (e) {
    throw new CheckpointError(`${configPath}: ${(e as Error).message.split('\n')[0]}`);
  }
  const model = new DhenModel(config, backend);
  try {
    const metadata = await loadCheckpoint(dirname(file), model, basename(file));
    const kept = Object.fromEntries(Object.entries(metadata).filter(([k]) => !['format', 'version', 'crc32'].includes(k)));
    await saveCheckpoint(out, model, { config, metadata: { ...kept, importedFrom: file } });
    return { out, tensors: model.namedParameters().length, parameters: model.parameterCount(), metadata };
  } finally {
    model.dispose();
  }
}
