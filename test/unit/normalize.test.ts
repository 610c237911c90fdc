import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { METRICS_BY_OBJECT_TYPE } from '../../shared/events.js';
import { EVENT_ID_HASH_PREFIX, MAX_EVENT_ID_BYTES, MAX_FIELD_CHARS, normalizeWebhook, unixSecondsToRfc3339 } from '../../shared/normalize.js';
import { EVENT_COLUMNS, type EventRow } from '../../shared/row.js';
import { allSamples, samplePayload } from '../../scripts/local/samples.js';

const receivedAt = new Date('2026-11-27T12:00:00.000Z');
const normalize = (body: string | Buffer) => normalizeWebhook({ body: Buffer.from(body), receivedAt });

/** Every value has the JS type its column's BigQuery type accepts. */
function expectFitsSchema(row: EventRow) {
  expect(Object.keys(row).sort()).toEqual(EVENT_COLUMNS.map((c) => c.name).sort());
  for (const column of EVENT_COLUMNS) {
    const value = row[column.name as keyof EventRow];
    if (column.mode === 'REQUIRED') expect(value, column.name).not.toBeNull();
    if (value === null) continue;
    if (column.type === 'INT64') expect(Number.isSafeInteger(value), column.name).toBe(true);
    else if (column.type === 'BOOL') expect(typeof value, column.name).toBe('boolean');
    else expect(typeof value, column.name).toBe('string');
    if (column.type === 'TIMESTAMP') expect(value, column.name).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
}

describe('normalizeWebhook', () => {
  it('maps the official email sent sample to the row', () => {
    const body = '{"metric":"sent","event_id":"01E4C4CT6YDC7Y5M7FE1GWWPQJ","object_type":"email","timestamp":1613063089,"data":{"action_id":42,"broadcast_id":9,"customer_id":"0200000001","delivery_id":"RPILAgUBcRhIBqSfeiIwdIYJKxTY","identifiers":{"id":"42","email":"test@example.com","cio_id":"d9c106000001"},"recipient":"test@example.com"}}';
    expect(normalize(body)).toEqual({
      event_id: '01E4C4CT6YDC7Y5M7FE1GWWPQJ',
      object_type: 'email',
      metric: 'sent',
      event_timestamp: '2021-02-11T17:04:49.000Z',
      received_at: '2026-11-27T12:00:00.000Z',
      customer_id: '42',
      cio_id: 'd9c106000001',
      email: 'test@example.com',
      recipient: 'test@example.com',
      delivery_id: 'RPILAgUBcRhIBqSfeiIwdIYJKxTY',
      journey_id: null,
      trigger_event_id: null,
      campaign_id: null,
      action_id: 42,
      parent_action_id: null,
      broadcast_id: 9,
      trigger_id: null,
      newsletter_id: null,
      content_id: null,
      transactional_message_id: null,
      link_id: null,
      subject: null,
      href: null,
      failure_message: null,
      machine: null,
      proxied: null,
      prefetched: null,
      synthetic: null,
      payload: body,
      workspace: null,
    });
  });

  it('carries the workspace whose URL received the webhook, null with one workspace', () => {
    const body = Buffer.from(JSON.stringify(samplePayload('email', 'sent', { seq: 1 })));
    expect(normalizeWebhook({ body, receivedAt: new Date(), workspace: 'acme' }).workspace).toBe('acme');
    expect(normalizeWebhook({ body, receivedAt: new Date() }).workspace).toBeNull();
  });

  it('yields a schema-fitting row for a sample of every object type and metric', () => {
    const samples = allSamples();
    const pairs = Object.values(METRICS_BY_OBJECT_TYPE).reduce((n, metrics) => n + metrics.length, 0);
    expect(samples).toHaveLength(pairs);
    for (const sample of samples) {
      const row = normalize(JSON.stringify(sample));
      expectFitsSchema(row);
      expect(row.event_id).toBe(sample.event_id);
      expect([row.object_type, row.metric]).toEqual([sample.object_type, sample.metric]);
      expect(row.customer_id).toBe((sample.data.identifiers as { id: string }).id);
      expect(row.cio_id).toMatch(/^d9c1/);
    }
  });

  it.each([
    ['campaign', { campaign_id: expect.any(Number), action_id: expect.any(Number), journey_id: expect.any(String), trigger_event_id: expect.any(String) }],
    ['broadcast', { broadcast_id: expect.any(Number), trigger_id: expect.any(Number), action_id: 42 }],
    ['newsletter', { newsletter_id: expect.any(Number), content_id: expect.any(Number) }],
    ['transactional', { transactional_message_id: expect.any(Number) }],
  ] as const)('reads the %s source ids', (source, expected) => {
    const row = normalize(JSON.stringify(samplePayload('email', 'delivered', { source, seq: 3 })));
    expect(row).toMatchObject(expected);
  });

  it('reads click fields and the machine flag', () => {
    const row = normalize(JSON.stringify(samplePayload('email', 'clicked', { seq: 5 })));
    expect(row).toMatchObject({ href: 'https://example.com/offer?utm_campaign=5', link_id: 1005, machine: true });
  });

  it('reads open flags', () => {
    const row = normalize(JSON.stringify(samplePayload('email', 'opened', { seq: 6 })));
    expect(row).toMatchObject({ proxied: true, prefetched: true, synthetic: false, machine: null });
  });

  it('reads failure messages', () => {
    const row = normalize(JSON.stringify(samplePayload('email', 'bounced', { seq: 2 })));
    expect(row.failure_message).toBe('550 5.1.1 mailbox does not exist');
  });

  it('reads a push event with recipients (kept in the payload)', () => {
    const sample = samplePayload('push', 'delivered', { seq: 2 });
    const row = normalize(JSON.stringify(sample));
    expect(row.recipient).toBeNull();
    expect(JSON.parse(row.payload!).data.recipients).toEqual([{ device_id: 'device-2', device_platform: 'ios' }]);
  });

  it('reads customer events: email_address and customer_id when identifiers are absent', () => {
    const body = JSON.stringify({ event_id: 'c1', object_type: 'customer', metric: 'unsubscribed', timestamp: 1700000000, data: { customer_id: 'abc', email_address: 'a@example.com' } });
    expect(normalize(body)).toMatchObject({ customer_id: 'abc', email: 'a@example.com', cio_id: null, delivery_id: null });
  });

  it('reads a channel-typed subscription change carrying the customer shape', () => {
    const body = JSON.stringify({ event_id: 'c2', object_type: 'email', metric: 'unsubscribed', timestamp: 1700000000, data: { customer_id: '', email_address: null, identifiers: { id: '7', cio_id: 'ab' } } });
    expect(normalize(body)).toMatchObject({ object_type: 'email', customer_id: '7', cio_id: 'ab', email: null });
  });

  it('prefers identifiers over the deprecated customer_id', () => {
    const body = JSON.stringify({ event_id: 'p', data: { customer_id: 'old', identifiers: { id: 'new' } } });
    expect(normalize(body).customer_id).toBe('new');
  });

  it('coerces numeric strings in id columns and drops anything else', () => {
    const body = JSON.stringify({ event_id: 'n', data: { campaign_id: '123', action_id: '12a', broadcast_id: 1.5, newsletter_id: true, trigger_id: ' 44 ' } });
    expect(normalize(body)).toMatchObject({ campaign_id: 123, action_id: null, broadcast_id: null, newsletter_id: null, trigger_id: 44 });
  });

  it('drops ids beyond the safe integer range instead of storing a rounded number', () => {
    const body = '{"event_id":"big","data":{"campaign_id":9223372036854775807,"action_id":"9007199254740993"}}';
    expect(normalize(body)).toMatchObject({ campaign_id: null, action_id: null });
  });

  it('turns numbers into text in STRING columns', () => {
    const body = JSON.stringify({ event_id: 42, object_type: 'email', data: { identifiers: { id: 42 } } });
    expect(normalize(body)).toMatchObject({ event_id: '42', customer_id: '42' });
  });

  it.each([
    ['numeric string', '1613063089', '2021-02-11T17:04:49.000Z'],
    ['fraction', 1613063089.25, '2021-02-11T17:04:49.250Z'],
    ['negative (before 1970)', -86400, '1969-12-31T00:00:00.000Z'],
    ['beyond year 9999', 253402300800, null],
    ['text', 'yesterday', null],
    ['object', { s: 1 }, null],
  ])('timestamp as %s', (_label, value, expected) => {
    expect(unixSecondsToRfc3339(value)).toBe(expected);
  });

  it.each([
    ['not JSON', 'event_id=1&metric=sent'],
    ['empty body', ''],
    ['a JSON array', '[1,2,3]'],
    ['a JSON string', '"hello"'],
    ['JSON null', 'null'],
    ['data as a string', '{"data":"x"}'],
    ['identifiers as an array', '{"data":{"identifiers":["a"]}}'],
    ['an empty event_id', '{"event_id":""}'],
  ])('still yields a row for %s, keyed by the body hash', (_label, body) => {
    const row = normalize(body);
    expectFitsSchema(row);
    expect(row.event_id).toBe(`sha256:${createHash('sha256').update(body).digest('hex')}`);
    expect(row.payload).toBe(body);
  });

  it('keeps an event_id up to 256 bytes, and stores a longer one as the hash of the id (distinct, stable, within the attribute limit)', () => {
    const at = (id: string) => normalize(JSON.stringify({ event_id: id, object_type: 'email', metric: 'sent' })).event_id;
    const longest = 'é'.repeat(MAX_EVENT_ID_BYTES / 2);
    expect(at(longest)).toBe(longest);
    const long = 'A'.repeat(10_000);
    expect(at(long)).toBe(`${EVENT_ID_HASH_PREFIX}${createHash('sha256').update(long).digest('hex')}`);
    // A retry carries the same id and gets the same key; ids that share their first 10,000
    // characters stay apart (a cut id would merge them into one dedupe record).
    expect(at(long)).toBe(at(long));
    expect(at(`${long}B`)).not.toBe(at(long));
    expect(at(`${longest}x`).startsWith(EVENT_ID_HASH_PREFIX)).toBe(true);
    expect(Buffer.byteLength(at(long))).toBeLessThan(1024);
    expect(normalize(JSON.stringify({ event_id: long })).payload).toContain(long);
  });

  it('treats __proto__ and constructor keys as data, polluting nothing', () => {
    const body = '{"event_id":"pp","__proto__":{"metric":"bounced"},"constructor":{"x":1},"data":{"__proto__":{"customer_id":"evil"}}}';
    const row = normalize(body);
    expect(row.metric).toBeNull();
    expect(row.customer_id).toBeNull();
    expect(({} as Record<string, unknown>).metric).toBeUndefined();
  });

  it('keeps the payload verbatim, whitespace and key order included', () => {
    const body = '{ "timestamp": 1,\n  "event_id" : "x" }';
    expect(normalize(body).payload).toBe(body);
  });

  it('replaces invalid UTF-8 in the payload and lone surrogates in fields (BigQuery needs UTF-8)', () => {
    const bytes = Buffer.concat([Buffer.from('{"event_id":"u","data":{"subject":"\\ud800 hi"},"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const row = normalize(bytes);
    expect(row.subject).toBe('\ufffd hi');
    expect(row.payload).toContain('\ufffd');
    expect(row.payload!.isWellFormed()).toBe(true);
  });

  it('caps extracted text fields but never the payload', () => {
    const subject = 'x'.repeat(MAX_FIELD_CHARS + 10);
    const body = JSON.stringify({ event_id: 'long', data: { subject } });
    const row = normalize(body);
    expect(row.subject).toHaveLength(MAX_FIELD_CHARS);
    expect(row.payload).toBe(body);
  });

  it('reads boolean flags given as strings or 0/1', () => {
    const body = JSON.stringify({ event_id: 'f', data: { machine: 'true', proxied: 0, prefetched: '1', synthetic: 'maybe' } });
    expect(normalize(body)).toMatchObject({ machine: true, proxied: false, prefetched: true, synthetic: null });
  });
});
