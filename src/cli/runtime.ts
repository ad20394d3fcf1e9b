/** What every command of the CLI shares: the package version, and a warmed WebGPU backend that is always released. */
import { readFileSync } from 'node:fs';
import { WebGpuBackend } from '../backend/webgpu.js';

/**
 * Runs `fn` with a warmed WebGPU backend and always releases it. A missing adapter prints one line and
 * gives exit code 1.
 */
export async function withGpu(command: string, dawn: string[], fn: (gpu: WebGpuBackend) => Promise<number>): Promise<number> {
  let gpu: WebGpuBackend;
  try {
    gpu = await WebGpuBackend.create({ dawnFlags: dawn, warm: true });
  } catch (e) {
    console.error(`c2al ${command}: ${(e as Error).message}`);
    return 1;
  }
  try {
    return await fn(gpu);
  } finally {
    gpu.destroy();
    gpu.ctx.destroy();
  }
}


export function version(): string {
  // package.json sits three levels up from dist/src/cli, two from src/cli.
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'c2al') return pkg.version;
    } catch { /* try the next location */ }
  }
  return 'unknown';
}
