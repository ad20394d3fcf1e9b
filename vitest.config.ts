import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

// Two projects run the same test files: `node` on Dawn (lavapipe or whatever adapter Dawn picks) and
// `browser` in Debian's Chromium on its WebGPU (SwiftShader), except test/node/ (files, child processes,
// the CLI: Node only). Then `parity` compares what both wrote. Values reach tests through inject().
const allowNoGpu = process.env.C2AL_ALLOW_NO_GPU === '1';
// Files older than this run are never compared by the parity project.
const runStarted = Date.now();
const PARITY_COMPARE = 'test/parity/compare.test.ts';
const chromiumArgs = [
  '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
];

export default defineConfig({
  test: {
    setupFiles: ['test/support/setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          // Dawn is a native addon: keep each file in its own process (threads misbehave with it).
          pool: 'forks',
          include: ['test/**/*.test.ts'],
          exclude: [PARITY_COMPARE],
          provide: { allowNoGpu, project: 'node', propRuns: 40, runStarted },
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          // SwiftShader is ~10x slower than lavapipe: fewer property-test runs there.
          include: ['test/**/*.test.ts'],
          exclude: [PARITY_COMPARE, 'test/node/**'],
          provide: { allowNoGpu, project: 'browser', propRuns: 12, runStarted },
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: process.env.C2AL_CHROMIUM ?? '/usr/bin/chromium', args: chromiumArgs } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        // After node and browser (groupOrder): compares the results both wrote (test/parity.test.ts).
        extends: true,
        test: {
          name: 'parity',
          environment: 'node',
          pool: 'forks',
          include: [PARITY_COMPARE],
          sequence: { groupOrder: 1 },
          provide: { allowNoGpu, project: 'node', propRuns: 40, runStarted },
        },
      },
    ],
  },
});

declare module 'vitest' {
  export interface ProvidedContext {
    allowNoGpu: boolean;
    project: 'node' | 'browser';
    propRuns: number;
    runStarted: number;
  }
}
