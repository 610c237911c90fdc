import { describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_SECONDS, SignatureVerificationError, computeSignature, verifySignature } from '../../shared/signature.js';
import { signedHeaders } from '../support/signing.js';

// Known-answer vector from the reference (cross-checked with customerio-node 5.2.0).
const VECTOR = {
  key: 'test_signing_key',
  timestamp: '1613063089',
  body: '{"event_id":"01E4C4CT6YDC7Y5M7FE1GWWPQJ","object_type":"email","metric":"sent","timestamp":1613063089,"data":{"action_id":42,"broadcast_id":9,"customer_id":"0200000001","delivery_id":"RPILAgUBcRhIBqSfeiIwdIYJKxTY","identifiers":{"id":"42","email":"test@example.com","cio_id":"d9c106000001"},"recipient":"test@example.com"}}',
  signature: '4ec617a7b19729956832ada9424783ea1bce1e7e2c6625579d2edfb5e0d21cb4',
  bodyOnlySignature: 'f721fe0cbf174cee5d338249959e7ae0f7ae2a71b9a3ed02dba247584ed8f673',
};
const vectorNow = new Date(1613063089 * 1000 + 2000);

function verifyVector(overrides: Partial<Parameters<typeof verifySignature>[0]> = {}) {
  return verifySignature({
    body: Buffer.from(VECTOR.body),
    timestamp: VECTOR.timestamp,
    signature: VECTOR.signature,
    keys: [VECTOR.key],
    now: vectorNow,
    maxAgeSeconds: 'off',
    ...overrides,
  });
}

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SignatureVerificationError);
    return (error as SignatureVerificationError).reason;
  }
  throw new Error('expected a SignatureVerificationError');
}

describe('verifySignature', () => {
  it('accepts the reference test vector', () => {
    expect(Buffer.byteLength(VECTOR.body)).toBe(323);
    expect(verifyVector()).toEqual({ timestampSeconds: 1613063089, ageSeconds: 2 });
  });

  it('computes the reference signature', () => {
    expect(computeSignature(VECTOR.key, VECTOR.timestamp, Buffer.from(VECTOR.body))).toBe(VECTOR.signature);
  });

  it('rejects the common mistake: an HMAC of the body alone', () => {
    expect(reasonOf(() => verifyVector({ signature: VECTOR.bodyOnlySignature }))).toBe('no_matching_key');
  });

  it('names the likely cause when nothing matches', () => {
    expect(() => verifyVector({ signature: VECTOR.bodyOnlySignature })).toThrow(/raw body hashed as "v0:<timestamp>:<body>"/);
  });

  it('rejects a tampered body', () => {
    expect(reasonOf(() => verifyVector({ body: Buffer.from(VECTOR.body.replace('"sent"', '"opened"')) }))).toBe('no_matching_key');
  });

  it('rejects a body with one byte appended', () => {
    expect(reasonOf(() => verifyVector({ body: Buffer.from(`${VECTOR.body}\n`) }))).toBe('no_matching_key');
  });

  it('rejects a wrong key', () => {
    expect(reasonOf(() => verifyVector({ keys: ['another_key'] }))).toBe('no_matching_key');
  });

  it('rejects a changed timestamp (it is part of the signed string)', () => {
    expect(reasonOf(() => verifyVector({ timestamp: '1613063090' }))).toBe('no_matching_key');
  });

  it('accepts any key of a rotation set: [new, old] signed with old', () => {
    expect(verifyVector({ keys: ['new_signing_key', VECTOR.key] }).timestampSeconds).toBe(1613063089);
  });

  it('accepts uppercase hex', () => {
    expect(verifyVector({ signature: VECTOR.signature.toUpperCase() }).ageSeconds).toBe(2);
  });

  it.each([
    ['missing timestamp', { timestamp: undefined }, 'missing_timestamp'],
    ['empty timestamp', { timestamp: '' }, 'missing_timestamp'],
    ['missing signature', { signature: undefined }, 'missing_signature'],
    ['negative timestamp', { timestamp: '-1613063089' }, 'malformed_timestamp'],
    ['non-numeric timestamp', { timestamp: 'yesterday' }, 'malformed_timestamp'],
    ['fractional timestamp', { timestamp: '1613063089.5' }, 'malformed_timestamp'],
    ['huge timestamp', { timestamp: '99999999999999999999' }, 'malformed_timestamp'],
    ['short signature', { signature: VECTOR.signature.slice(0, 63) }, 'malformed_signature'],
    ['long signature', { signature: `${VECTOR.signature}00` }, 'malformed_signature'],
    ['non-hex signature', { signature: 'z'.repeat(64) }, 'malformed_signature'],
    ['v0= prefixed signature', { signature: `v0=${VECTOR.signature}` }, 'malformed_signature'],
  ] as const)('rejects a %s', (_label, overrides, reason) => {
    expect(reasonOf(() => verifyVector(overrides))).toBe(reason);
  });

  describe('maximum age', () => {
    const key = 'k';
    const body = Buffer.from('{"event_id":"x"}');
    const now = new Date('2026-11-27T12:00:00Z');
    const nowSeconds = now.getTime() / 1000;
    const verifyAt = (timestamp: number, maxAgeSeconds: number | 'off') => {
      const headers = signedHeaders(key, body, timestamp);
      return verifySignature({ body, timestamp: headers['x-cio-timestamp'], signature: headers['x-cio-signature'], keys: [key], now, maxAgeSeconds });
    };

    it('rejects a timestamp older than the maximum age', () => {
      expect(reasonOf(() => verifyAt(nowSeconds - 301, 300))).toBe('timestamp_too_old');
    });

    it('rejects a timestamp more than the clock skew ahead, whatever the window (too new is its own reason)', () => {
      expect(MAX_CLOCK_SKEW_SECONDS).toBe(300);
      expect(reasonOf(() => verifyAt(nowSeconds + 301, 300))).toBe('timestamp_too_new');
      expect(reasonOf(() => verifyAt(nowSeconds + 301, 8 * 86_400))).toBe('timestamp_too_new');
      expect(reasonOf(() => verifyAt(nowSeconds + 7 * 86_400, 8 * 86_400))).toBe('timestamp_too_new');
    });

    it('accepts timestamps inside the window, and up to the clock skew ahead', () => {
      expect(verifyAt(nowSeconds - 300, 300).ageSeconds).toBe(300);
      expect(verifyAt(nowSeconds + 300, 300).ageSeconds).toBe(-300);
      expect(verifyAt(nowSeconds + 300, 60).ageSeconds).toBe(-300);
      expect(verifyAt(nowSeconds + 300, 8 * 86_400).ageSeconds).toBe(-300);
    });

    it('off accepts any age and reports it', () => {
      expect(verifyAt(nowSeconds - 86_400 * 7, 'off').ageSeconds).toBe(86_400 * 7);
    });

    it('checks the signature before the age: a forged old request reads as a bad signature', () => {
      expect(reasonOf(() =>
        verifySignature({ body, timestamp: String(nowSeconds - 10_000), signature: 'a'.repeat(64), keys: [key], now, maxAgeSeconds: 300 }),
      )).toBe('no_matching_key');
    });
  });
});
