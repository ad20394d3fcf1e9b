/// <reference types="vite/client" />
/**
 * One name per op at every layer, checked for every op of the table: from an op's name alone one finds
 * its kernel ids (snake_case of the op, with suffixes for variants), its shader file, its float64 twin
 * and its test file. Ops of an elementwise or copy family share the family's shader, twin and test file
 * (docs/adding-an-op.md, "Where each piece goes").
 */
import { expect, test } from 'vitest';
import { kernels, ops, type OpName } from '../../src/index.js';
import * as reference from '../../src/reference.js';
import { shaders } from '../../src/backend/shaders.gen.js';

/** Ops that live in a family's files; every other op is its own family. */
export const FAMILY: Partial<Record<OpName, 'unary' | 'binary' | 'reduce' | 'copy'>> = {
  neg: 'unary', abs: 'unary', exp: 'unary', log: 'unary', log1p: 'unary', sqrt: 'unary', sigmoid: 'unary', tanh: 'unary',
  relu: 'unary', gelu: 'unary', silu: 'unary', powScalar: 'unary', mulScalar: 'unary', addScalar: 'unary',
  add: 'binary', sub: 'binary', mul: 'binary', div: 'binary', maximum: 'binary', minimum: 'binary', equal: 'binary', greater: 'binary',
  sum: 'reduce', mean: 'reduce', max: 'reduce',
  reshape: 'copy', permute: 'copy', slice: 'copy', concat: 'copy', expand: 'copy',
};

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const kebab = (name: string): string => snake(name).replace(/_/g, '-');
// The test files of this folder, by name (Vite's glob works in Node and in the browser alike).
const testFiles = Object.keys(import.meta.glob('./*.test.ts')).map((p) => p.slice(2));

test.each(Object.keys(ops) as OpName[])('%s: kernel, shader, twin and test are found from its name', (op) => {
  const family = FAMILY[op] ?? op;
  const shader = snake(family);
  expect(shaders, `shaders/${shader}.wgsl`).toHaveProperty(shader);
  expect(typeof (reference as Record<string, unknown>)[`${family}Ref`], `src/reference.ts exports ${family}Ref`).toBe('function');
  expect(testFiles, `test/ops/${kebab(family)}.test.ts`).toContain(`${kebab(family)}.test.ts`);
  // The op's kernels: named after the op in its family's shader (reshape is a view and runs none).
  if (op === 'reshape') return;
  const own = Object.entries(kernels).filter(([id, k]) => (id === snake(op) || id.startsWith(`${snake(op)}_`)) && k.shader === shader);
  const familyKernel = Object.values(kernels).some((k) => k.shader === shader);
  expect(own.length > 0 || (FAMILY[op] !== undefined && FAMILY[op] !== 'unary' && FAMILY[op] !== 'binary' && familyKernel), `a kernel ${snake(op)}[_…] in shaders/${shader}.wgsl`).toBe(true);
  // The four-wide variant of an elementwise op lives in the family's variant file (unary_vec4.wgsl).
  const vec4 = (kernels as Record<string, { shader: string }>)[`${snake(op)}_vec4`];
  if (vec4) expect(vec4.shader, `kernel ${snake(op)}_vec4`).toBe(`${shader}_vec4`);
});
