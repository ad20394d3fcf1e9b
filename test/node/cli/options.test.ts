/** The C2AL commands' option defaults that are decided from other options. */
import { expect, test } from 'vitest';
import { c2alOptions } from '../../../src/cli/options.js';

test("capture: train()'s 'auto' unless --capture insists or --no-capture declines", () => {
  // 'auto' captures where a captured step can run: test/backend/capture.test.ts shows the guard and dropout decline it.
  for (const v of [{}, { 'guard-finite': true }, { dropout: '0.1' }, { dropout: '0' }]) expect(c2alOptions('train', v).capture).toBe('auto');
  expect(c2alOptions('experiment', { 'no-capture': true }).capture).toBe(false);
  expect(c2alOptions('experiment', { capture: true }).capture).toBe(true);
  // Asked for explicitly, it stays asked for: the training loop then refuses the combination with its reason.
  expect(c2alOptions('train', { capture: true, 'guard-finite': true }).capture).toBe(true);
  expect(() => c2alOptions('train', { capture: true, 'no-capture': true })).toThrow(/--capture and --no-capture exclude each other/);
});
