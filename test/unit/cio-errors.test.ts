import { describe, expect, it } from 'vitest';
import { classifyCioFailure, isTransientCioFailure } from '../../shared/cio-errors.js';

describe('Customer.io failures', () => {
  it.each([
    [null, 'retryable', true],
    [408, 'retryable', true],
    [429, 'retryable', true],
    [500, 'retryable', true],
    [503, 'retryable', true],
    // Credentials: never dropped, but not retried within the delivery either: they wait for Pub/Sub.
    [401, 'retryable', false],
    [403, 'retryable', false],
    [400, 'permanent', false],
    [404, 'permanent', false],
    [422, 'permanent', false],
  ] as const)('%s → %s, retried within the delivery: %s', (status, kind, transient) => {
    expect(classifyCioFailure(status)).toBe(kind);
    expect(isTransientCioFailure(status)).toBe(transient);
  });
});
