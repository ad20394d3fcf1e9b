/**
 * Checkpoints as safetensors (readable by PyTorch's `safetensors`): an 8-byte little-endian header
 * length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__}, then the little-endian data.
 * Tensor names are parameter names (`layers.0.weight`). The metadata carries a CRC-32 of the data and a
 * format version, so truncated, bit-flipped or foreign files are refused. Loading validates every name,
 * shape and dtype first and reports all mismatches; nothing is written unless everything matches.
 * Files are written atomically (temp file + rename) by saveCheckpoint (Node only).
 */
import type { Tensor } from '../tensor.js';
import { fmt, numel, sameShape } from '../shape.js';
import type { Module } from './module.js';

export const FORMAT_VERSION = '1';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export interface TensorData { shape: number[]; data: Float32Array }

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function encodeSafetensors(tensors: ReadonlyMap<string, TensorData>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const t of tensors.values()) {
    // Little-endian on every platform the engine runs on (x86, ARM); DataView keeps it explicit.
    const view = new DataView(data.buffer, at, t.data.byteLength);
    t.data.forEach((v, i) => view.setFloat32(4 * i, v, true));
    at += t.data.byteLength;
  }
  header.__metadata__ = { ...metadata, format: 'c2al', version: FORMAT_VERSION, crc32: String(crc32(data)) };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // data starts 8-byte aligned
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, what = 'checkpoint'): { tensors: Map<string, TensorData>; metadata: Record<string, string> } {
  const fail = (msg: string): never => { throw new CheckpointError(`${what}: ${msg}`); };
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short for a safetensors file (truncated?)`);
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLen > bytes.length - 8) fail(`header length ${headerLen} exceeds the file (${bytes.length} bytes): truncated or not safetensors`);
  let header: Record<string, { dtype?: string; shape?: number[]; data_offsets?: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    return fail(`unreadable header (${(e as Error).message})`);
  }
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  if (metadata.format === 'c2al' && metadata.version !== FORMAT_VERSION) fail(`format version ${metadata.version} is not supported (this ` +
    `build reads ${FORMAT_VERSION})`);
  const data = bytes.subarray(8 + headerLen);
  if (metadata.crc32 !== undefined && String(crc32(data)) !== metadata.crc32) fail('checksum mismatch: the data is corrupted or truncated');
  const tensors = new Map<string, TensorData>();
  let expected = 0;
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__')
    .sort((a, b) => ((a[1] as { data_offsets: number[] }).data_offsets?.[0] ?? 0) - ((b[1] as { data_offsets: number[] }).data_offsets?.[0] ?? 0));
  for (const [name, info] of entries) {
    const { dtype, shape, data_offsets: off } = info as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (dtype !== 'F32') fail(`tensor '${name}' has dtype ${dtype}; only F32 is supported`);
    if (!Array.isArray(shape) || !Array.isArray(off) || off.length !== 2) fail(`tensor '${name}' has a malformed header entry`);
    if (shape!.some((d) => !Number.isInteger(d) || d < 0)) fail(`tensor '${name}' has shape ${JSON.stringify(shape)}; dimensions ` +
      `must be non-negative integers`);
    const [begin, end] = off!;
    if (begin !== expected || end < begin || end > data.length) fail(`tensor '${name}' data offsets [${begin}, ${end}) are not contiguous within ` +
      `${data.length} data bytes`);
    if ((end - begin) !== 4 * numel(shape!)) fail(`tensor '${name}' holds ${end - begin} bytes, but shape ${fmt(shape!)} needs ${4 * numel(shape!)}`);
    const view = new DataView(data.buffer, data.byteOffset + begin, end - begin);
    tensors.set(name, { shape: shape!, data: Float32Array.from({ length: (end - begin) / 4 }, (_, i) => view.getFloat32(4 * i, true)) });
    expected = end;
  }
  if (expected !== data.length) fail(`${data.length - expected} trailing bytes after the last tensor`);
  return { tensors, metadata };
}

/** Reads named tensors back to the host. */
export async function snapshot(named: readonly (readonly [string, Tensor])[]): Promise<Map<string, TensorData>> {
  const out = new Map<string, TensorData>();
  for (const [name, t] of named) out.set(name, { shape: [...t.shape], data: Float32Array.from(await t.read()) });
  return out;
}

/**
 * Writes `tensors` into the named targets after checking all of them: every target must be present with
 * the same shape, and no unknown name may appear. All mismatches are reported together; on any mismatch
 * nothing is written.
 */
export function restore(named: readonly (readonly [string, Tensor])[], tensors: ReadonlyMap<string, TensorData>, what = 'checkpoint'): void {
  const problems: string[] = [];
  const targets = new Map(named.map(([n, t]) => [n, t]));
  for (const [name, t] of targets) {
    const src = tensors.get(name);
    if (!src) problems.push(`missing tensor '${name}' (expected ${fmt(t.shape)})`);
    else if (!sameShape(src.shape, t.shape)) problems.push(`tensor '${name}' has shape ${fmt(src.shape)}, expected ${fmt(t.shape)}`);
  }
  for (const name of tensors.keys()) if (!targets.has(name)) problems.push(`unexpected tensor '${name}'`);
  if (problems.length) throw new CheckpointError(`${what} does not match (nothing was loaded):\n  ${problems.join('\n  ')}`);
  for (const [name, t] of targets) t.backend.write(t.storage, tensors.get(name)!.data);
}

/** A module's weights as safetensors bytes. */
export async function encodeModule(model: Module, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  return encodeSafetensors(await snapshot(model.namedParameters()), metadata);
}

interface NodeFs {
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string, opts: { recursive: boolean }): Promise<unknown>;
  open(path: string, flags: string): Promise<{ sync(): Promise<void>; close(): Promise<void> }>;
}

async function nodeFs(): Promise<NodeFs> {
  const name = 'node:fs/promises';
  return (await import(/* @vite-ignore */ name)) as NodeFs;
}

/** Writes bytes to `path` atomically: a temp file beside it, fsync, then rename over the target. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const fs = await nodeFs();
  const tmp = `${path}.tmp-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
  await fs.writeFile(tmp, data);
  const fh = await fs.open(tmp, 'r');
  await fh.sync();
  await fh.close();
  await fs.rename(tmp, path);
}

/**
 * Saves `model.safetensors` and `config.json` into dir, plus extra files (e.g. `optimizer.safetensors`
 * from encodeOptimizerState), each atomically.
 */
export async function saveCheckpoint(dir: string, model: Module, opts: { config?: unknown; metadata?: Record<string, string>; files?: Record<string,
  Uint8Array | string> } = {}): Promise<void> {
  const fs = await nodeFs();
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(`${dir}/model.safetensors`, await encodeModule(model, opts.metadata));
  if (opts.config !== undefined) await writeFileAtomic(`${dir}/config.json`, `${JSON.stringify(opts.config, null, 2)}\n`);
  for (const [name, data] of Object.entries(opts.files ?? {})) await writeFileAtomic(`${dir}/${name}`, data);
}

/** Reads one file of a checkpoint folder (e.g. optimizer.safetensors), with the path in any error. */
export async function readCheckpointFile(dir: string, name: string): Promise<Uint8Array> {
  const fs = await nodeFs();
  try {
    return await fs.readFile(`${dir}/${name}`);
  } catch (e) {
    throw new CheckpointError(`${dir}/${name}: ${(e as Error).message}`);
  }
}

/** Loads `dir/<file>` (model.safetensors by default) into model (validated first; the model is unchanged on error); returns its metadata. */
export async function loadCheckpoint(dir: string, model: Module, file = 'model.safetensors'): Promise<Record<string, string>> {
  const fs = await nodeFs();
  const path = `${dir}/${file}`;
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (e) {
    throw new CheckpointError(`${path}: ${(e as Error).message}`);
  }
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  restore(model.namedParameters(), tensors, path);
  return metadata;
}


/**
 * A training run's resumable state, as train() saves it: completed steps, weights, optimizer state, and
 * (an early-stopped run) its evaluations so far and the best evaluation's weights.
 */
export interface SavedTrainState {
  step: number;
  model: Uint8Array;
  optimizer: Uint8Array;
  stopping?: { evaluations: { step: number; epoch: number; ne: number }[]; best: { step: number; epoch: number; ne: number } | null; sinceBest: number;
    bestWeights: Uint8Array | null };
}

/**
 * Saves a resumable state under `dir`: the two files go into `dir/step-<n>/`, then `dir/latest.json`
 * is replaced atomically to point at them, so a crash at any moment leaves the previous state loadable.
 * Keeps the newest `keep` step folders.
 */
export async function saveTrainState(dir: string, state: SavedTrainState, keep = 2): Promise<void> {
  const fs = await nodeFs() as NodeFs & { readdir(p: string): Promise<string[]>; rm(p: string, o: { recursive: boolean; force: boolean }): Promise<void> };
  const name = `step-${String(state.step).padStart(8, '0')}`;
  await fs.mkdir(`${dir}/${name}`, { recursive: true });
  await writeFileAtomic(`${dir}/${name}/model.safetensors`, state.model);
  await writeFileAtomic(`${dir}/${name}/optimizer.safetensors`, state.optimizer);
  if (state.stopping) {
    const { bestWeights, ...rest } = state.stopping;
    if (bestWeights) await writeFileAtomic(`${dir}/${name}/best.safetensors`, bestWeights);
    await writeFileAtomic(`${dir}/${name}/stopping.json`, `${JSON.stringify({ ...rest, hasBest: !!bestWeights })}\n`);
  }
  await writeFileAtomic(`${dir}/latest.json`, `${JSON.stringify({ step: state.step, folder: name })}\n`);
  const old = (await fs.readdir(dir)).filter((f) => /^step-\d{8}$/.test(f)).sort().slice(0, -keep);
  for (const f of old) await fs.rm(`${dir}/${f}`, { recursive: true, force: true });
}

/** Loads the state `dir/latest.json` points at (CheckpointError naming the file when anything is missing or corrupt). */
export async function loadTrainState(dir: string): Promise<SavedTrainState> {
  const fs = await nodeFs();
  let latest: { step?: unknown; folder?: unknown };
  try {
    latest = JSON.parse(new TextDecoder().decode(await fs.readFile(`${dir}/latest.json`))) as typeof latest;
  } catch (e) {
    throw new CheckpointError(`${dir}/latest.json: ${(e as Error).message} (no resumable training state here)`);
  }
  if (!Number.isInteger(latest.step) || typeof latest.folder !== 'string' || !/^step-\d{8}$/.test(latest.folder)) {
    throw new CheckpointError(`${dir}/latest.json: expected {"step": <integer>, "folder": "step-<8 digits>"}`);
  }
  const read = async (file: string): Promise<Uint8Array> => {
    const path = `${dir}/${latest.folder as string}/${file}`;
    try {
      const bytes = await fs.readFile(path);
      decodeSafetensors(bytes, path); // checksum and structure checked before anyone uses it
      return bytes;
    } catch (e) {
      throw e instanceof CheckpointError ? e : new CheckpointError(`${path}: ${(e as Error).message}`);
    }
  };
  const state: SavedTrainState = { step: latest.step as number, model: await read('model.safetensors'), optimizer: await read('optimizer.safetensors') };
  const stoppingPath = `${dir}/${latest.folder as string}/stopping.json`;
  const stopping = await fs.readFile(stoppingPath).then((b) => JSON.parse(new TextDecoder().decode(b)) as Omit<NonNullable<SavedTrainState['stopping']>,
    'bestWeights'> & { hasBest: boolean }, () => null);
  if (stopping) {
    const { hasBest, ...rest } = stopping;
    state.stopping = { ...rest, bestWeights: hasBest ? await read('best.safetensors') : null };
  }
  return state;
}
