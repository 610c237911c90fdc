/**
 * The analysts' privacy rules run on DuckDB, the local twin of the BigQuery views (same rules, same
 * patterns, rendered by infra/privacy.ts), against the TypeScript the handler uses and a TypeScript
 * reference of the payload allow-list: every piece of SQL agrees with its TypeScript on generated
 * strings, and on every sample of every object type (and the shapes' variants) no raw identifier
 * reaches analysts, differently cased addresses hash alike, and the handler's logged hash is the
 * analysts' one.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSql, isPersonalSql, localKeySql, normalizeSql, redactTextSql, redactUrlSql, retentionDeleteSql } from '../../infra/privacy.js';
import { normalizeWebhook } from '../../shared/normalize.js';
import { hashIdentifier, loggableIdentifier, normalizeIdentifier, personalKind } from '../../shared/pseudonym.js';
import { redactText, redactUrl } from '../../shared/redact.js';
import { TABLE_COLUMNS } from '../../shared/row.js';
import { ANALYTICS_SCHEMA, ensureWarehouse, insertRows, queryWarehouse, withWarehouse, type WarehouseRow } from '../../scripts/local/local-warehouse.js';
import { allSamples, samplePayload, type SamplePayload } from '../../scripts/local/samples.js';
import { comparablePayload, referencePayload } from '../support/analytics-reference.js';

const KEY = Buffer.from('9f1c2e3d4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff', 'hex');

describe('each SQL piece agrees with the TypeScript the handler runs', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
  });
  afterAll(() => {
    connection?.closeSync();
    instance?.closeSync();
  });

  /** Evaluates `expr(x)` in DuckDB for every value at once. */
  async function evaluate(values: string[], expr: (x: string) => string): Promise<Array<string | boolean | null>> {
    const rows = values.map((_, i) => `(${i}, $${i + 1})`).join(', ');
    const sql = `SELECT ${expr('x')} AS y FROM (VALUES ${rows}) AS t(i, x) CROSS JOIN (${localKeySql(KEY)}) AS k ORDER BY i`;
    const result = await connection.runAndReadAll(sql, values);
    return result.getRowObjectsJson().map((r) => r.y as string | boolean | null);
  }

  // Addresses, phone numbers, ids, tokens and URLs cut into pieces and shuffled back together.
  const fragments = fc.constantFrom(
    'Alice@Example.COM', ' bob@x.io\t', 'a+b@c.d', '@', '+1 (555) 010-9999', '+15550109999', '555-010-9999', '0200000001', '2024-01-01',
    '550 5.1.1', '<', '>', '"', '(', ')', ';', ':', ',', '[', ']', '/', '?', '#', '=', '&', ' ', '\t', '\n', '-', '.', '+', '_',
    'https://', 'http://user:pw@', 'host.example.com', 'mailto:', 'tok_9f86d081884c7d659a2feaa0c55ad015', '123e4567-e89b-12d3-a456-426614174000',
    'ÄÖÜ', 'İ', 'ß', 'Z', 'q', '7', 'AbCdEfGhIjKlMnOpQrStUvWxYz',
  );
  const phoneLike = fc.array(fc.constantFrom(...'0123456789 +().-'), { minLength: 3, maxLength: 22 }).map((chars) => chars.join(''));
  const texts = fc.oneof(fc.string({ maxLength: 30 }), fc.array(fragments, { maxLength: 8 }).map((parts) => parts.join('')), phoneLike);
  const corpus = fc.sample(texts, { numRuns: 600, seed: 17 });

  it('normalization: trim and ASCII lower-case', async () => {
    expect(await evaluate(corpus, (x) => normalizeSql('duckdb', x))).toEqual(corpus.map(normalizeIdentifier));
  });

  it('what counts as an email address or a phone number', async () => {
    const normalized = corpus.map(normalizeIdentifier).filter((n): n is string => n !== null);
    expect(await evaluate(normalized, (x) => isPersonalSql('duckdb', x))).toEqual(normalized.map((n) => personalKind(n) !== null));
    expect(normalized.filter((n) => personalKind(n) === 'phone').length).toBeGreaterThan(10);
  });

  it('the keyed hash of the normalized value', async () => {
    expect(await evaluate(corpus, (x) => hashSql('duckdb', x))).toEqual(corpus.map((v) => hashIdentifier(v, KEY)));
  });

  it('text redaction and URL redaction', async () => {
    expect(await evaluate(corpus, (x) => redactTextSql('duckdb', x))).toEqual(corpus.map(redactText));
    expect(await evaluate(corpus, (x) => redactUrlSql('duckdb', x))).toEqual(corpus.map(redactUrl));
  });

  it.each([
    ['Alice@X.com', 'alice@x.com', 'email'],
    ['  alice@x.com\n', 'alice@x.com', 'email'],
    ['+44 20 7946 0958', '+44 20 7946 0958', 'phone'],
    ['(555) 010-9999', '(555) 010-9999', 'phone'],
    ['0200000001', '0200000001', null],
    ['user-42', 'user-42', null],
    ['+12', '+12', null],
  ] as const)('%j normalizes to %j and is %s', (value, normalized, kind) => {
    expect(normalizeIdentifier(value)).toBe(normalized);
    expect(personalKind(normalized)).toBe(kind);
  });

  it.each([
    ['550 5.1.1 <Person@Example.com>: Recipient address rejected', '550 5.1.1 <[email]>: Recipient address rejected'],
    ['Unreachable +1 (555) 010-9999 after 3 tries', 'Unreachable [number] after 3 tries'],
    ['APNs: BadDeviceToken 9f86d081884c7d659a2feaa0c55ad015b3a4', 'APNs: BadDeviceToken [token]'],
    ['card 4111 1111 1111 1111 declined', 'card [number] declined'],
    ['id 123e4567-e89b-12d3-a456-426614174000 unknown', 'id [token] unknown'],
  ])('redacts %j', async (text, redacted) => {
    expect(redactText(text)).toBe(redacted);
    expect(await evaluate([text], (x) => redactTextSql('duckdb', x))).toEqual([redacted]);
  });

  it.each([
    ['https://user:secret@example.com/reset/ABCDEFGHIJKLMNOPQRSTUVWX12?token=abc#frag', 'https://example.com/reset/[token]'],
    ['https://example.com/offer?utm_campaign=7', 'https://example.com/offer'],
    ['https://example.com/u/alice@example.com/prefs', 'https://example.com/u/[email]/prefs'],
    ['mailto:alice@example.com?subject=hi', 'mailto:[email]'],
    ['https://example.com/blog/how-to-write-better-emails', 'https://example.com/blog/how-to-write-better-emails'],
  ])('cuts the URL %j to %j', async (url, cut) => {
    expect(redactUrl(url)).toBe(cut);
    expect(await evaluate([url], (x) => redactUrlSql('duckdb', x))).toEqual([cut]);
  });
});

/** Every sample of every object type, and the variants the shapes allow. */
function variants(): Array<{ name: string; body: string }> {
  const ts = Math.floor(Date.parse('2026-11-01T10:00:00Z') / 1000);
  const named = (name: string, payload: SamplePayload | string) => ({ name, body: typeof payload === 'string' ? payload : JSON.stringify(payload) });
  const with_ = (payload: SamplePayload, data: Record<string, unknown>, root: Record<string, unknown> = {}) => ({ ...payload, ...root, data: { ...payload.data, ...data } });
  return [
    ...allSamples({ timestamp: ts }).map((p) => named(`${p.object_type} ${p.metric}`, p)),
    named('email bounced, the id is the address in another case, the reason quotes address, phone and token', with_(samplePayload('email', 'bounced', { seq: 801, timestamp: ts }), {
      identifiers: { id: 'Mixed.Case@Example.COM', email: 'mixed.case@example.com ', cio_id: 'd9c1000801' },
      customer_id: 'Mixed.Case@Example.COM',
      failure_message: '550 5.1.1 <Mixed.Case@Example.COM>: no mailbox; call +1 (555) 010-9999, ref 9f86d081884c7d659a2feaa0c55ad015',
    })),
    named('sms failed to a phone number that is also the id', with_(samplePayload('sms', 'failed', { seq: 802, timestamp: ts }), {
      identifiers: { id: '+44 20 7946 0958', cio_id: 'd9c1000802' },
      customer_id: '+44 20 7946 0958',
      recipient: '+44 20 7946 0958',
      failure_message: 'Twilio 30003: +44 20 7946 0958 unreachable',
    })),
    named('push delivered to two devices, with a field nobody decided on', with_(samplePayload('push', 'delivered', { seq: 803, timestamp: ts }), {
      recipients: [{ device_id: 'fcm-token-AAAA1111BBBB2222CCCC', device_platform: 'android', device_extra: 'secret-extra' }, { device_id: 'apns-token-9999', device_platform: 'ios' }],
    })),
    named('email clicked through a link with credentials, a token and a fragment', with_(samplePayload('email', 'clicked', { seq: 804, timestamp: ts }), {
      href: 'https://user:secret@example.com/reset/ABCDEFGHIJKLMNOPQRSTUVWX12?token=abc#frag',
    })),
    named('preference change whose content carries more than topics', with_(samplePayload('customer', 'cio_subscription_preferences_changed', { seq: 805, timestamp: ts }), {
      content: JSON.stringify({ topics: { topic_1: true, topic_2: false }, email: 'prefs-leak@example.com' }),
    })),
    named('customer subscribed with no email address', with_(samplePayload('customer', 'subscribed', { seq: 806, timestamp: ts }), { email_address: null })),
    named('unsubscribe from a message: object_type email, customer shape', with_(samplePayload('customer', 'unsubscribed', { seq: 807, timestamp: ts }), {}, { object_type: 'email' })),
    named('fields nobody decided on, at the root, in data and in identifiers', with_(samplePayload('email', 'delivered', { seq: 808, timestamp: ts }), {
      new_channel_field: 'undecided-secret',
      identifiers: { id: 'user-808', email: 'person808@example.com', cio_id: 'd9c1000808', phone: '+15550001111' },
      headers: { 'X-Secret': 'header-secret' },
      content: '<html>body-secret</html>',
    }, { extra_root: 'root-secret@example.com' })),
    named('an id that is an object', with_(samplePayload('email', 'sent', { seq: 809, timestamp: ts }), { identifiers: { id: { nested: 'object-secret' }, cio_id: 'd9c1000809' } })),
    named('a JSON array body', '[{"email":"array-secret@example.com"}]'),
    named('a body that is not JSON', 'not json from array-secret2@example.com'),
  ];
}

describe('what analysts read, on every sample', () => {
  let path: string;
  const cases = variants();

  beforeAll(async () => {
    path = join(mkdtempSync(join(tmpdir(), 'privacy-sql-')), 'w.duckdb');
    await ensureWarehouse(path, KEY);
    const rows: WarehouseRow[] = cases.map(({ body }, i) => ({
      ...normalizeWebhook({ body: Buffer.from(body), receivedAt: new Date('2026-11-01T10:00:05Z') }),
      subscription_name: 'projects/p/subscriptions/s',
      message_id: `m${String(i).padStart(4, '0')}`,
      publish_time: '2026-11-01T10:00:06Z',
      attributes: '{}',
    }));
    await withWarehouse(path, (connection) => insertRows(connection, rows));
  });

  const analytics = async () =>
    (await queryWarehouse(path, `SELECT r.payload AS raw_payload, r.customer_id AS raw_customer_id, r.email AS raw_email, r.recipient AS raw_recipient, r.href AS raw_href, r.failure_message AS raw_failure, a.* FROM events r JOIN ${ANALYTICS_SCHEMA}.events a USING (message_id) ORDER BY message_id`)).map((row): Record<string, unknown> & { name: string } => ({
      ...row,
      name: cases[Number(String(row.message_id).slice(1))]!.name,
    }));

  it('builds the payload exactly as the allow-list says, for every object type and variant', async () => {
    const rows = await analytics();
    expect(rows).toHaveLength(cases.length);
    for (const row of rows) {
      const expected = referencePayload(String(row.raw_payload), (row.metric as string | null) ?? null, KEY);
      expect(row.payload === null ? null : comparablePayload(row.payload), row.name).toEqual(expected === null ? null : comparablePayload(expected));
    }
  });

  it('treats the columns as the handler and the reference do', async () => {
    for (const row of await analytics()) {
      const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
      const rawId = text(row.raw_customer_id);
      const normalizedId = rawId === null ? null : normalizeIdentifier(rawId);
      const expectedId = normalizedId !== null && personalKind(normalizedId) !== null ? hashIdentifier(rawId!, KEY) : rawId;
      expect(row.customer_id, row.name).toBe(expectedId);
      expect(row.email_hash, row.name).toBe(text(row.raw_email) === null ? null : hashIdentifier(text(row.raw_email)!, KEY));
      expect(row.recipient_hash, row.name).toBe(text(row.raw_recipient) === null ? null : hashIdentifier(text(row.raw_recipient)!, KEY));
      expect(row.href, row.name).toBe(text(row.raw_href) === null ? null : redactUrl(text(row.raw_href)!));
      expect(row.failure_message, row.name).toBe(text(row.raw_failure) === null ? null : redactText(text(row.raw_failure)!));
    }
  });

  it('lets no raw identifier, content or undecided field through, anywhere in a row', async () => {
    const rows = await analytics();
    const everything = JSON.stringify(rows.map(({ raw_payload, raw_customer_id, raw_email, raw_recipient, raw_href, raw_failure, ...analyst }) => analyst));
    const secrets = [
      ...new Set(
        cases.flatMap(({ body }) => [
          ...body.matchAll(/[\w.+-]+@[\w.-]+\.\w+/g),
          ...body.matchAll(/\+\d[\d ()-]{6,}\d/g),
          ...body.matchAll(/(device|fcm-token|apns-token)-[\w-]+/g),
          ...body.matchAll(/[\w-]*secret[\w-]*/g),
        ].map((m) => m[0])),
      ),
      'Your weekly digest', 'utm_campaign', 'token=abc', 'user:secret', '#frag', '#alerts-', 'hooks.example.com', 'ABCDEFGHIJKLMNOPQRSTUVWX12', 'body-secret',
    ];
    expect(secrets.length).toBeGreaterThan(100);
    for (const secret of secrets) expect(everything, secret).not.toContain(secret);
    // Lower-cased, an address is still an address: none of those either.
    for (const secret of secrets.filter((x) => x.includes('@'))) expect(everything.toLowerCase(), secret).not.toContain(secret.toLowerCase().trim());
  });

  it('keeps what analysts need: ids, platforms, preference topics, SMTP codes, link paths', async () => {
    const byName = new Map((await analytics()).map((r) => [r.name, r]));
    const payloadOf = (name: string) => JSON.parse(String(byName.get(name)!.payload)) as { data: Record<string, unknown> };
    expect(payloadOf('push delivered to two devices, with a field nobody decided on').data.recipients).toEqual([{ device_platform: 'android' }, { device_platform: 'ios' }]);
    expect(JSON.parse(String(payloadOf('preference change whose content carries more than topics').data.content))).toEqual({ topics: { topic_1: true, topic_2: false } });
    expect(byName.get('email clicked through a link with credentials, a token and a fragment')!.href).toBe('https://example.com/reset/[token]');
    expect(String(byName.get('email bounced, the id is the address in another case, the reason quotes address, phone and token')!.failure_message)).toBe('550 5.1.1 <[email]>: no mailbox; call [number], ref [token]');
    const opaque = byName.get('email sent')!;
    expect(opaque.customer_id).toMatch(/^user-\d+$/);
    expect(payloadOf('email sent').data).toMatchObject({ customer_id: opaque.customer_id, identifiers: { id: opaque.customer_id, cio_id: expect.any(String) } });
    expect(byName.get('a JSON array body')!.payload).toBeNull();
    expect(byName.get('a body that is not JSON')!.payload).toBeNull();
  });
});

describe('one person, one hash', () => {
  let path: string;
  const spellings = ['Alice.Smith@Example.COM', ' alice.smith@example.com', 'ALICE.SMITH@EXAMPLE.COM\t', 'alice.smith@example.com'];

  beforeAll(async () => {
    path = join(mkdtempSync(join(tmpdir(), 'one-hash-')), 'w.duckdb');
    await ensureWarehouse(path, KEY);
    const rows = spellings.map((email, i) => {
      const body = JSON.stringify(samplePayload('email', 'bounced', { seq: 900 + i, timestamp: 1_790_000_000 }));
      const payload = JSON.parse(body) as SamplePayload;
      payload.data.identifiers = { id: email, email };
      payload.data.customer_id = email;
      payload.data.recipient = email;
      const row = normalizeWebhook({ body: Buffer.from(JSON.stringify(payload)), receivedAt: new Date() });
      return { ...row, subscription_name: 's', message_id: `m${i}`, publish_time: new Date().toISOString(), attributes: '{}' } as WarehouseRow;
    });
    await withWarehouse(path, (connection) => insertRows(connection, rows));
  });

  it('hashes differently cased and padded addresses alike, in every column and in the payload', async () => {
    const rows = await queryWarehouse(path, `SELECT email_hash, recipient_hash, customer_id, payload FROM ${ANALYTICS_SCHEMA}.events`);
    expect(rows).toHaveLength(spellings.length);
    const hashes = new Set(rows.flatMap((r) => {
      const data = (JSON.parse(String(r.payload)) as { data: { identifiers: { id: string; email: string }; customer_id: string; recipient: string } }).data;
      return [r.email_hash, r.recipient_hash, r.customer_id, data.identifiers.id, data.identifiers.email, data.customer_id, data.recipient];
    }));
    expect(hashes.size).toBe(1);
  });

  it('is the hash the handler logs for any of those spellings', async () => {
    const [row] = await queryWarehouse(path, `SELECT DISTINCT email_hash FROM ${ANALYTICS_SCHEMA}.events`);
    for (const spelling of spellings) expect(loggableIdentifier(spelling, KEY)).toBe(`email-hmac:${String(row!.email_hash)}`);
    expect(loggableIdentifier('+44 20 7946 0958', KEY)).toBe(`phone-hmac:${hashIdentifier('+44 20 7946 0958', KEY)}`);
    expect(loggableIdentifier('user-42', KEY)).toBe('user-42');
    expect(loggableIdentifier('cio_d9c1000001', KEY)).toBe('cio_d9c1000001');
  });
});

describe('retention reaches every row', () => {
  it('deletes, past the retention by receipt, rows without an event time or dated far off, and nothing else', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run(`CREATE TABLE events (${TABLE_COLUMNS.map((c) => `${c.name} ${c.type === 'TIMESTAMP' ? 'TIMESTAMP' : c.type === 'INT64' ? 'BIGINT' : c.type === 'BOOL' ? 'BOOLEAN' : 'VARCHAR'}`).join(', ')})`);
      const day = 86_400_000;
      const now = Date.now();
      const at = (ms: number) => new Date(ms).toISOString();
      const rows: Array<[string, string | null, string]> = [
        ['undated, old', null, at(now - 40 * day)],
        ['dated next year, old', at(now + 330 * day), at(now - 40 * day)],
        ['dated 2200, old', '2200-01-01T00:00:00Z', at(now - 40 * day)],
        ['dated 1955, old', '1955-01-01T00:00:00Z', at(now - 40 * day)],
        ['undated, recent', null, at(now - 5 * day)],
        ['dated next year, recent', at(now + 360 * day), at(now - 5 * day)],
        ['normal, old (partition expiration takes it)', at(now - 41 * day), at(now - 40 * day)],
        ['late arrival, old', at(now - 47 * day), at(now - 40 * day)],
        ['clock a few hours ahead, old', at(now - 40 * day + 3 * 3_600_000), at(now - 40 * day)],
      ];
      for (const [id, eventTime, receivedAt] of rows) await connection.run('INSERT INTO events (event_id, event_timestamp, received_at) VALUES ($1, $2, $3)', [id, eventTime, receivedAt]);
      await connection.run(retentionDeleteSql('duckdb', 'events', 30));
      const left = (await connection.runAndReadAll('SELECT event_id FROM events ORDER BY event_id')).getRowObjectsJson().map((r) => r.event_id);
      expect(left).toEqual(['clock a few hours ahead, old', 'dated next year, recent', 'late arrival, old', 'normal, old (partition expiration takes it)', 'undated, recent']);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
