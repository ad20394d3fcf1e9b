/**
 * What the engine is doing right now, for the profiler to tag each kernel with: the phase of the step
 * (forward, backward, optimizer, metrics) and the op whose forward or backward launched it. Plain
 * synchronous stacks: a push and a pop per op, nothing else, whether or not a profiler listens.
 */
export type Phase = 'forward' | 'backward' | 'optimizer' | 'metrics';

let phase: Phase = 'forward';
const ops: { name: string; shapes: readonly (readonly number[])[] }[] = [];

export function currentPhase(): Phase { return phase; }

/** The outermost op being run (backward rules that call other ops keep the op they differentiate). */
export function currentOp(): { name: string; shapes: readonly (readonly number[])[] } | null { return ops[0] ?? null; }

export function withPhase<T>(p: Phase, fn: () => T): T {
  const prev = phase;
  phase = p;
  try {
    return fn();
  } finally {
    phase = prev;
  }
}

export function withOp<T>(name: string, shapes: readonly (readonly number[])[], fn: () => T): T {
  ops.push({ name, shapes });
  try {
    return fn();
  } finally {
    ops.pop();
  }
}
