import { describe, expect, it } from 'vitest';
import { BodyBuffer, GROWTH, SMALLEST_READ, WHOLE_AFTER } from '../../functions/body-buffer.js';
import { createBufferPool } from '../../functions/buffer-pool.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const fill = (bytes: number, byte: number) => Buffer.alloc(bytes, byte);

async function appendAll(body: BodyBuffer, chunk: Buffer): Promise<boolean> {
  if (!body.fits(chunk) && !(await body.grow(body.size + chunk.length))) return false;
  body.append(chunk);
  return true;
}

describe('a request body held as its bytes arrive', () => {
  it('holds nothing of the pool for a declared length before the bytes come', () => {
    const pool = createBufferPool(16 * MiB);
    const body = new BodyBuffer({ pool, freeBytes: 256 * KiB, capacityLimit: 8 * MiB, poolWaitMs: 0 });
    expect([body.pooledBytes, pool.inUse, body.bytes().length]).toEqual([0, 0, 0]);
    expect(body.fits(fill(SMALLEST_READ, 1))).toBe(true);
  });

  it('grows as bytes arrive, holding at most eight times what it received, and never past its declared length', async () => {
    const pool = createBufferPool(16 * MiB);
    const body = new BodyBuffer({ pool, freeBytes: 256 * KiB, capacityLimit: 3 * MiB, poolWaitMs: 0 });
    const held: number[] = [];
    for (let i = 0; i < 48; i++) {
      expect(await appendAll(body, fill(64 * KiB, i))).toBe(true);
      expect(body.pooledBytes).toBeLessThanOrEqual(8 * body.size);
      if (held.at(-1) !== body.pooledBytes) held.push(body.pooledBytes);
    }
    // Free up to 256 KiB, then fourfold, then past WHOLE_AFTER the rest of the length (class 4 MiB).
    expect(held).toEqual([0, GROWTH * 256 * KiB, 4 * MiB]);
    expect(WHOLE_AFTER).toBe(1 * MiB);
    expect(body.size).toBe(3 * MiB);
    expect(body.bytes().subarray(47 * 64 * KiB, 47 * 64 * KiB + 3)).toEqual(Buffer.from([47, 47, 47]));
    expect(await body.grow(3 * MiB + 1)).toBe(false);
    body.release();
    expect(pool.inUse).toBe(0);
  });

  it('copies its bytes before the old buffer goes back to the pool, whose next owner may write into it at once', async () => {
    const shared = createBufferPool(8 * MiB);
    // The next owner, at its earliest: the moment the buffer is released.
    const pool = { ...shared, get inUse() { return shared.inUse; }, acquire: shared.acquire, release: (b: Buffer) => shared.release(b.fill(0xee)) };
    const body = new BodyBuffer({ pool, freeBytes: 64 * KiB, capacityLimit: 4 * MiB, poolWaitMs: 0 });
    for (let i = 0; i < 40; i++) expect(await appendAll(body, fill(50 * KiB, i))).toBe(true);
    expect(body.pooledBytes).toBe(4 * MiB);
    expect(body.bytes().every((byte, i) => byte === Math.floor(i / (50 * KiB)))).toBe(true);
    body.release();
  });

  it('gives a buffer it is handed after its release straight back (the pool leak of issue #18)', async () => {
    const pool = createBufferPool(1 * MiB);
    const holder = (await pool.acquire(1 * MiB, 0))!;
    const body = new BodyBuffer({ pool, freeBytes: 64 * KiB, capacityLimit: 1 * MiB, poolWaitMs: 5_000 });
    await appendAll(body, fill(64 * KiB, 1));
    const growing = body.grow(300 * KiB);
    body.release();
    pool.release(holder);
    expect(await growing).toBe(false);
    expect(pool.inUse).toBe(0);
    // The whole pool is there for the next request.
    expect((await pool.acquire(1 * MiB, 0))?.length).toBe(1 * MiB);
  });
});
