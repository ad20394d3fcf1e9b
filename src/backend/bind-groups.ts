/**
 * Bind groups by what they bind. A training step dispatches the same kernels on the same pooled buffers
 * every step (the pool hands each size's free buffers out in creation order: buffers.ts), so its bind groups
 * recur, and creating one costs Dawn ~30 µs of host time: 2.9 of the experiment step's 10 ms op by op. A buffer
 * that was destroyed is never handed out again, and its id is never reused, so an entry that binds one
 * can never be hit; the cache keeps the `capacity` most recently used entries.
 */

/** One bound range: binding i of a bind group is ranges[i]. */
export interface BoundRange { buffer: GPUBuffer; offset: number; size: number }

export class BindGroupCache {
  hits = 0;
  misses = 0;
  private ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  private groups = new Map<string, GPUBindGroup>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`BindGroupCache: capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number { return this.groups.size; }

  /** The bind group of `kernel` over `ranges`, made by `create` the first time (and again after it was evicted). */
  get(kernel: string, ranges: readonly BoundRange[], create: () => GPUBindGroup): GPUBindGroup {
    let key = kernel;
    for (const r of ranges) key += `|${this.idOf(r.buffer)}:${r.offset}:${r.size}`;
    const cached = this.groups.get(key);
    if (cached) {
      this.hits++;
      // Most recently used last: Map keeps insertion order, so the first key is the one to evict.
      this.groups.delete(key);
      this.groups.set(key, cached);
      return cached;
    }
    this.misses++;
    const made = create();
    this.groups.set(key, made);
    if (this.groups.size > this.capacity) this.groups.delete(this.groups.keys().next().value!);
    return made;
  }

  clear(): void { this.groups.clear(); }

  private idOf(buffer: GPUBuffer): number {
    let id = this.ids.get(buffer);
    if (id === undefined) this.ids.set(buffer, (id = this.nextId++));
    return id;
  }
}
