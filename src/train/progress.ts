/**
 * Progress of training runs on the terminal: on a TTY one bar redrawn in place (steps, rate, rows/s,
 * ETA); elsewhere (CI logs, pipes) one line when each run ends, so logs stay short.
 */

export interface ProgressStream { isTTY?: boolean; columns?: number; write(s: string): unknown }

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(0)} s`;
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  return m < 60 ? `${m} min ${String(s).padStart(2, '0')} s` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** The bar line for `done` of `total` steps after `seconds`. */
export function progressLine(label: string, done: number, total: number, seconds: number, rowsPerStep: number, width = 24): string {
  const filled = Math.round((width * done) / Math.max(1, total));
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = rate > 0 ? (total - done) / rate : Infinity;
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} steps · ${rate.toFixed(1)} steps/s · ` +
    `${Math.round(rate * rowsPerStep).toLocaleString('en-US')} rows/s · ${done < total ? `ETA ${formatDuration(eta)}` : `done in ${formatDuration(seconds)}`}`;
}

/**
 * Returns a factory: `reporter(label)` gives the per-step callback of one run. Redraws at most every
 * 100 ms on a TTY.
 */
export function progressReporter(stream: ProgressStream, rowsPerStep: number,
  now: () => number = () => performance.now()): (label: string) => (step: number, steps: number) => void {
  return (label) => {
    const start = now();
    let last = -Infinity;
    return (step, steps) => {
      const done = step + 1, t = now(), finished = done >= steps;
      if (stream.isTTY) {
        if (!finished && t - last < 100) return;
        last = t;
        const line = progressLine(label, done, steps, (t - start) / 1000, rowsPerStep);
        stream.write(`\r${line.slice(0, Math.max(20, (stream.columns ?? 120) - 1))}\x1b[K${finished ? '\n' : ''}`);
      } else if (finished) {
        stream.write(`${progressLine(label, done, steps, (t - start) / 1000, rowsPerStep, 0).replace(' [] ', ' ')}\n`);
      }
    };
  };
}
