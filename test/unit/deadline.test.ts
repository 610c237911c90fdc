import { describe, expect, it } from 'vitest';
import { DeadlineExceededError, createDeadlineGroup, withDeadline } from '../../shared/deadline.js';

const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('withDeadline', () => {
  it('passes a result through', async () => {
    expect(await withDeadline(later(5, 'ok'), 1000, 'x')).toBe('ok');
  });

  it('rejects with DeadlineExceededError when the work is late', async () => {
    await expect(withDeadline(later(1000, 'late'), 20, 'publish')).rejects.toThrow(new DeadlineExceededError('publish', 20));
  });
});

describe('createDeadlineGroup', () => {
  it('passes results and errors through', async () => {
    const bound = createDeadlineGroup(1000, 'publish');
    expect(await bound(later(5, 'a'))).toBe('a');
    await expect(bound(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });

  it('rejects only the late ones of many concurrent operations', async () => {
    const bound = createDeadlineGroup(50, 'publish');
    const results = await Promise.allSettled([bound(later(1, 'fast')), bound(later(500, 'slow')), bound(later(10, 'fast too'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(DeadlineExceededError);
  });

  it('rejects a late operation within its bound plus one tick', async () => {
    const bound = createDeadlineGroup(100, 'publish');
    const started = performance.now();
    await expect(bound(new Promise(() => undefined))).rejects.toBeInstanceOf(DeadlineExceededError);
    // A correctness bound on the mechanism (tick = 5 ms here), far from any timing noise that matters.
    expect(performance.now() - started).toBeGreaterThanOrEqual(99);
  });

  it('keeps working after going idle', async () => {
    const bound = createDeadlineGroup(30, 'publish');
    await expect(bound(new Promise(() => undefined))).rejects.toBeInstanceOf(DeadlineExceededError);
    await later(50, null);
    await expect(bound(new Promise(() => undefined))).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(await bound(later(1, 'fine'))).toBe('fine');
  });
});
