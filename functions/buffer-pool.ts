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
  /** A buffer of at least `bytes`, or null if none could be had within `waitMs`. */
  acquire(bytes: number, waitMs: number): Promise<Buffer | null>;
  /** Hands a buffer from acquire() back; it must not be used afterwards. */
  release(buffer: Buffer): void;
  /** Bytes in buffers, handed out or free. */
  readonly allocated: number;
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

  /** A buffer of `size` from the free lists or new memory, making room by dropping idle buffers. */
  const take = (size: number): Buffer | null => {
    const reused = free.get(size)?.pop();
    if (reused) {
      idle -= size;
      return reused;
    }
    if (allocated - idle + size > total) return null;
    for (const [other, list] of free) {
      while (allocated + size > total && list.length > 0) {
        list.pop();
        allocated -= other;
        idle -= other;
      }
    }
    if (allocated + size > total) return null;
    allocated += size;
    return Buffer.allocUnsafeSlow(size);
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
    acquire(bytes, waitMs) {
      const size = sizeClass(bytes);
      if (size > total) return Promise.resolve(null);
      const buffer = waiters.length === 0 ? take(size) : null;
      if (buffer) return Promise.resolve(buffer);
      return new Promise((resolve) => {
        const waiter: Waiter = {
          size,
          resolve,
          timer: setTimeout(() => {
            waiters.splice(waiters.indexOf(waiter), 1);
            resolve(null);
            serve();
          }, waitMs),
        };
        waiters.push(waiter);
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
