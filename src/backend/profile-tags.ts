/**
 * What the engine is doing right now, for the profiler to tag each kernel with: the phase of the step
 * (forward, backward, optimizer, metrics) and the op whose forward or backward launched it. Plain
 * synchronous stacks: a push and a pop per op, nothing else, whether or not a profiler listens.
 */
export type Phase = 'forward' | 'backward' | 'optimizer' | 'metrics';

let phase: Phase = 'forward';
// The inputs themselves, not their shapes: reading shapes is left to a profiler, off the op hot path.
const ops: { name: string; inputs: readonly { readonly shape: readonly number[] }[] }[] = [];

export function currentPhase(): Phase { return phase; }

/** The outermost op being run (backward rules that call other ops keep the op they differentiate). */
export function currentOp(): { name: string; shapes: number[][] } | null {
  const op = ops[0];
  return op ? { name: op.name, shapes: op.inputs.map((x) => [...x.shape]) } : null;
}

export function withPhase<T>(p: Phase, fn: () => T): T {
  const prev = phase;
  phase = p;
  try {
    return fn();
  } finally {
    phase = prev;
  }
}

export function withOp<T>(name: string, inputs: readonly { readonly shape: readonly number[] }[], fn: () => T): T {
  ops.push({ name, inputs });
  try {
    return fn();
  } finally {
    ops.pop();
  }
}
