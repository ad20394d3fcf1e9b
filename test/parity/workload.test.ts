/**
 * Runs the parity workload in this project (Node on Dawn, or Chromium) and writes its result for
 * test/parity-compare.test.ts, which runs after both projects (vitest groupOrder) and compares them.
 */
import { expect, test } from 'vitest';
import { gpu, project } from '../support/gpu.js';
import { parityWorkload } from '../support/parity-workload.js';

test.skipIf(!gpu)(`parity workload on ${project}: kernels and 20 C2AL training steps, written for the comparison`, async () => {
  const result = await parityWorkload(gpu!);
  expect(Object.keys(result.values).length).toBeGreaterThan(20);
  expect(result.training.loss.primary).toHaveLength(20);
  expect(Number.isFinite(result.training.ne)).toBe(true);
  const json = JSON.stringify({ project, at: Date.now(), ...result });
  if (project === 'browser') {
    const { commands } = await import('vitest/browser');
    await commands.writeFile('test-results/parity/browser.json', json);
  } else {
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir('test-results/parity', { recursive: true });
    await writeFile('test-results/parity/node.json', json);
  }
});
