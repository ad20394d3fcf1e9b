/**
 * BufferPool: GPU storage buffers reused by size bucket (sizes rounded up so waste stays <= 25%).
 * Buffers released while the open command encoder may still use them are parked until flush(): kernel
 * outputs may reuse them at once (dispatches run in order), but uploads may not, because
 * queue.writeBuffer would run before the unsubmitted commands that still read the old contents.
 * Each free list is kept in creation order and hands out its newest buffer first, whatever order the
 * buffers were freed in: a step that allocates what the step before did gets the same buffers, so the
 * backend's cached bind groups (bind-groups.ts) match again. Handed out in the order they were freed, the
 * buffers of one size were a different permutation every step and about half of the groups missed.
 */

export interface PoolStats { bytesInUse: number; bytesAllocated: number; highWater: number; liveBuffers: number }

/** 256 B minimum; above, a quarter of the enclosing power of two. */
export function bucketSize(bytes: number): number {
  if (bytes <= 256) return 256;
  const p = 2 ** Math.floor(Math.log2(bytes - 1));
  const step = p / 4;
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  /** Free and safe for anything (not referenced by the open encoder). */
  private clean = new Map<number, GPUBuffer[]>();
  /** Free, but the open encoder may reference them: outputs only until the next flush. */
  private parked = new Map<number, GPUBuffer[]>();
  private inUse = 0;
  private free = 0;
  private high = 0;
  private live = 0;
  private created = 0;
  /** Each buffer's creation number. */
  private order = new WeakMap<GPUBuffer, number>();

  constructor(private device: GPUDevice, private maxFreeBytes = 512 * 2 ** 20) {}

  /** The size of the buffer acquire() returns: its bucket, or the exact size where the bucket exceeds maxBufferSize. */
  sizeFor(bytes: number, maxBufferSize = Infinity): number {
    const bucket = bucketSize(bytes);
    return bucket > maxBufferSize ? Math.max(4, Math.ceil(bytes / 4) * 4) : bucket;
  }

  /** maxBufferSize: buckets never round a buffer past the adapter's limit (the exact size is used instead). */
  acquire(bytes: number, forUpload: boolean, label: string, maxBufferSize = Infinity): GPUBuffer {
    const size = this.sizeFor(bytes, maxBufferSize);
    const buf = this.take(this.clean, size) ?? (forUpload ? undefined : this.take(this.parked, size)) ?? this.create(size, label);
    this.inUse += size;
    this.live++;
    this.high = Math.max(this.high, this.inUse);
    return buf;
  }

  /** encoderOpen: the open command encoder may reference this buffer. */
  release(buf: GPUBuffer, encoderOpen: boolean): void {
    this.inUse -= buf.size;
    this.live--;
    this.free += buf.size;
    this.push(encoderOpen ? this.parked : this.clean, buf);
    if (!encoderOpen && this.free > this.maxFreeBytes) this.trim(this.maxFreeBytes / 2);
  }

  /** After a submit nothing unsubmitted references parked buffers. */
  onFlush(): void {
    for (const [size, list] of this.parked) for (const b of list) this.push(this.clean, b, size);
    this.parked.clear();
    if (this.free > this.maxFreeBytes) this.trim(this.maxFreeBytes / 2);
  }

  /** Destroys clean free buffers, largest first, until at most `keepBytes` stay free. */
  trim(keepBytes = 0): void {
    const sizes = [...this.clean.keys()].sort((a, b) => b - a);
    for (const size of sizes) {
      const list = this.clean.get(size)!;
      while (list.length && this.free > keepBytes) {
        list.pop()!.destroy(); // submitted work that uses it completes first (WebGPU spec).
        this.free -= size;
      }
      if (!list.length) this.clean.delete(size);
    }
  }

  stats(): PoolStats {
    return { bytesInUse: this.inUse, bytesAllocated: this.inUse + this.free, highWater: this.high, liveBuffers: this.live };
  }

  resetHighWater(): void { this.high = this.inUse; }

  destroyAll(): void {
    this.onFlush();
    this.trim(0);
  }

  private take(map: Map<number, GPUBuffer[]>, size: number): GPUBuffer | undefined {
    const b = map.get(size)?.pop();
    if (b) this.free -= size;
    return b;
  }

  private create(size: number, label: string): GPUBuffer {
    this.created++;
    const buffer = this.device.createBuffer({
      label: `${label} (pool #${this.created}, ${size} B)`,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.order.set(buffer, this.created);
    return buffer;
  }

  /** Into its size's free list, which stays in creation order (take() pops the newest). */
  private push(map: Map<number, GPUBuffer[]>, buf: GPUBuffer, size = buf.size): void {
    const list = map.get(size);
    if (!list) {
      map.set(size, [buf]);
      return;
    }
    const rank = this.order.get(buf)!;
    let i = list.length;
    while (i > 0 && this.order.get(list[i - 1]!)! > rank) i--;
    list.splice(i, 0, buf);
  }
}
