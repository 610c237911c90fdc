/**
 * Property-based tests (fast-check) of the two functions that meet untrusted bytes first: the
 * normalizer and the signature verifier. Never a crash; always a row that fits the table or a clean,
 * typed rejection.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeWebhook } from '../../shared/normalize.js';
import { decodeEventRow } from '../../shared/push-envelope.js';
import { EVENT_COLUMNS, type EventRow } from '../../shared/row.js';
import { SignatureVerificationError, verifySignature } from '../../shared/signature.js';

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const receivedAt = new Date('2026-11-27T12:00:00Z');

function fitsTable(row: EventRow): void {
  for (const column of EVENT_COLUMNS) {
    const value = row[column.name as keyof EventRow];
    if (column.mode === 'REQUIRED') expect(value).not.toBeNull();
    if (value === null) continue;
    switch (column.type) {
      case 'INT64':
        expect(Number.isSafeInteger(value)).toBe(true);
        break;
      case 'BOOL':
        expect(typeof value).toBe('boolean');
        break;
      case 'TIMESTAMP':
        expect(value).toMatch(RFC3339);
        break;
      case 'STRING':
        expect(typeof value).toBe('string');
        // BigQuery STRING is UTF-8: no lone surrogates.
        expect((value as string).isWellFormed()).toBe(true);
    }
  }
  // What the receiver publishes is what the handler and the warehouse sink accept.
  expect(decodeEventRow(Buffer.from(JSON.stringify(row)))).toEqual(row);
}

const normalize = (body: Uint8Array) => normalizeWebhook({ body, receivedAt });

const hostileKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'data', 'identifiers', 'event_id', 'timestamp');
const anyField = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.integer(),
  fc.double(),
  fc.bigInt().map((n) => n.toString()),
  fc.constantFrom('9223372036854775808', '-0', '1e400', 'NaN', 'Infinity', '\u0000', '\ud800', ''),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer()),
  fc.dictionary(fc.oneof(fc.string(), hostileKeys), fc.jsonValue()),
);
const fieldNames: string[] = [...EVENT_COLUMNS.map((c) => c.name), 'timestamp', 'email_address', 'recipients', 'identifiers'];
/** Payload-shaped objects with wrong types in every field. */
const payloadLike = fc.record({
  event_id: anyField,
  object_type: anyField,
  metric: anyField,
  timestamp: anyField,
  data: fc.oneof(anyField, fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames), hostileKeys), fc.oneof(anyField, fc.dictionary(fc.oneof(fc.constantFrom('id', 'email', 'cio_id'), hostileKeys), anyField)))),
}, { requiredKeys: [] });

describe('normalizeWebhook, for any input', () => {
  it('never throws on arbitrary bytes and yields a row that fits the table', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => fitsTable(normalize(bytes))), { numRuns: 500 });
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => fitsTable(normalize(Buffer.from(JSON.stringify(value))))), { numRuns: 500 });
  });

  it('reads payload-shaped objects with wrong types everywhere into typed columns', () => {
    fc.assert(fc.property(payloadLike, (payload) => {
      const row = normalize(Buffer.from(JSON.stringify(payload)));
      fitsTable(row);
      expect(row.payload).toBe(JSON.stringify(payload));
    }), { numRuns: 1000 });
  });

  it('never pollutes Object.prototype through __proto__ or constructor keys', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.string(), (value, key) => {
      const body = `{"__proto__":{"polluted":${JSON.stringify(value ?? null)}},"constructor":{"prototype":{"${key.replace(/["\\\u0000-\u001f]/g, '')}":1}},"data":{"__proto__":{"customer_id":"x"}}}`;
      normalize(Buffer.from(body));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.keys(Object.prototype)).toEqual([]);
    }), { numRuns: 200 });
  });

  it('survives huge and deeply nested JSON', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    fitsTable(normalize(Buffer.from(deep)));
    const deepObject = `{"event_id":"d","data":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`;
    expect(normalize(Buffer.from(deepObject)).event_id).toBe('d');
    const wide = JSON.stringify({ event_id: 'w', data: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])) });
    expect(normalize(Buffer.from(wide)).event_id).toBe('w');
    const big = JSON.stringify({ event_id: 'b', data: { subject: 'x'.repeat(5_000_000) } });
    fitsTable(normalize(Buffer.from(big)));
  });

  it('keeps the event_id of the payload or derives a stable one from the body', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      expect(normalize(bytes).event_id).toBe(normalize(bytes).event_id);
    }));
  });
});

describe('verifySignature, for any input', () => {
  const sign = (key: string, ts: string, body: Uint8Array) => createHmac('sha256', key).update(`v0:${ts}:`).update(body).digest('hex');
  const header = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^[0-9a-f]{0,80}$/), fc.constant(undefined));

  it('either verifies or throws SignatureVerificationError, nothing else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), header, header, fc.array(fc.string(), { maxLength: 3 }), (body, timestamp, signature, keys) => {
      try {
        verifySignature({ body, timestamp, signature, keys, now: receivedAt, maxAgeSeconds: 300 });
      } catch (error) {
        expect(error).toBeInstanceOf(SignatureVerificationError);
      }
    }), { numRuns: 1000 });
  });

  it('accepts every correctly signed request, with any key of the set', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 }), fc.nat(), fc.integer({ min: 1, max: 2_000_000_000 }), (body, keys, pick, ts) => {
      const key = keys[pick % keys.length]!;
      const result = verifySignature({ body, timestamp: String(ts), signature: sign(key, String(ts), body), keys, now: receivedAt, maxAgeSeconds: 'off' });
      expect(result.timestampSeconds).toBe(ts);
    }), { numRuns: 500 });
  });

  it('rejects any single changed byte of the body', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (body, at, delta) => {
      const ts = '1700000000';
      const signature = sign('k', ts, body);
      const tampered = Uint8Array.from(body);
      tampered[at % body.length] = (tampered[at % body.length]! + delta) % 256;
      expect(() => verifySignature({ body: tampered, timestamp: ts, signature, keys: ['k'], now: receivedAt, maxAgeSeconds: 'off' })).toThrow(SignatureVerificationError);
    }), { numRuns: 500 });
  });
});
