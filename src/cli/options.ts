/**
 * The CLI's option checks: every bad value is one line naming the option, the value and what is allowed
 * (OptionError, exit code 2), raised before any work starts.
 */
import type { C2alCliOptions } from './c2al.js';
import { METRICS, type DivergenceMetric } from '../c2al/discovery.js';

/** A bad flag value: one line, exit code 2. */
export class OptionError extends Error {
  override name = 'OptionError';
}

export function positiveInt(name: string, v: string | undefined, dflt: number): number {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new OptionError(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

/** --aux-hidden: hidden sizes "64,32", or "0" / "none" for linear auxiliary heads. */
export function auxHidden(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  return v === '0' || v === 'none' ? [] : v.split(',').map((x) => positiveInt('aux-hidden', x.trim(), 1));
}

export function number(name: string, v: string | undefined, ok: (x: number) => boolean, want: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new OptionError(`--${name} must be ${want}, got '${v}'`);
  return n;
}

export function oneOf<T extends string>(name: string, v: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new OptionError(`--${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

export const C2AL_COMMANDS = ['experiment', 'discover', 'train', 'evaluate'] as const;

export function c2alOptions(command: string, v: Record<string, string | boolean | string[] | undefined>): C2alCliOptions {
  const s = (k: string) => v[k] as string | undefined;
  const lambdas = (s('lambda') ?? '0.5').split(',').map((x) => number('lambda', x, (n) => n >= 0, 'a number >= 0 (or a comma-separated list)')!);
  const aux = s('aux-cohorts');
  let auxCohorts: number | string[] | undefined;
  if (aux !== undefined) auxCohorts = /^\d+$/.test(aux) ? positiveInt('aux-cohorts', aux, 2) : aux.split(',').map((x) => x.trim()).filter(Boolean);
  if (s('steps') !== undefined && s('epochs') !== undefined) throw new OptionError('--steps and --epochs exclude each other');
  return {
    json: !!v.json, data: s('data') ?? 'synthetic', rows: positiveInt('rows', s('rows'), 100_000), cohort: s('cohort') ?? 'age', schema: s('schema'), skipBadRows: !!v['skip-bad-rows'],
    seeds: positiveInt('seeds', s('seeds'), command === 'experiment' ? 3 : 1),
    steps: s('steps') === undefined ? undefined : positiveInt('steps', s('steps'), 200),
    epochs: number('epochs', s('epochs'), (n) => n > 0, 'a number > 0'),
    batch: s('batch') === undefined ? undefined : positiveInt('batch', s('batch'), 512),
    lambdas, lambdaHead: number('lambda-head', s('lambda-head'), (n) => n >= 0, 'a number >= 0'), lambdaTail: number('lambda-tail', s('lambda-tail'), (n) => n >= 0, 'a number >= 0'),
    auxCohorts, select: oneOf('select', s('select') ?? 'divergence', ['divergence', 'random'] as const),
    metric: oneOf<DivergenceMetric>('metric', s('metric') ?? 'jsDistance', METRICS),
    minShare: number('min-cohort-share', s('min-cohort-share'), (n) => n >= 0 && n < 1, 'a share in [0, 1)') ?? 0.01,
    checkpointEvery: s('checkpoint-every') === undefined ? undefined : positiveInt('checkpoint-every', s('checkpoint-every'), 1), resume: s('resume'),
    auxHidden: auxHidden(s('aux-hidden')),
    freezeY: !!v['freeze-y'], finiteGuard: !!v['guard-finite'], capture: !!v.capture, method: oneOf('method', s('method') ?? 'baseline', ['baseline', 'c2al'] as const), checkpoint: s('checkpoint'), out: s('out'),
  };
}

/**
 * `--steps -5` as `--steps=-5`: parseArgs takes a value that starts with '-' for an option ("argument is
 * ambiguous"); joined, the value reaches the option's own check and its message.
 */
export function negativeValuesJoined(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!, next = argv[i + 1];
    if (/^--[a-z][a-z-]*$/.test(a) && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}
