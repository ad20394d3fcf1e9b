/** Every kernel of the table at random sizes against its float64 twin (the cases of test/support/kernel-cases.ts). */
import { fc, test } from '@fast-check/vitest';
import { describe } from 'vitest';
import { gpu, propRuns } from '../support/gpu.js';
import { kernelCase, kernelNames, reference, runKernel, runnable } from '../support/kernel-cases.js';
import { expectClose } from '../support/util.js';

const ref = reference;
const opts = { numRuns: propRuns };

describe.skipIf(!gpu)('kernels agree with their float64 twins', () => {
  test.prop([fc.constantFrom(...kernelNames.filter((k) => runnable(gpu, k))), fc.integer({ min: 1, max: 3000 }), fc.nat()], opts)(
    'every kernel at random sizes', async (kernel, n, seed) => {
      const c = kernelCase(kernel, n, seed);
      const want = await runKernel(ref, kernel, c);
      const got = await runKernel(gpu!, kernel, c);
      want.forEach((w, i) => expectClose(got[i]!, w, c.atol, c.rtol, `${kernel} output ${i}`));
    });
});
