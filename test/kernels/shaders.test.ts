import { afterAll, describe, expect, test } from 'vitest';
import { ShaderCompileError, WebGpuBackend, kernels, type KernelName } from '../../src/index.js';
import type { Kernel } from '../../src/kernels.js';
import { shaders, type ShaderName } from '../../src/backend/shaders.gen.js';
import { DEFAULT_PLAN } from '../../src/kernel-plan.js';
import { gpu, project } from '../support/gpu.js';

// Without an adapter, Node still compiles every shader on Dawn's null backend (full validation, no execution).
const compiler = gpu ?? (project === 'node' ? await WebGpuBackend.create({ dawnFlags: ['backend=null'] }) : null);
if (!gpu && compiler) console.warn('[c2al] no adapter: compiling shaders on Dawn backend=null');
afterAll(() => {
  if (compiler && compiler !== gpu) { compiler.destroy(); compiler.ctx.destroy(); }
});

test('every kernel names a packed shader that declares its entry point', () => {
  for (const [name, k] of Object.entries(kernels)) {
    const src = shaders[k.shader as ShaderName];
    expect(src, `${name}: shaders/${k.shader}.wgsl`).toBeTypeOf('string');
    expect(src, `${name}: entry ${k.entry}`).toMatch(new RegExp(`fn ${k.entry}\\(`));
    const constants = typeof k.constants === 'function' ? k.constants(DEFAULT_PLAN) : k.constants;
    for (const c of Object.keys(constants)) expect(src, `${name}: override ${c}`).toMatch(new RegExp(`override ${c}\\b`));
    const bindings = [...src.matchAll(/@group\(0\) @binding\((\d+)\) var<storage, (read|read_write)>/g)];
    expect(bindings.map((b) => b[2]), `${name}: binding order`).toEqual([...Array(k.inputs).fill('read'), ...Array(k.outputs).fill('read_write')]);
  }
});

test('every shader opens with a header comment naming its bindings and grid', () => {
  for (const [name, src] of Object.entries(shaders)) {
    expect(src.startsWith(`// ${name}.wgsl`), name).toBe(true);
    expect(src, name).toMatch(/Bindings:/);
    expect(src, name).toMatch(/Grid:/);
  }
});

describe.skipIf(!compiler)('compilation (on the adapter, or Dawn backend=null without one)', () => {
  test('every shader compiles and every kernel builds a pipeline', async () => {
    for (const name of Object.keys(shaders) as ShaderName[]) {
      const module = await compiler!.compileShader(name, shaders[name]);
      for (const [kname, k] of Object.entries(kernels).filter(([, k]) => k.shader === name)) {
        await expect(compiler!.buildPipeline(kname, k as Kernel<unknown>, module)).resolves.toBeTruthy();
      }
    }
  });

  test('warming every pipeline (one dispatch each) raises no validation error', async () => {
    const warmed = await WebGpuBackend.create({ warm: true, ...(gpu ? {} : { dawnFlags: ['backend=null'] }) });
    await warmed.device.queue.onSubmittedWorkDone();
    const errors = [...warmed.ctx.errors];
    warmed.destroy();
    warmed.ctx.destroy();
    expect(errors).toEqual([]);
  });

  test('a WGSL error is reported as file:line:col with the source line', async () => {
    const broken = 'fn main() {\n  let x: f32 = 1.0;\n  let y = x + undefined_name;\n}\n';
    const err = await compiler!.compileShader('broken', broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShaderCompileError);
    expect((err as Error).message).toMatch(/shaders\/broken\.wgsl:3:\d+: error: .*undefined_name/);
    expect((err as Error).message).toContain('let y = x + undefined_name;');
  });

  test('an error in an included block cites the included file and its line; one after it, the including file\'s own line', async () => {
    const onDisk = (file: string) => import('node:fs').then((fs) => fs.readFileSync(`shaders/${file}`, 'utf8').split('\n'));
    const packed = shaders.binary.split('\n');
    const libLine = (project === 'node' ? await onDisk('lib/strided_offsets.wgsl') : null)?.findIndex((l) => l.includes('var rem = i;'));
    const inLib = packed.findIndex((l) => l.includes('var rem = i;'));
    const broken = packed.map((l, i) => (i === inLib ? l.replace('var rem = i;', 'var rem = undefined_lib;') : l)).join('\n');
    const e1 = (await compiler!.compileShader('binary', broken).catch((e: unknown) => e)) as Error;
    expect(e1.message).toMatch(new RegExp(`shaders/lib/strided_offsets\\.wgsl:${libLine === undefined ? '\\d+' : libLine + 1}:\\d+: error: .*undefined_lib`));
    const own = packed.findIndex((l) => l.includes('out[i] = apply('));
    const ownLine = (project === 'node' ? await onDisk('binary.wgsl') : null)?.findIndex((l) => l.includes('out[i] = apply('));
    const broken2 = packed.map((l, i) => (i === own ? l.replace('apply(', 'undefined_own(') : l)).join('\n');
    const e2 = (await compiler!.compileShader('binary', broken2).catch((e: unknown) => e)) as Error;
    expect(e2.message).toMatch(new RegExp(`shaders/binary\\.wgsl:${ownLine === undefined ? '\\d+' : ownLine + 1}:\\d+: error: .*undefined_own`));
    expect(own).toBeGreaterThan(ownLine ?? 0); // the include made the packed file longer than the one on disk
  });

  test('a wrong override constant is reported with the kernel and file', async () => {
    const k = { ...(kernels.neg as Kernel<unknown>), constants: { OP: 0, WG: 256, NOT_DECLARED: 1 } };
    const module = await compiler!.compileShader('unary', shaders.unary);
    await expect(compiler!.buildPipeline('neg', k as Kernel<unknown>, module)).rejects.toThrow(/kernel neg \(shaders\/unary\.wgsl, entry unary\)/);
  });
});

test('kernel ids are snake_case', () => {
  for (const name of Object.keys(kernels) as KernelName[]) expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
});
