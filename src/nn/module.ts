/**
 * Module: named parameters plus a call (micrograd's nn.py, with stable dotted names such as
 * `layers.0.fm.y` for checkpoints). Parameters are kept tensors (they survive every scope) that require
 * grad; a module owns them until dispose().
 */
import type { Backend } from '../backend/index.js';
import { getBackend, keep, TensorError, type Tensor } from '../tensor.js';

/** Parameters registered while a constructor guarded by beginBuild() runs (outermost guard owns the list). */
const building: Tensor[] = [];
let buildDepth = 0;

/** Call first in a constructor that registers parameters; pair with endBuild(mark, completed) in a finally. */
export function beginBuild(): number {
  buildDepth++;
  return building.length;
}

/**
 * Ends a guarded constructor. When it threw (completed false: a size over the adapter's limit, a config
 * error found late), the parameters it and its children had registered are freed, so a refused model
 * leaks nothing.
 */
export function endBuild(mark: number, completed: boolean): void {
  if (!completed) for (const t of building.splice(mark)) t.dispose();
  if (--buildDepth === 0) building.length = 0;
}

export abstract class Module {
  training = true;
  readonly backend: Backend;
  private ownParams = new Map<string, Tensor>();
  private children = new Map<string, Module>();

  constructor(backend?: Backend) {
    this.backend = backend ?? getBackend();
  }

  /** Registers a parameter under `name` (kept, requiresGrad) and returns it. */
  protected param(name: string, t: Tensor): Tensor {
    if (this.ownParams.has(name) || this.children.has(name)) throw new TensorError(`${this.constructor.name}: '${name}' is registered twice`);
    t.requiresGrad = true;
    t.name = name;
    this.ownParams.set(name, keep(t));
    if (buildDepth) building.push(t);
    return t;
  }

  /** Registers a child module under `name` (its parameters are named `name.…`) and returns it. */
  protected child<M extends Module>(name: string, m: M): M {
    if (this.ownParams.has(name) || this.children.has(name)) throw new TensorError(`${this.constructor.name}: '${name}' is registered twice`);
    this.children.set(name, m);
    return m;
  }

  /** Parameters with their dotted names, in registration order (stable across runs). */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.ownParams].map(([n, t]) => [prefix + n, t]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  parameterCount(): number {
    return this.parameters().reduce((acc, t) => acc + t.size, 0);
  }

  /** Train mode (dropout active, …) for this module and its children; returns this. */
  train(on = true): this {
    this.training = on;
    for (const c of this.children.values()) c.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}
