/** Small statistics shared by the benchmarks, the profiler and the experiment (no dependencies). */

/** The median of `xs` (the upper one for an even count); `xs` is not modified. */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
