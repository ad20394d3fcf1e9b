// The c2al/testing matchers, typed for this test suite (as docs/custom-ops.md tells users to do).
import type { C2alMatchers } from '../../src/testing/index.js';

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- vitest declares Matchers<T = any>
  interface Matchers<T = any> extends C2alMatchers<T> {}
}
