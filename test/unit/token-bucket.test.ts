import { describe, expect, it } from 'vitest';
import { createTokenBucket } from '../../shared/token-bucket.js';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('the token bucket', () => {
  it('grants a burst at once, then one token per 1/rate seconds', () => {
    const c = clock();
    const bucket = createTokenBucket({ rate: 10, burst: 3, now: c.now });
    expect([1, 2, 3].map(() => bucket.reserve(1, 0))).toEqual([{ granted: true, waitMs: 0 }, { granted: true, waitMs: 0 }, { granted: true, waitMs: 0 }]);
    expect(bucket.reserve(1, 0)).toEqual({ granted: false, waitMs: 100 });
    expect(bucket.reserve(1, 1000)).toEqual({ granted: true, waitMs: 100 });
    expect(bucket.reserve(1, 1000)).toEqual({ granted: true, waitMs: 200 });
  });

  it('holds the rate over a long run, whatever the callers ask', () => {
    const c = clock();
    const bucket = createTokenBucket({ rate: 50, burst: 5, now: c.now });
    const starts: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const r = bucket.reserve(1, Number.POSITIVE_INFINITY);
      starts.push(c.now() + r.waitMs);
      if (i % 7 === 0) c.advance(3);
    }
    // 1,000 requests at 50/s: the last may start no sooner than (1000 − burst) / 50 s after the first.
    expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(((1000 - 5) / 50) * 1000 - 1);
    // No window of one second holds more than rate + burst starts.
    for (let i = 0; i < starts.length; i++) {
      const within = starts.filter((s) => s >= starts[i]! && s < starts[i]! + 1000).length;
      expect(within).toBeLessThanOrEqual(55);
    }
  });

  it('refills while idle, up to the burst only', () => {
    const c = clock();
    const bucket = createTokenBucket({ rate: 10, burst: 2, now: c.now });
    bucket.reserve(2, 0);
    c.advance(60_000);
    expect(bucket.reserve(2, 0)).toEqual({ granted: true, waitMs: 0 });
    expect(bucket.reserve(1, 0).granted).toBe(false);
  });

  it('takes nothing when it refuses, nor when asked how long a reservation would wait', () => {
    const c = clock();
    const bucket = createTokenBucket({ rate: 1, burst: 1, now: c.now });
    expect(bucket.reserve(1, 0).granted).toBe(true);
    expect(bucket.reserve(1, 500)).toEqual({ granted: false, waitMs: 1000 });
    expect(bucket.waitFor(1)).toBe(1000);
    expect(bucket.reserve(1, 500)).toEqual({ granted: false, waitMs: 1000 });
    c.advance(400);
    expect(bucket.waitFor(2)).toBe(1600);
    expect(bucket.reserve(1, 600)).toEqual({ granted: true, waitMs: 600 });
  });

  it('reserves several tokens together: the wait is for the last of them', () => {
    const c = clock();
    const bucket = createTokenBucket({ rate: 10, burst: 1, now: c.now });
    expect(bucket.reserve(3, 1000)).toEqual({ granted: true, waitMs: 200 });
    expect(bucket.reserve(1, 1000)).toEqual({ granted: true, waitMs: 300 });
  });

  it('refuses a bucket that could never grant', () => {
    expect(() => createTokenBucket({ rate: 0, burst: 1, now: Date.now })).toThrow();
    expect(() => createTokenBucket({ rate: 1, burst: 0, now: Date.now })).toThrow();
  });
});
