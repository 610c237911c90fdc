/**
 * The memory large request bodies may occupy, as a pool of reusable buffers with a fixed total.
 *
 * Each request holds its body until the publish is acknowledged; without a common bound, 80
 * concurrent 8 MiB bodies are 640 MiB on a 512 MiB instance. Counting bytes is not enough either:
 * a released body is garbage the collector frees when it gets to it, and measured, a flood of large
 * forged requests kept several hundred MiB of such garbage alive on top of any byte count. Reusing
 * the buffers instead makes the bound real: bodies over the free size live in buffers from this
 * pool, a released buffer is handed to the next request, and the pool never holds more than its
 * total. A request that cannot get a buffer in time is answered 503 (Customer.io retries those
 * without its hour-long back-off) instead of taking the instance down.
 */
export interface BufferPool {
  /**
   * A buffer of at least `bytes`, or null if none could be had within `waitMs` or `signal` aborted
   * first. An aborted wait leaves the queue at once: a buffer is never handed to a request that is
   * gone (it would never come back).
   */
  acquire(bytes: number, waitMs: number, signal?: AbortSignal): Promise<Buffer | null>;
  /** Hands a buffer from acquire() back; it must not be used afterwards. */
  release(buffer: Buffer): void;
  /** Bytes in buffers, handed out or free. */
  readonly allocated: number;
  /** Bytes in buffers handed out and not released yet. */
  readonly inUse: number;
  readonly total: number;
}

/** Buffers come in powers of two from this size up, so a released one fits many later requests. */
const SMALLEST_CLASS = 64 * 1024;

export function sizeClass(bytes: number): number {
  let size = SMALLEST_CLASS;
  while (size < bytes) size *= 2;
  return size;
}

interface Waiter {
  size: number;
  resolve(buffer: Buffer | null): void;
  timer: NodeJS.Timeout;
}

export function createBufferPool(total: number): BufferPool {
  const free = new Map<number, Buffer[]>();
  const waiters: Waiter[] = [];
  let allocated = 0;
  let idle = 0;

  /**
   * A buffer of at least `size`: an idle one of that size, new memory while the total allows, else
   * the smallest idle larger one (a body handed more room than it asked for grows no further), and
   * only then new memory made by dropping idle buffers of other sizes. Each dropped buffer is
   * garbage until the collector runs, outside the total: measured, 40 signed 1–7 MiB bodies at once,
   * growing as they arrived, churned through 238 MiB of allocations for a 64 MiB pool when every
   * miss dropped and reallocated.
   */
  const allocate = (size: number): Buffer => {
    allocated += size;
    return Buffer.allocUnsafeSlow(size);
  };
  const take = (size: number): Buffer | null => {
    const reused = free.get(size)?.pop();
    if (reused) {
      idle -= size;
      return reused;
    }
    if (allocated + size <= total) return allocate(size);
    const larger = [...free.keys()].filter((other) => other > size && free.get(other)!.length > 0).sort((a, b) => a - b)[0];
    if (larger !== undefined) {
      idle -= larger;
      return free.get(larger)!.pop()!;
    }
    if (allocated - idle + size > total) return null;
    for (const [other, list] of free) {
      while (allocated + size > total && list.length > 0) {
        list.pop();
        allocated -= other;
        idle -= other;
      }
    }
    return allocate(size);
  };

  const serve = () => {
    // Arrival order: a small request never overtakes a large one that waits (no starvation).
    while (waiters.length > 0) {
      const buffer = take(waiters[0]!.size);
      if (!buffer) return;
      const waiter = waiters.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve(buffer);
    }
  };

  return {
    total,
    get allocated() {
      return allocated;
    },
    get inUse() {
      return allocated - idle;
    },
    acquire(bytes, waitMs, signal) {
      const size = sizeClass(bytes);
      if (size > total || signal?.aborted) return Promise.resolve(null);
      const buffer = waiters.length === 0 ? take(size) : null;
      if (buffer) return Promise.resolve(buffer);
      return new Promise((resolve) => {
        // Leaving the queue (timeout or abort) may unblock the waiters behind this one.
        const leave = () => {
          const index = waiters.indexOf(waiter);
          if (index < 0) return;
          waiters.splice(index, 1);
          clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', leave);
          resolve(null);
          serve();
        };
        const waiter: Waiter = {
          size,
          resolve: (got) => {
            signal?.removeEventListener('abort', leave);
            resolve(got);
          },
          timer: setTimeout(leave, waitMs),
        };
        waiters.push(waiter);
        signal?.addEventListener('abort', leave, { once: true });
      });
    },
    release(buffer) {
      const size = buffer.length;
      const list = free.get(size) ?? [];
      list.push(buffer);
      free.set(size, list);
      idle += size;
      serve();
    },
  };
}
