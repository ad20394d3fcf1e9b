/**
 * Runs the parity workload in a fresh Node process (so VK_ICD_FILENAMES can pick the Vulkan driver,
 * e.g. Chromium's SwiftShader) and writes the result to the file named by the first argument.
 */
import { writeFile } from 'node:fs/promises';
import { WebGpuBackend } from '../../src/index.js';
import { parityWorkload } from './parity-workload.js';

const gpu = await WebGpuBackend.create({ compile: 'lazy' });
const result = await parityWorkload(gpu);
await writeFile(process.argv[2]!, JSON.stringify({ project: 'node', at: Date.now(), ...result }));
gpu.destroy();
gpu.ctx.destroy();
process.exit(0);
