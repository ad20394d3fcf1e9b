/**
 * Node ↔ browser parity: compares the parity workload's results from the `node` project (Dawn, the
 * default adapter: lavapipe here), the `browser` project (Chromium's WebGPU: SwiftShader) and a Node
 * process on SwiftShader (VK_ICD_FILENAMES = Chromium's SwiftShader ICD). Runs in the `parity` project,
 * after the other two (vitest groupOrder). Same implementation: bit-identical. Different adapters:
 * within the kernel tolerances, and the measured differences are written to
 * test-results/parity/summary.json.
 */
import { expect, inject, test } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import type { ParityResult } from '../support/parity-workload.js';

const DIR = 'test-results/parity';
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const runStarted = inject('runStarted');

async function load(name: string): Promise<ParityResult | null> {
  const file = `${DIR}/${name}.json`;
  if (!existsSync(file) || (await stat(file)).mtimeMs < runStarted) return null;
  return JSON.parse(await readFile(file, 'utf8')) as ParityResult;
}

async function nodeOnSwiftShader(): Promise<ParityResult> {
  const out = `${DIR}/node-swiftshader.json`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/parity-run.ts', out], { env: { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d; });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`parity-run on SwiftShader exited ${code}: ${err}`))));
  });
  return JSON.parse(await readFile(out, 'utf8')) as ParityResult;
}

export interface PairDiff {
  a: string; b: string;
  /** toleranceUsed: the largest |a − b| / (4e-6 + 8e-6·|a|), i.e. twice the transcendental kernel tolerance; ≤ 1 passes. */
  kernels: { identical: number; total: number; maxAbs: number; maxRel: number; toleranceUsed: number; worst: string };
  training: { lossMaxAbs: number; weightsIdentical: boolean; weightsMaxAbs: number; neAbs: number };
}

function compare(a: ParityResult, b: ParityResult): PairDiff {
  let identical = 0, maxAbs = 0, maxRel = 0, toleranceUsed = 0, worst = '';
  const names = Object.keys(a.values);
  expect(Object.keys(b.values)).toEqual(names);
  for (const k of names) {
    const u = a.values[k]!, v = b.values[k]!;
    expect(v.length, k).toBe(u.length);
    let same = true;
    for (let i = 0; i < u.length; i++) {
      if (Object.is(u[i], v[i])) continue;
      same = false;
      const d = Math.abs(u[i]! - v[i]!), used = d / (4e-6 + 8e-6 * Math.abs(u[i]!));
      maxAbs = Math.max(maxAbs, d);
      maxRel = Math.max(maxRel, d / Math.max(Math.abs(u[i]!), 1e-3));
      if (used > toleranceUsed) { toleranceUsed = used; worst = `${k}[${i}]: ${u[i]} vs ${v[i]}`; }
    }
    if (same) identical++;
  }
  const lossMaxAbs = Math.max(0, ...Object.keys(a.training.loss).flatMap((h) => a.training.loss[h]!.map((x, i) => Math.abs(x - b.training.loss[h]![i]!))));
  const weightsMaxAbs = a.training.weights.reduce((m, w, i) => Math.max(m, Math.abs(w - b.training.weights[i]!)), 0); // no spread: the weights are ~10⁵ numbers
  return {
    a: a.adapter, b: b.adapter, kernels: { identical, total: names.length, maxAbs, maxRel, toleranceUsed, worst },
    training: { lossMaxAbs, weightsIdentical: a.training.weightsHash === b.training.weightsHash, weightsMaxAbs, neAbs: Math.abs(a.training.ne - b.training.ne) },
  };
}

test('Node and browser compute the same: bit-identical on the same adapter (SwiftShader), within tolerance across adapters', async (ctx) => {
  const [node, browser] = [await load('node'), await load('browser')];
  if (!node || !browser) {
    ctx.skip(`parity needs this run's results from both the node and the browser projects (${DIR}/{node,browser}.json); run the whole suite`);
    return;
  }
  if (!existsSync(SWIFTSHADER_ICD)) throw new Error(`${SWIFTSHADER_ICD} is missing: install Debian's chromium (scripts/system-setup.sh)`);
  const swift = await nodeOnSwiftShader();
  const same = compare(swift, browser);
  const cross = compare(node, browser);
  await writeFile(`${DIR}/summary.json`, JSON.stringify({ sameAdapter: same, crossAdapter: cross }, null, 2));
  const line = (d: PairDiff) => `${d.a} vs ${d.b}: kernels ${d.kernels.identical}/${d.kernels.total} bit-identical (max abs ${d.kernels.maxAbs.toExponential(2)}, ${(100 * d.kernels.toleranceUsed).toFixed(0)}% of the tolerance${d.kernels.worst ? `, worst ${d.kernels.worst}` : ''}); ` +
    `20 training steps: weights ${d.training.weightsIdentical ? 'bit-identical' : `differ by up to ${d.training.weightsMaxAbs.toExponential(2)}`}, losses by ${d.training.lossMaxAbs.toExponential(2)}, NE by ${d.training.neAbs.toExponential(2)}`;
  console.log(`[parity] ${line(same)}\n[parity] ${line(cross)}`);
  // Same SwiftShader under Node's Dawn and Chromium's Dawn: every bit equal.
  expect(same.kernels.identical).toBe(same.kernels.total);
  expect(same.training.weightsIdentical).toBe(true);
  expect(same.training.lossMaxAbs).toBe(0);
  expect(same.training.neAbs).toBe(0);
  // Different adapters differ only in transcendental rounding, which WGSL leaves to the implementation
  // (e.g. log: 2^-21 absolute on [0.5, 2]): each side within the kernel tolerance of the truth.
  expect(cross.kernels.toleranceUsed).toBeLessThanOrEqual(1);
  expect(cross.training.lossMaxAbs).toBeLessThan(1e-5);
  expect(cross.training.weightsMaxAbs).toBeLessThan(1e-4);
  expect(cross.training.neAbs).toBeLessThan(1e-6);
});
