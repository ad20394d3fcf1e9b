// Runs before `npm start` and `npm test`: is there a WebGPU adapter (and, with --browser, a Chromium)?
// If not, on Debian/Ubuntu as root it installs the CPU Vulkan driver (Mesa >= 24 lavapipe) and says so;
// elsewhere, or with C2AL_NO_SYSTEM_SETUP=1, it prints the exact command to run and exits non-zero.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const wantBrowser = process.argv.includes('--browser');
const setupScript = fileURLToPath(new URL('./system-setup.sh', import.meta.url));
const chromium = process.env.C2AL_CHROMIUM ?? '/usr/bin/chromium';

/** Probes in a child process: a Dawn instance that found no driver cannot be asked again. */
function probe() {
  const code = `import('webgpu').then(async ({ create, globals }) => {
    Object.assign(globalThis, globals);
    const flags = (process.env.C2AL_DAWN ?? '').split(',').filter(Boolean);
    const a = await create(flags).requestAdapter();
    console.log(JSON.stringify(a ? { ok: true, description: a.info.description || a.info.vendor + ' ' + a.info.architecture } : { ok: false }));
    process.exit(0);
  }).catch((e) => { console.log(JSON.stringify({ ok: false, error: String(e.message ?? e) })); process.exit(0); });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    return { ok: false, error: (r.stderr || r.stdout || 'probe failed').trim().split('\n').pop() };
  }
}

function osRelease() {
  try {
    return Object.fromEntries(readFileSync('/etc/os-release', 'utf8').split('\n').filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')]));
  } catch {
    return {};
  }
}

const os = osRelease();
const debianLike = process.platform === 'linux' && /debian|ubuntu/.test(`${os.ID} ${os.ID_LIKE ?? ''}`);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const mayInstall = debianLike && isRoot && process.env.C2AL_NO_SYSTEM_SETUP !== '1';
const command = `${isRoot ? '' : 'sudo '}bash ${setupScript}${wantBrowser ? '' : ' --no-chromium'}`;

let adapter = probe();
const missingBrowser = wantBrowser && !existsSync(chromium);
if (adapter.ok && !missingBrowser) {
  console.log(`c2al: WebGPU adapter: ${adapter.description}${wantBrowser ? `; browser: ${chromium}` : ''}`);
  process.exit(0);
}

const missing = [!adapter.ok && 'no WebGPU adapter (Dawn found no Vulkan driver)',
  missingBrowser && `no Chromium at ${chromium}`].filter(Boolean).join(' and ');
if (!mayInstall) {
  console.error(`c2al: ${missing}${adapter.error ? ` [${adapter.error}]` : ''}.`);
  console.error(debianLike
    ? `Run this, then retry:\n  ${command}`
    : 'Install a Vulkan driver (Mesa >= 24 lavapipe gives a CPU adapter) and Chromium with your package manager, then retry.');
  process.exit(1);
}

console.log(`c2al: ${missing}; installing ` +
  `${adapter.ok ? '' : 'Mesa lavapipe (CPU Vulkan)'}${!adapter.ok && missingBrowser ? ' and ' : ''}${missingBrowser ? 'Chromium' : ''} with ${command}`);
const r = spawnSync('bash', [setupScript, ...(wantBrowser ? [] : ['--no-chromium'])], { stdio: ['ignore', 'inherit', 'inherit'] });
adapter = probe();
if (r.status !== 0 || !adapter.ok || (wantBrowser && !existsSync(chromium))) {
  console.error(`c2al: setup did not produce a working adapter${wantBrowser ? ' and browser' : ''} (${adapter.error ?? `exit ${r.status}`}). See \`npx ` +
    `c2al doctor\`.`);
  process.exit(1);
}
console.log(`c2al: WebGPU adapter: ${adapter.description}`);
