/**
 * One WebGPU backend per test file, created at module top level (never inside a test body: Dawn under
 * vitest workers needs it there). It compiles each kernel at its first dispatch (compile: 'lazy'): a file
 * uses a few dozen kernels, and compiling all of them per file was most of the suite's time in Chromium
 * (~15 s a file on SwiftShader). test/kernels/shaders.test.ts compiles and warms every one. No adapter fails
 * the suite unless C2AL_ALLOW_NO_GPU=1, in which case GPU suites skip with a printed reason.
 */
import { inject } from 'vitest';
import { NoAdapterError, WebGpuBackend, type Backend } from '../../src/index.js';
import { reference } from './util.js';

export const project = inject('project');
export const propRuns = inject('propRuns');

async function create(): Promise<WebGpuBackend | null> {
  try {
    return await WebGpuBackend.create({ compile: 'lazy' });
  } catch (e) {
    if (!(e instanceof NoAdapterError)) throw e; // a compile error or a bug is never "no GPU"
    if (!inject('allowNoGpu')) {
      throw new Error(`no WebGPU adapter for the ${project} test project: ${(e as Error).message}\n` +
        'GPU tests fail rather than skip; set C2AL_ALLOW_NO_GPU=1 to skip them knowingly.');
    }
    console.warn(`[c2al] C2AL_ALLOW_NO_GPU=1: skipping GPU suites (${(e as Error).message})`);
    return null;
  }
}

export const gpu = await create();

/** The float64 reference and this project's GPU (null without one): the pair most suites run on. */
export const backends: [string, Backend | null][] = [['cpu', reference], ['webgpu', gpu]];
