/**
 * One request's body, in one buffer that grows as its bytes arrive.
 *
 * Memory is reserved for bytes received, never for bytes declared: a client that sends headers
 * (`Content-Length: 8388608`, `Expect: 100-continue`) and then nothing holds one small buffer, not
 * 8 MiB of the shared pool, so unsigned clients cannot starve signed ones by declaring. The buffer
 * grows fourfold when a chunk does not fit, and once a body holds WHOLE_AFTER bytes it takes the
 * rest of its declared length (or the limit) at once: a client holds at most eight times what it
 * sent. Buffers over the free size come from the shared pool and go back to it. Every step leaves
 * its old buffer behind (garbage, or an idle pool buffer of another size), which is what a flood's
 * memory is made of: on the hostile-request test (100 forged 5 MiB bodies at once), doubling all
 * the way peaked at 286–303 MiB RSS, these steps at 259–291 (reserving the declared length up
 * front, the attack this replaces: 233–243). Growth copies the bytes into the new buffer *before* the old one returns to the pool (another
 * request may be handed it at once), and a release while a growth waits for pool room cancels that
 * wait, so no buffer is ever handed to a request that is gone.
 */
import type { BufferPool } from './buffer-pool.js';

/** Bodies up to this size are plain allocations outside the pool (most webhooks are a few KB). */
export const FREE_BODY_BYTES = 256 * 1024;
/** A body starts in a buffer this big (or its whole length, if smaller). */
export const SMALLEST_READ = 16 * 1024;
/** How much a body's buffer grows each time a chunk does not fit. */
export const GROWTH = 4;
/** A body that holds this much takes the rest of its length at once. */
export const WHOLE_AFTER = 1024 * 1024;

export interface BodyBufferOptions {
  pool: BufferPool;
  /** Buffers up to this size are plain allocations outside the pool. */
  freeBytes: number;
  /** The most this body may hold: its declared length when known, else the body limit. */
  capacityLimit: number;
  /** How long a growth may wait for room in the pool. */
  poolWaitMs: number;
}

export class BodyBuffer {
  private buffer: Buffer;
  private pooled = false;
  private released = false;
  private readonly cancel = new AbortController();
  size = 0;

  constructor(private readonly options: BodyBufferOptions) {
    this.buffer = Buffer.allocUnsafe(Math.min(SMALLEST_READ, options.capacityLimit));
  }

  /** Bytes of the pool this body holds now (0 while it fits in a free allocation). */
  get pooledBytes(): number {
    return this.pooled ? this.buffer.length : 0;
  }

  /** Whether `chunk` fits without growing; then append() is synchronous. */
  fits(chunk: Buffer): boolean {
    return this.size + chunk.length <= this.buffer.length;
  }

  append(chunk: Buffer): void {
    if (!this.fits(chunk)) throw new Error('body buffer: grow() before appending past the capacity');
    chunk.copy(this.buffer, this.size);
    this.size += chunk.length;
  }

  /**
   * Makes room for `needed` bytes in all: true once it is there; false when the pool had no room in
   * time, or the body was released meanwhile.
   */
  async grow(needed: number): Promise<boolean> {
    const { pool, freeBytes, capacityLimit, poolWaitMs } = this.options;
    if (this.released || needed > capacityLimit) return false;
    if (needed <= this.buffer.length) return true;
    const step = this.buffer.length >= WHOLE_AFTER ? capacityLimit : this.buffer.length * GROWTH;
    const wanted = Math.min(capacityLimit, Math.max(needed, step));
    const fromPool = wanted > freeBytes;
    const grown = fromPool ? await pool.acquire(wanted, poolWaitMs, this.cancel.signal) : Buffer.allocUnsafe(wanted);
    if (!grown) return false;
    if (this.released) {
      if (fromPool) pool.release(grown);
      return false;
    }
    this.buffer.copy(grown, 0, 0, this.size);
    if (this.pooled) pool.release(this.buffer);
    this.buffer = grown;
    this.pooled = fromPool;
    return true;
  }

  /** The body so far; valid until release(). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.size);
  }

  /** Returns a pooled buffer and cancels a growth still waiting; idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.cancel.abort();
    if (this.pooled) this.options.pool.release(this.buffer);
    this.pooled = false;
    this.buffer = Buffer.alloc(0);
  }
}
