/**
 * The CLI's option checks: every bad value is one line naming the option, the value and what is allowed
 * (OptionError, exit code 2), raised before any work starts.
 */
import { BINNINGS, METRICS, type Binning, type DivergenceMetric } from '../c2al/discovery.js';
import { ARM_KINDS, type ArmKind } from '../c2al/arms.js';
import type { Hyper, Protocol, TuningGrid } from '../c2al/protocol.js';
import { WORLDS, type SyntheticWorld } from '../data/synthetic.js';

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

const str = { type: 'string' } as const, flag = { type: 'boolean' } as const;
/** Every option of every command, for node:util parseArgs (values are checked by the commands' own parsers). */
export const CLI_OPTIONS = {
  json: flag, verbose: flag, backend: { type: 'string', default: 'webgpu' }, op: { type: 'string', multiple: true }, module: str, filter: str, quick: flag,
  data: str, rows: str, world: str, 'world-seeds': str, cohort: str, schema: str, 'skip-bad-rows': flag, out: str, resume: str, checkpoint: str,
  protocol: str, seeds: str, arms: str, lambda: str, tune: flag, 'no-tune': flag, 'tune-lr': str, 'tune-l2': str, 'tune-dim': str,
  lr: str, dim: str, 'weight-decay': str, 'embedding-l2': str, batch: str, schedule: str, warmup: str, clip: str, dropout: str, k: str, y: str,
  'max-epochs': str, patience: str, 'eval-every': str, 'random-draws': str, permutations: str, steps: str,
  'aux-cohorts': str, metric: str, binning: str, bins: str, 'min-cohort-share': str, 'freeze-y': flag, 'aux-hidden': str,
    'guard-finite': flag, capture: flag, 'no-capture': flag, method: str,
  model: str, trace: str, dawn: str, torch: str, config: str, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' },
} as const;

/** Options of the C2AL commands, every value checked (OptionError) before anything runs. */
export interface C2alCliOptions {
  json: boolean;
  data: string;
  rows?: number;
  world: SyntheticWorld;
  cohort: string;
  schema?: string;
  skipBadRows?: boolean;
  protocol: Protocol['name'];
  seeds?: number;
  worldSeeds?: number;
  arms?: ArmKind[];
  lambdas?: number[];
  tune?: boolean;
  grid: Partial<TuningGrid>;
  hyper: Partial<Hyper>;
  maxEpochs?: number;
  patience?: number;
  evalEvery?: number;
  randomDraws?: number;
  permutations?: number;
  /** train: fixed-length training without early stopping. */
  steps?: number;
  auxCohorts?: number | string[];
  metric?: DivergenceMetric;
  binning?: Binning;
  bins?: number;
  minShare?: number;
  freezeY: boolean;
  finiteGuard: boolean;
  capture?: boolean | 'auto';
  auxHidden?: number[];
  method: 'baseline' | 'c2al';
  checkpoint?: string;
  resume?: string;
  out?: string;
}

const list = (name: string, v: string | undefined, parse: (x: string) => number): number[] | undefined => {
  if (v === undefined) return undefined;
  const xs = v.split(',').map((x) => x.trim());
  if (!xs.length || xs.some((x) => x === '')) throw new OptionError(`--${name} must be a comma-separated list of numbers, got '${v}'`);
  return xs.map(parse);
};

export function c2alOptions(command: string, v: Record<string, string | boolean | string[] | undefined>): C2alCliOptions {
  const s = (k: string) => v[k] as string | undefined;
  const int = (k: string): number | undefined => (s(k) === undefined ? undefined : positiveInt(k, s(k), 1));
  const num = (k: string, ok: (n: number) => boolean, want: string): number | undefined => number(k, s(k), ok, want);
  const nonNegative = (k: string) => num(k, (n) => n >= 0, 'a number >= 0');
  const lambdas = list('lambda', s('lambda'), (x) => number('lambda', x, (n) => n >= 0, 'a number >= 0 (or a comma-separated list of them)')!);
  const aux = s('aux-cohorts');
  let auxCohorts: number | string[] | undefined;
  if (aux !== undefined) auxCohorts = /^\d+$/.test(aux) ? positiveInt('aux-cohorts', aux, 2) : aux.split(',').map((x) => x.trim()).filter(Boolean);
  const arms = s('arms')?.split(',').map((a) => oneOf('arms', a.trim(), ARM_KINDS));
  if (arms && !arms.includes('baseline')) throw new OptionError(`--arms must include baseline (every arm is compared with it), got '${s('arms')}'`);
  if (v.tune && v['no-tune']) throw new OptionError('--tune and --no-tune exclude each other');
  if (v.capture && v['no-capture']) throw new OptionError('--capture and --no-capture exclude each other');
  if (s('steps') !== undefined && command !== 'train') {
    positiveInt('steps', s('steps'), 1);
    throw new OptionError(`--steps is an option of train; ${command} trains every arm to early stopping (--max-epochs, --patience)`);
  }
  const grid: Partial<TuningGrid> = {};
  for (const [flag, axis, ok] of [['tune-lr', 'lr', (n: number) => n > 0], ['tune-l2', 'embeddingL2', (n: number) => n >= 0],
    ['tune-dim', 'dim', (n: number) => Number.isInteger(n) && n >= 1]] as const) {
    const xs = list(flag, s(flag), (x) => number(flag, x, ok, axis === 'dim' ? 'a positive integer' : axis === 'lr' ? 'a number > 0' : 'a number >= 0')!);
    if (xs) grid[axis] = xs;
  }
  const hyper: Partial<Hyper> = {};
  const set = <K extends keyof Hyper>(k: K, x: Hyper[K] | undefined) => { if (x !== undefined) hyper[k] = x; };
  set('lr', num('lr', (n) => n > 0, 'a number > 0'));
  set('dim', int('dim'));
  set('weightDecay', nonNegative('weight-decay'));
  set('embeddingL2', nonNegative('embedding-l2'));
  set('batch', int('batch'));
  set('schedule', s('schedule') === undefined ? undefined : oneOf('schedule', s('schedule')!, ['cosine', 'step', 'constant'] as const));
  set('warmup', s('warmup') === undefined ? undefined : number('warmup', s('warmup'), (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0 (steps)'));
  set('clip', num('clip', (n) => n > 0, 'a number > 0'));
  set('dropout', num('dropout', (n) => n >= 0 && n < 1, 'a number in [0, 1)'));
  set('k', int('k'));
  set('y', s('y') === undefined ? undefined : oneOf('y', s('y')!, ['learned', 'generated'] as const));
  return {
    json: !!v.json, data: s('data') ?? 'synthetic', rows: int('rows'), world: oneOf('world', s('world') ?? 'planted', WORLDS),
    cohort: s('cohort') ?? 'age', schema: s('schema'), skipBadRows: !!v['skip-bad-rows'],
    protocol: oneOf('protocol', s('protocol') ?? 'quick', ['quick', 'full'] as const),
    seeds: int('seeds'), worldSeeds: int('world-seeds'), arms, lambdas, tune: v.tune ? true : v['no-tune'] ? false : undefined, grid, hyper,
    maxEpochs: int('max-epochs'), patience: int('patience'), evalEvery: int('eval-every'), randomDraws: int('random-draws'),
      permutations: int('permutations'), steps: int('steps'),
    auxCohorts, metric: s('metric') === undefined ? undefined : oneOf<DivergenceMetric>('metric', s('metric')!, METRICS),
    binning: s('binning') === undefined ? undefined : oneOf<Binning>('binning', s('binning')!, BINNINGS),
    bins: s('bins') === undefined ? undefined : number('bins', s('bins'), (n) => Number.isInteger(n) && n >= 2, 'an integer >= 2'),
    minShare: num('min-cohort-share', (n) => n >= 0 && n < 1, 'a share in [0, 1)'),
    auxHidden: auxHidden(s('aux-hidden')), freezeY: !!v['freeze-y'], finiteGuard: !!v['guard-finite'],
    // Neither flag: train()'s 'auto' decides where a captured step can run. --capture insists, --no-capture declines.
    capture: v.capture ? true : v['no-capture'] ? false : 'auto',
    method: oneOf('method', s('method') ?? 'baseline', ['baseline', 'c2al'] as const), checkpoint: s('checkpoint'), resume: s('resume'), out: s('out'),
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
