/**
 * Where a long experiment keeps its units of work, so a killed run continues where it stopped
 * (`c2al experiment --resume RUN_DIR`). Each training run (a world, an arm, a seed) saves its state at
 * every validation into RUN_DIR/runs/<key>/state and, when done, its result (history, predictions on
 * the validation and test rows, diagnostics) into RUN_DIR/runs/<key>/result.json; a resumed experiment
 * takes finished results as they are, continues an unfinished run from its last validation (the same
 * weights, bit for bit), and so reaches the same final numbers. RUN_DIR/experiment.json records the
 * data fingerprint and the options: resuming with other data or options is refused. Without a folder
 * (browsers, tests) the store keeps results in memory and saves no states.
 */
import { CheckpointError, loadTrainState, saveTrainState, writeFileAtomic } from '../nn/checkpoint.js';
import { DataError, type ClickData } from '../data/schema.js';
import type { TrainState } from '../train/loop.js';

interface NodeFs { readFile(p: string, enc: 'utf8'): Promise<string>; mkdir(p: string,
  o: { recursive: boolean }): Promise<unknown>; stat(p: string): Promise<{ isDirectory(): boolean }> }
const nodeFs = async (): Promise<NodeFs> => {
  const name = 'node:fs/promises';
  return (await import(/* @vite-ignore */ name)) as NodeFs;
};

/** A cheap identity of a dataset: shape, fields, cohorts and a hash of every id and label. */
export function dataFingerprint(data: ClickData): string {
  let h = 0x811c9dc5;
  const mix = (x: number): void => { h = Math.imul(h ^ x, 16777619) >>> 0; };
  for (let i = 0; i < data.ids.length; i++) mix(data.ids[i]!);
  for (let i = 0; i < data.rows; i++) mix(data.labels[i]! + 2 * data.cohort[i]!);
  return `${data.rows} rows, fields ${data.fields.map((f) => `${f.name}:${f.vocab}`).join(',')}, cohorts ${data.cohortNames.join('|')}, hash ${h.toString(16)}`;
}

/** Float arrays travel through result.json as base64 of their float64 bytes (btoa/atob: Node and browsers). */
export function encodeFloats(xs: ArrayLike<number>): string {
  return encodeBytes(new Uint8Array(Float64Array.from(xs).buffer));
}

/** Bytes (safetensors files) as base64, and back. */
export function encodeBytes(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export function decodeBytes(s: string): Uint8Array {
  const text = atob(s), bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

export function decodeFloats(s: string): Float64Array {
  return new Float64Array(decodeBytes(s).buffer);
}

export class RunStore {
  private memory = new Map<string, unknown>();
  private constructor(readonly dir: string | null) {}

  /**
   * Opens (or, with `resume`, reopens) the store for an experiment identified by `identity` (data
   * fingerprints and options, as JSON). A fresh store in a folder that already holds an experiment is refused.
   */
  static async open(dir: string | undefined, identity: unknown, resume: boolean): Promise<RunStore> {
    if (!dir) {
      if (resume) throw new DataError('--resume needs a run folder');
      return new RunStore(null);
    }
    const fs = await nodeFs();
    const file = `${dir}/experiment.json`, want = JSON.stringify(identity, null, 2);
    const have = await fs.readFile(file, 'utf8').catch(() => null);
    if (resume) {
      if (have === null) throw new DataError(`--resume ${dir}: no experiment.json there (not a run folder of c2al experiment)`);
      if (have.trim() !== want.trim()) {
        const a = JSON.parse(have) as Record<string, unknown>, b = identity as Record<string, unknown>;
        const differs = Object.keys({ ...a, ...b }).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
        throw new DataError(`--resume ${dir}: that run used another ${differs.join(', ') || 'configuration'} (resume with the same data and options)`);
      }
    } else {
      if (have !== null) throw new DataError(`${dir} already holds an experiment; pass --resume ${dir} to continue it, or another --out`);
      await fs.mkdir(dir, { recursive: true });
      await writeFileAtomic(file, `${want}\n`);
    }
    return new RunStore(dir);
  }

  private path(key: string): string {
    return `${this.dir}/runs/${key.replace(/[^a-zA-Z0-9._=-]+/g, '_')}`;
  }

  /** A finished unit's result, or null. */
  async result<T>(key: string): Promise<T | null> {
    if (!this.dir) return (this.memory.get(key) as T | undefined) ?? null;
    const fs = await nodeFs();
    const text = await fs.readFile(`${this.path(key)}/result.json`, 'utf8').catch(() => null);
    return text === null ? null : (JSON.parse(text) as T);
  }

  async saveResult(key: string, value: unknown): Promise<void> {
    if (!this.dir) { this.memory.set(key, value); return; }
    const fs = await nodeFs();
    await fs.mkdir(this.path(key), { recursive: true });
    await writeFileAtomic(`${this.path(key)}/result.json`, JSON.stringify(value));
  }

  /** The last saved state of an unfinished unit (undefined: none), and the saver train() calls at each validation. */
  async state(key: string): Promise<{ resume: TrainState | undefined; save: ((s: TrainState) => Promise<void>) | null }> {
    if (!this.dir) return { resume: undefined, save: null };
    const dir = `${this.path(key)}/state`;
    const resume = await loadTrainState(dir).catch((e: Error) => {
      if (e instanceof CheckpointError && /latest\.json/.test(e.message)) return undefined; // never saved
      throw e;
    });
    return { resume, save: (s) => saveTrainState(dir, s, 1) };
  }
}
