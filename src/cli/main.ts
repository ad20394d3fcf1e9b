#!/usr/bin/env node
/**
 * The `c2al` command line: parses the arguments, checks every option before anything starts, then runs
 * the command (in a child whose stderr is filtered of Dawn's own warnings: quiet-stderr.ts). The C2AL
 * commands (experiment, discover, train, evaluate) live in c2al.ts, doctor and gradcheck in their files;
 * the kernel bench and the training profiler they front are library code in src/perf/. Every command
 * takes --json for machines.
 */
import { parseArgs } from 'node:util';
import { formatReport, measurePeaks, runBench } from '../perf/bench.js';
import { chromeTrace, formatProfile, profileTraining, summarize } from '../perf/profile.js';
import { discoverCommand, evaluateCommand, experimentCommand, trainCommand } from './c2al.js';
import { parseDawnFlags } from '../backend/device.js';
import { runFiltered } from './quiet-stderr.js';
import { C2AL_COMMANDS, CLI_OPTIONS, OptionError, auxHidden, c2alOptions, negativeValuesJoined, oneOf, positiveInt } from './options.js';
import { version, withGpu } from './runtime.js';
import { PROTOCOLS } from '../c2al/protocol.js';
import { doctor } from './doctor.js';
import { gradcheck, gradcheckModule } from './gradcheck.js';
import { crosscheckCommand, exportCommand, importCommand } from './interop.js';

const Q = PROTOCOLS.quick, F = PROTOCOLS.full;
const USAGE = `usage: c2al <command> [options]

commands:
  experiment  C2AL under the protocol: tuning, baselines, discovery, every arm, intervals, report.html (npm start)
  discover    train (or load with --checkpoint) a baseline; divergences, permutation scores and the choice
  train       train --method baseline|c2al over --seeds with early stopping; checkpoints and test-split NE
  evaluate    NE, AUC and calibration per cohort of a saved model (--checkpoint) on --data's test split
  doctor      show the WebGPU runtime, adapter, features and limits, and check what the engine needs
  gradcheck   check every op's gradient: backend vs float64 reference vs finite differences
  bench       time the kernels (validated first) against measured peaks, TF.js-webgpu and our v1 floor
  profile     GPU-time every kernel of a few training steps: Chrome trace, top kernels, phases, overhead
  export      --checkpoint DIR --torch OUT_DIR: the model as a PyTorch project (model.py, train_c2al.py for torchrun/DDP)
  import      --torch FILE.safetensors --config config.json --out DIR: weights trained in PyTorch into a checkpoint folder
  crosscheck  --torch (--checkpoint DIR | --config FILE): our logits, loss, gradients and Adam steps against PyTorch float64

data (experiment, discover, train, evaluate):
  --data SOURCE       synthetic (default), movielens:DIR (MovieLens-100K) or csv:FILE
  --world NAME        synthetic: planted (default: C2AL's premise holds), null (one mechanism for all) or legacy
  --rows N            synthetic rows per world (default: the protocol's, ${Q.rows} quick / ${F.rows} full)
  --cohort AXIS       MovieLens cohort axis: age (default), gender, occupation or activity
  --schema FILE       with csv: the JSON schema (label, categorical, numeric, cohort, cohortGroup, …)
  --skip-bad-rows     with csv: skip and count malformed rows instead of stopping

protocol (experiment; the early-stopping options also train and discover):
  --protocol NAME     quick (default; npm start) or full (docs/results.md): seeds, worlds, arms, tuning, λ candidates
  --seeds N           training seeds, paired across arms (quick ${Q.seeds}, full ${F.seeds}; train: 1)
  --world-seeds N     synthetic generator seeds crossed with them (quick ${Q.worldSeeds}, full ${F.worldSeeds})
  --arms A,B,…        baseline,c2al,random,reweight,duplicate (quick: baseline,c2al,duplicate; full: all)
  --random-draws N    random-pair control draws, each its own arm (quick ${Q.randomDraws}, full ${F.randomDraws})
  --lambda X[,Y…]     λ candidates, chosen on validation (full ${F.lambdas.join(',')}; quick ${Q.lambdas.join(',')}, the full protocol's choice); train: one λ
  --tune, --no-tune   tune the baseline's lr × embedding L2 × dim on validation first (full: on)
  --tune-lr L,…  --tune-l2 L,…  --tune-dim D,…   the tuning grid's axes
  --max-epochs N      epochs at most (quick ${Q.maxEpochs}, full ${F.maxEpochs})     --patience N   evaluations without improvement (quick ${Q.patience}, full ${F.patience})
  --eval-every N      steps between validations (default: once per epoch)
  --permutations N    discovery's permuted labellings (quick ${Q.permutations}, full ${F.permutations})
  --resume DIR        continue a killed run in DIR from its last completed evaluation (same flags)

training (every arm):
  --lr X  --dim N  --batch N  --weight-decay X  --embedding-l2 X  --dropout P  --clip X
  --schedule cosine|step|constant  --warmup N   lr schedule after N warmup steps (default cosine, 100)
  --k N  --y learned|generated                   FM attention columns, and Y learned or generated per sample (default 4, generated)
  --steps N           train: a fixed number of steps instead of early stopping
  --method NAME       train: baseline (default) or c2al
  --aux-cohorts N|A,B auxiliary cohorts: how many (default 2: head and tail), or their names
  --metric NAME       discovery divergence: jsDistance (default), symmetricKL, wasserstein1, cosine
  --binning NAME  --bins N   discovery histograms: quantile (default) or logit bins, 20 of them
  --min-cohort-share X  cohorts below this share of rows are never chosen (default 0.01)
  --freeze-y          keep the FM attention weights Y at their initial values (ablation)
  --aux-hidden H[,H…] hidden sizes of the auxiliary heads' MLPs (default: the primary head's 64,32; 0 = linear)
  --guard-finite      check every step on the device for NaN/Inf; stop naming the step, tensor and layer
  --capture, --no-capture  capture the training step after the first and replay it: one submit per step, the same weights
                      (default: on, except with --guard-finite or --dropout)
  --checkpoint PATH   discover: the baseline to use; evaluate: a checkpoint folder, its .safetensors, or a run folder
  --out DIR           run folder (default runs/<date-time>)

other options:
  --json              print one JSON object instead of text
  --verbose           show the stack trace of a user error
  --backend NAME      gradcheck: webgpu (default) or cpu (the CPU twins in float32)
  --op NAME           gradcheck only this op (repeatable)
  --module FILE       gradcheck the cases a user module exports (see docs/custom-ops.md)
  --filter TEXT       bench only cases whose name contains TEXT
  --quick             bench the smaller sizes only
  --model NAME        profile: experiment (default; the experiment's DHEN, batch 512) or reference (26 × 10⁵, batch 2048)
  --trace FILE        profile: where to write the Chrome trace (default runs/profile-<date-time>.trace.json)
  --torch DIR|FILE    export: the folder to write; import: the safetensors file; crosscheck: compare with PyTorch
  --config FILE       import, crosscheck: the model's config.json
  --dawn FLAGS        Dawn flags, e.g. "adapter=SwiftShader" (also C2AL_DAWN)
  -h, --help          this text
  -v, --version       the package version

environment:
  C2AL_DAWN           Dawn flags, comma separated ("backend=vulkan,enable-dawn-features=a,b")
  VK_ICD_FILENAMES    pick a Vulkan driver, e.g. /usr/lib/chromium/vk_swiftshader_icd.json
`;

/** Errors a user can fix (bad flag, file or data): printed as one line unless --verbose. */
const USER_ERRORS = new Set(['OptionError', 'DataError', 'CheckpointError', 'TensorError', 'ShapeError', 'NonFiniteError', 'BackendError']);
/** Not the user's fault, but not a bug either: one line (with what to do), exit code 3. */
const RUNTIME_ERRORS = new Set(['DeviceLostError', 'NoAdapterError']);

async function profile(json: boolean, o: { model: string; steps?: string; batch?: string; method?: string; trace?: string; auxHidden?: string },
  dawn: string[]): Promise<number> {
  const model = oneOf('model', o.model, ['experiment', 'reference'] as const);
  const c2al = oneOf('method', o.method ?? 'c2al', ['baseline', 'c2al'] as const) === 'c2al';
  const steps = positiveInt('steps', o.steps, 5), batch = o.batch === undefined ? undefined : positiveInt('batch', o.batch, 512);
  return withGpu('profile', dawn, async (gpu) => {
    if (!json) console.log(`profiling ${steps} steps of the ${model} DHEN${c2al ? ' + C2AL heads' : ''} on ${gpu.description}…`);
    const report = await profileTraining(gpu, { model, steps, batch, c2al, auxHidden: auxHidden(o.auxHidden) });
    report.peaks = await measurePeaks(gpu);
    const trace = o.trace ?? `runs/profile-${new Date().toISOString().replace(/[:.]/g, '-')}.trace.json`;
    const { mkdir, writeFile } = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    await mkdir(dirname(trace), { recursive: true });
    await writeFile(trace, JSON.stringify(chromeTrace(report)));
    if (json) console.log(JSON.stringify({ ...report, summary: summarize(report), trace }));
    else console.log(`${formatProfile(report)}\n\ntrace: ${trace} (open in https://ui.perfetto.dev or chrome://tracing)`);
    return 0;
  });
}

async function bench(json: boolean, filter: string | undefined, quick: boolean, dawn: string[]): Promise<number> {
  return withGpu('bench', dawn, async (gpu) => {
    const report = await runBench(gpu, { filter, quick, log: json ? undefined : (line) => console.log(line) });
    console.log(json ? JSON.stringify(report) : `\n${formatReport(report)}`);
    return 0;
  });
}

/** crosscheck's bare `--torch` (a flag there, a path for export and import) as `--torch=`, so parseArgs takes it. */
function torchFlagJoined(argv: string[]): string[] {
  if (argv[0] !== 'crosscheck') return argv;
  return argv.map((a, i) => (a === '--torch' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('-')) ? '--torch=' : a));
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: torchFlagJoined(negativeValuesJoined(argv)), allowPositionals: true,
      options: CLI_OPTIONS,
    });
  } catch (e) {
    console.error(`c2al: ${(e as Error).message.split('\n')[0]} (c2al --help lists the options)`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.version) { console.log(version()); return 0; }
  const [command, ...rest] = positionals;
  if (v.help || !command) { (command || v.help ? console.log : console.error)(USAGE); return command || v.help ? 0 : 2; }
  if (rest.length) { console.error(`c2al ${command}: unexpected argument '${rest[0]}'`); return 2; }
  const dawn = parseDawnFlags(v.dawn);
  const known = [...C2AL_COMMANDS, 'doctor', 'gradcheck', 'bench', 'profile', 'export', 'import', 'crosscheck'];
  if (!known.includes(command)) {
    console.error(`c2al: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  // Options are checked here, before anything starts; then the command runs with Dawn's own stderr lines filtered out.
  const o = (C2AL_COMMANDS as readonly string[]).includes(command) ? c2alOptions(command, v) : null;
  const seeds = positiveInt('seeds', v.seeds, 2);
  const filtered = await runFiltered();
  if (filtered !== null) return filtered;
  if (o) {
    const run = { experiment: experimentCommand, discover: discoverCommand, train: trainCommand,
      evaluate: evaluateCommand }[command as (typeof C2AL_COMMANDS)[number]];
    return withGpu(command, dawn, (gpu) => run(gpu, o));
  }
  switch (command) {
    case 'doctor': return doctor(!!v.json, dawn);
    case 'gradcheck': return v.module ? gradcheckModule(v.module, !!v.json, v.backend!, dawn) : gradcheck(!!v.json, v.backend!, v.op ?? [], seeds, dawn);
    case 'bench': return bench(!!v.json, v.filter, !!v.quick, dawn);
    case 'export': return exportCommand({ checkpoint: v.checkpoint, torch: v.torch, json: !!v.json });
    case 'import': return importCommand({ torch: v.torch, config: v.config, out: v.out, json: !!v.json });
    case 'crosscheck': {
      if (v.torch !== '') throw new OptionError(v.torch === undefined ? 'crosscheck needs --torch (the peer it checks against: PyTorch)'
        : `crosscheck --torch takes no value, got '${v.torch}' (the model comes from --checkpoint or --config)`);
      const batch = v.batch === undefined ? undefined : positiveInt('batch', v.batch, 16);
      return withGpu('crosscheck', dawn, (gpu) => crosscheckCommand(gpu, { checkpoint: v.checkpoint, config: v.config, batch, json: !!v.json }));
    }
    case 'profile': return profile(!!v.json, { model: v.model ?? 'experiment', steps: v.steps, batch: v.batch, method: v.method, trace: v.trace,
      auxHidden: v['aux-hidden'] }, dawn);
    default: return 2; // unreachable: `known` lists every command
  }
}

// Dawn keeps the event loop alive while an instance exists: exit explicitly once output is flushed.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    // A user error (bad flag, file or data) is one line; anything else is a bug worth its stack.
    const err = e as Error, user = USER_ERRORS.has(err?.name ?? ''), runtime = RUNTIME_ERRORS.has(err?.name ?? '');
    console.error((user || runtime) && !process.argv.includes('--verbose') ? `c2al: ${err.message}` : `c2al: ${err?.stack ?? String(e)}`);
    process.exit(user ? 2 : runtime ? 3 : 1);
  },
);
