import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

// Two projects run the same test files: `node` on Dawn (lavapipe or whatever adapter Dawn picks) and
// `browser` in Debian's Chromium on its WebGPU (SwiftShader). Values reach tests through inject().
const allowNoGpu = process.env.C2AL_ALLOW_NO_GPU === '1';
const chromiumArgs = [
  '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
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
          provide: { allowNoGpu, project: 'node', propRuns: 40 },
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          // SwiftShader is ~10x slower than lavapipe: fewer property-test runs there.
          provide: { allowNoGpu, project: 'browser', propRuns: 12 },
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: process.env.C2AL_CHROMIUM ?? '/usr/bin/chromium', args: chromiumArgs } }),
            instances: [{ browser: 'chromium' }],
          },
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
  }
}
