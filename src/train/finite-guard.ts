/**
 * FiniteGuard: a cheap on-device NaN/Inf check for training loops. watch() queues one `first_nonfinite`
 * dispatch per tensor (the first bad element index lands in a u32 slot through an integer atomicMin; no
 * readback, no temporaries); check() reads every slot back at once — one readback per step — and
 * reports the first non-finite tensor in watch order with the step, its name and its layer.
 *
 *   const guard = new FiniteGuard(backend);
 *   const { logits } = model.forward(ids, dense, (layer, out) => guard.watch(out, 'output', layer));
 *   guard.watch(loss, 'loss');
 *   loss.backward();
 *   guard.watchParameters(model.namedParameters());      // gradients (dense and row-sparse), and values
 *   const bad = await guard.check(step);                 // null when everything was finite
 */
import type { Backend } from '../backend/index.js';
import { full } from '../create.js';
import { keep, Tensor, TensorError } from '../tensor.js';

const CHUNK = 1024;
const CLEAN = 0xffffffff;

export interface NonFinite {
  step: number;
  /** The name given to watch(): 'loss', 'output', a parameter name, or '<parameter>.grad'. */
  name: string;
  /** The layer (module path such as 'layers.0.modules.1.cross') the tensor belongs to, or null. */
  layer: string | null;
  shape: number[];
  /** Flat index of the first NaN or ±Inf element. */
  index: number;
  /** How many watched tensors held a non-finite value this step (this one is the first in watch order). */
  count: number;
  /** Every non-finite tensor this step in watch order: parameter names as they are, others as 'layer/name'. */
  all: string[];
}

export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  constructor(readonly report: NonFinite) {
    super(`step ${report.step}: ${report.name}${report.layer ? ` of ${report.layer}` : ''} (shape [${report.shape.join(', ')}]) holds a NaN or Inf at ` +
      `element ${report.index}` +
      (report.count > 1 ? `; ${report.count} watched tensors are non-finite: ${report.all.slice(0, 8).join(', ')}${report.count > 8 ? ', …' : ''}` : ''));
  }
}

interface Entry { name: string; layer: string | null; shape: number[] }

export class FiniteGuard {
  private chunks: Tensor[] = [];
  private entries: Entry[] = [];

  constructor(readonly backend: Backend) {}

  /** Queues a check of an f32 tensor under `name` (and `layer`); the tensor may be disposed right after. */
  watch(t: Tensor, name: string, layer: string | null = null): void {
    if (!(t instanceof Tensor)) throw new TensorError(`FiniteGuard.watch: '${name}' must be a Tensor, got ${t === null ? 'null' : typeof t}`);
    t.assertUsable(`FiniteGuard.watch '${name}'`);
    if (t.dtype !== 'f32') throw new TensorError(`FiniteGuard.watch: '${name}' must be f32, got ${t.describe()}`);
    if (t.backend !== this.backend) throw new TensorError(`FiniteGuard.watch: '${name}' ${t.describe()} is on ${t.backend.description}, the guard on ` +
      `${this.backend.description}`);
    const slot = this.entries.length;
    if (slot % CHUNK === 0 && !this.chunks[slot / CHUNK]) this.chunks.push(keep(full([CHUNK], CLEAN, { backend: this.backend, dtype: 'u32' })));
    this.entries.push({ name, layer, shape: [...t.shape] });
    if (t.size > 0) this.backend.run('first_nonfinite', [t.storage], [this.chunks[Math.floor(slot / CHUNK)]!.storage], { n: t.size, slot: slot % CHUNK });
  }

  /**
   * Queues checks of named parameters: their gradients (dense `grad` and the values of row-sparse parts,
   * named `<param>.grad`) and, with values, the parameters themselves. The layer is the name's module path.
   */
  watchParameters(named: readonly (readonly [string, Tensor])[], opts: { grads?: boolean; values?: boolean } = {}): void {
    for (const [name, p] of named) {
      const layer = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : null;
      if (opts.values ?? true) this.watch(p, name, layer);
      if (opts.grads ?? true) {
        if (p.grad) this.watch(p.grad, `${name}.grad`, layer);
        p.rowGrads.forEach((part, i) => this.watch(part.values, p.rowGrads.length > 1 ? `${name}.grad[${i}]` : `${name}.grad`, layer));
      }
    }
  }

  /** Tensors watched since the last check. */
  get pending(): number { return this.entries.length; }

  /** Reads every slot back (one readback), resets, and returns the first non-finite tensor in watch order, or null. */
  async check(step: number): Promise<NonFinite | null> {
    const entries = this.entries;
    this.entries = [];
    if (entries.length === 0) return null;
    const used = Math.ceil(entries.length / CHUNK);
    const flags = await Promise.all(this.chunks.slice(0, used).map((c) => c.read()));
    // Ready for the next step: one fill per chunk used (queued; runs before the next watch's dispatches).
    for (const c of this.chunks.slice(0, used)) this.backend.run('fill', [], [c.storage], { n: CHUNK, value: CLEAN, dtype: 'u32' });
    const bad: { entry: Entry; index: number }[] = [];
    entries.forEach((entry, slot) => {
      const v = flags[Math.floor(slot / CHUNK)]![slot % CHUNK]!;
      if (v !== CLEAN) bad.push({ entry, index: v });
    });
    if (!bad.length) return null;
    const { entry, index } = bad[0]!;
    const label = (e: Entry): string => (!e.layer || e.name.startsWith(`${e.layer}.`) ? e.name : `${e.layer}/${e.name}`);
    return { step, name: entry.name, layer: entry.layer, shape: entry.shape, index, count: bad.length, all: bad.map((b) => label(b.entry)) };
  }

  /** check(), throwing a NonFiniteError that names the step, the tensor and its layer. */
  async assertFinite(step: number): Promise<void> {
    const report = await this.check(step);
    if (report) throw new NonFiniteError(report);
  }

  dispose(): void {
    for (const c of this.chunks) c.dispose();
    this.chunks = [];
    this.entries = [];
  }
}
