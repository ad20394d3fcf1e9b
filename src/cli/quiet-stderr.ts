/**
 * Dawn's Vulkan backend writes two lines to stderr from C++ whenever it enumerates an adapter whose driver
 * reports more dynamic buffers per pipeline layout than Dawn supports (lavapipe reports 1,000,000):
 *   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit …
 * They come from requestAdapter(), before the engine asks for any limit, and Dawn offers no toggle or
 * callback for them; nothing in JS can intercept a native write to fd 2. So the CLI runs its command in
 * a child process and passes the child's stderr through, line by line, without exactly those lines.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export const DAWN_LIMIT_WARNING = new RegExp('^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \\d+ to \\d+ ' +
  'to fit dynamic offset allocation limit\\.$');

/** Copies `from` to `to` line by line, dropping Dawn's limit warnings; resolves when `from` ends. */
export function filterLines(from: Readable, to: Writable, drop: RegExp = DAWN_LIMIT_WARNING): Promise<void> {
  return new Promise((resolve) => {
    let pending = '';
    const emit = (line: string, newline: boolean): void => {
      if (!drop.test(line.replace(/\r$/, ''))) to.write(newline ? `${line}\n` : line);
    };
    from.setEncoding('utf8');
    from.on('data', (chunk: string) => {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop()!;
      for (const line of parts) emit(line, true);
    });
    from.on('end', () => {
      if (pending) emit(pending, false);
      resolve();
    });
  });
}

/** Set in the child, so it runs the command instead of launching another child. */
const CHILD = 'C2AL_CLI_CHILD';

/**
 * Runs this same CLI invocation in a child with filtered stderr and returns its exit code, or null when
 * this process is that child (or C2AL_RAW_STDERR=1 asks for the unfiltered stream): then the caller runs
 * the command itself.
 */
export async function runFiltered(): Promise<number | null> {
  if (process.env[CHILD] === '1') {
    // A parent killed with SIGKILL cannot pass the signal on: the child notices it was orphaned and stops too.
    const parent = process.ppid;
    setInterval(() => { if (process.ppid !== parent) process.exit(137); }, 500).unref();
    return null;
  }
  if (process.env.C2AL_RAW_STDERR === '1') return null;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'pipe'], env: { ...process.env, [CHILD]: '1' },
  });
  const forward = (signal: NodeJS.Signals) => () => { child.kill(signal); };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  const copied = filterLines(child.stderr!, process.stderr);
  const code = await new Promise<number>((resolve) => {
    child.on('close', (c, signal) => resolve(c ?? (signal ? 128 + (signalNumber[signal] ?? 1) : 1)));
  });
  await copied;
  for (const [s, h] of handlers) process.off(s, h);
  return code;
}

const signalNumber: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
