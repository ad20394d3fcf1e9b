/** The C2AL commands' option defaults that are decided from other options. */
import { expect, test } from 'vitest';
import { c2alOptions } from '../../../src/cli/options.js';

test('training is captured by default, except where a captured step cannot run (finite guard, dropout) or --no-capture says so', () => {
  expect(c2alOptions('train', {}).capture).toBe(true);
  expect(c2alOptions('experiment', { 'no-capture': true }).capture).toBe(false);
  expect(c2alOptions('train', { 'guard-finite': true }).capture).toBe(false);
  expect(c2alOptions('train', { dropout: '0.1' }).capture).toBe(false);
  expect(c2alOptions('train', { dropout: '0' }).capture).toBe(true);
  // Asked for explicitly, it stays asked for: the training loop then refuses the combination with its reason.
  expect(c2alOptions('train', { capture: true, 'guard-finite': true }).capture).toBe(true);
  expect(() => c2alOptions('train', { capture: true, 'no-capture': true })).toThrow(/--capture and --no-capture exclude each other/);
});
