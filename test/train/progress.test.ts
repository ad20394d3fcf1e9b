import { expect, test } from 'vitest';
import { formatDuration, progressLine, progressReporter } from '../../src/train/progress.js';
import { ticks } from '../../src/c2al/svg.js';

test('progress line: bar, rate, rows/s and ETA; the finished line says how long it took', () => {
  expect(progressLine('baseline', 50, 200, 10, 512, 8)).toBe('baseline [##......] 50/200 steps · 5.0 steps/s · 2,560 rows/s · ETA 30 s');
  expect(progressLine('baseline', 200, 200, 125, 512, 8)).toBe('baseline [########] 200/200 steps · 1.6 steps/s · 819 rows/s · done in 2 min 05 s');
  expect(formatDuration(3 * 3600 + 61)).toBe('3 h 01 min');
  expect(formatDuration(Infinity)).toBe('?');
});

test('on a TTY the bar is redrawn in place at most every 100 ms; elsewhere one line per finished run', () => {
  let clock = 0;
  const tty = { isTTY: true, columns: 200, out: '' as string, write(s: string) { this.out += s; } };
  const step = progressReporter(tty, 100, () => clock)('run');
  for (let s = 0; s < 10; s++) { clock += 30; step(s, 10); }
  const frames = tty.out.split('\r').filter(Boolean);
  expect(frames.length).toBeLessThan(10);
  expect(frames.at(-1)).toMatch(/^run \[#+\] 10\/10 steps .*done in 0 s\x1b\[K\n$/);
  const log = { out: '' as string, write(s: string) { this.out += s; } };
  const plain = progressReporter(log, 100, () => clock)('run');
  for (let s = 0; s < 10; s++) { clock += 30; plain(s, 10); }
  expect(log.out).toBe('run 10/10 steps · 33.3 steps/s · 3,333 rows/s · done in 0 s\n');
});

test('chart ticks are round numbers covering the range', () => {
  expect(ticks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  expect(ticks(0.93, 1.07)).toEqual([0.95, 1, 1.05]);
  expect(ticks(3, 3)).toEqual([3]);
});
