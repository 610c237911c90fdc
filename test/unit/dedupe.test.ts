import { describe, expect, it } from 'vitest';
import { dedupeDocumentId, expireAt, judgeExisting } from '../../shared/dedupe.js';

describe('judgeExisting', () => {
  const now = 1_000_000;
  it.each([
    [{ status: 'done', leaseUntilMs: 0, attempts: 1 }, { kind: 'duplicate', status: 'done' }],
    [{ status: 'rejected', leaseUntilMs: 0, attempts: 1 }, { kind: 'duplicate', status: 'rejected' }],
    [{ status: 'processing', leaseUntilMs: now + 1, attempts: 1 }, { kind: 'busy', leaseUntilMs: now + 1 }],
    [{ status: 'processing', leaseUntilMs: now, attempts: 1 }, { kind: 'reclaim' }],
    [{ status: 'failed', leaseUntilMs: now + 60_000, attempts: 2 }, { kind: 'reclaim' }],
  ] as const)('%o → %o', (record, verdict) => {
    expect(judgeExisting(record, now)).toEqual(verdict);
  });
});

describe('dedupeDocumentId', () => {
  it.each(['a/b', '.', '..', '__name__', 'x'.repeat(5000), '', '💥'])('is a safe Firestore id for %j', (eventId) => {
    expect(dedupeDocumentId(eventId)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stable and distinct', () => {
    expect(dedupeDocumentId('a')).toBe(dedupeDocumentId('a'));
    expect(dedupeDocumentId('a')).not.toBe(dedupeDocumentId('b'));
  });
});

it('expireAt adds the TTL in days', () => {
  expect(expireAt(Date.UTC(2026, 0, 1), 30).toISOString()).toBe('2026-01-31T00:00:00.000Z');
});
