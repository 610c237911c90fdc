import { describe, expect, it } from 'vitest';
import { createBufferPool, sizeClass } from '../../functions/buffer-pool.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('the receiver\'s buffer pool', () => {
  it('hands out buffers in powers of two from 64 KiB', () => {
    expect([1, 64 * KiB, 64 * KiB + 1, 5 * MiB, 8 * MiB].map(sizeClass)).toEqual([64 * KiB, 64 * KiB, 128 * KiB, 8 * MiB, 8 * MiB]);
  });

  it('reuses a released buffer instead of allocating another', async () => {
    const pool = createBufferPool(16 * MiB);
    const first = (await pool.acquire(5 * MiB, 0))!;
    pool.release(first);
    const second = await pool.acquire(6 * MiB, 0);
    expect(second).toBe(first);
    expect(pool.allocated).toBe(8 * MiB);
  });

  it('never holds more than its total: a request over it waits, then gets a released buffer', async () => {
    const pool = createBufferPool(16 * MiB);
    const [a, b] = [(await pool.acquire(8 * MiB, 0))!, (await pool.acquire(8 * MiB, 0))!];
    const waiting = pool.acquire(8 * MiB, 5_000);
    expect(pool.allocated).toBe(16 * MiB);
    pool.release(a);
    expect(await waiting).toBe(a);
    expect(pool.allocated).toBe(16 * MiB);
    pool.release(b);
  });

  it('answers null when no room frees up in time, and for a request larger than the whole pool', async () => {
    const pool = createBufferPool(8 * MiB);
    await pool.acquire(8 * MiB, 0);
    const started = performance.now();
    expect(await pool.acquire(1 * MiB, 50)).toBeNull();
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(await createBufferPool(4 * MiB).acquire(8 * MiB, 1_000)).toBeNull();
  });

  it('hands out a larger idle buffer before dropping one to allocate', async () => {
    const pool = createBufferPool(8 * MiB);
    const big = (await pool.acquire(8 * MiB, 0))!;
    pool.release(big);
    expect(await pool.acquire(1 * MiB, 0)).toBe(big);
    expect(pool.allocated).toBe(8 * MiB);
  });

  it('drops idle buffers of another size to make room', async () => {
    const pool = createBufferPool(8 * MiB);
    const small = (await pool.acquire(100 * KiB, 0))!;
    pool.release(small);
    const big = await pool.acquire(8 * MiB, 0);
    expect(big?.length).toBe(8 * MiB);
    expect(pool.allocated).toBe(8 * MiB);
  });

  it('serves waiters in arrival order, so a large one is not starved by small ones', async () => {
    const pool = createBufferPool(8 * MiB);
    const held = (await pool.acquire(8 * MiB, 0))!;
    const order: string[] = [];
    const large = pool.acquire(8 * MiB, 5_000).then((b) => (order.push('large'), b));
    const small = pool.acquire(64 * KiB, 5_000).then((b) => (order.push('small'), b));
    pool.release(held);
    const got = await large;
    pool.release(got!);
    await small;
    expect(order).toEqual(['large', 'small']);
  });

  it('takes an aborted wait out of the queue: the buffer released later goes to the next waiter, not to the request that left', async () => {
    const pool = createBufferPool(8 * MiB);
    const held = (await pool.acquire(8 * MiB, 0))!;
    const gone = new AbortController();
    const left = pool.acquire(8 * MiB, 5_000, gone.signal);
    const next = pool.acquire(8 * MiB, 5_000);
    gone.abort();
    expect(await left).toBeNull();
    pool.release(held);
    const got = (await next)!;
    expect(got).toBe(held);
    expect(pool.inUse).toBe(8 * MiB);
    pool.release(got);
    expect(pool.inUse).toBe(0);
    expect(await pool.acquire(1 * MiB, 0, AbortSignal.abort())).toBeNull();
  });
});
