import { createHash, createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { TEST_PSEUDONYM_KEY, eventRow, startHandlerHarness } from '../support/handler-harness.js';

const AUTH = `Basic ${Buffer.from('site-1:track-key-1').toString('base64')}`;
const T = 1_700_000_000;
let fake: FakeTrackApi;
let harness: Awaited<ReturnType<typeof startHandlerHarness>>;

beforeAll(async () => {
  fake = await startFakeTrackApi();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  fake.reset();
  harness = await startHandlerHarness({ fake });
});
afterEach(async () => {
  await harness.close();
});

describe('default policy against the fake Track API', () => {
  it.each([
    ['email', 'bounced', {}, { email_bounced: true, email_bounced_at: T, last_bounce_delivery_id: expect.stringMatching(/^RPIL/), last_bounce_reason: '550 5.1.1 mailbox does not exist' }],
    ['email', 'spammed', {}, { unsubscribed: true, spam_complaint: true, spam_complaint_at: T }],
    ['customer', 'unsubscribed', {}, { unsubscribed_at: T }],
    ['email', 'unsubscribed', {}, { unsubscribed_at: T }],
    ['email', 'opened', { proxied: true, prefetched: false }, { last_email_engaged_at: T, last_email_metric: 'opened' }],
    ['email', 'clicked', { machine: false }, { last_email_engaged_at: T, last_email_metric: 'clicked' }],
  ] as const)('%s %s → one PUT identify with _update and _timestamp', async (type, metric, data, attributes) => {
    const row = eventRow(type, metric, { seq: 4, data });
    expect(await harness.push(row)).toBe(204);
    expect(fake.requests).toEqual([{
      method: 'PUT',
      path: '/customers/cio_d9c100000004',
      authorization: AUTH,
      body: { ...attributes, _update: true, _timestamp: T },
      answered: 200,
    }]);
    expect(await harness.record(row.event_id)).toMatchObject({ status: 'done', attempts: 1, expire_at: expect.anything() });
    expect(harness.outcomes(row.event_id)).toEqual(['done']);
  });

  it.each([
    ['email', 'delivered', {}],
    ['email', 'sent', {}],
    ['email', 'clicked', { machine: true }],
    ['email', 'opened', { prefetched: true }],
    ['push', 'opened', {}],
    ['sms', 'bounced', {}],
    ['customer', 'subscribed', {}],
  ] as const)('%s %s %o → acked with no call and no Firestore record', async (type, metric, data) => {
    const row = eventRow(type, metric, { data });
    expect(await harness.push(row)).toBe(204);
    expect(fake.requests).toEqual([]);
    expect(await harness.record(row.event_id)).toBeUndefined();
    expect(harness.outcomes(row.event_id)).toEqual(['no-action']);
  });

  it('targets the id, then the email, when there is no cio_id', async () => {
    const byId = eventRow('email', 'bounced', { data: { identifiers: { id: 'u/1', email: 'a@example.com' } } });
    const byEmail = eventRow('email', 'bounced', { data: { identifiers: { email: 'a+b@example.com' }, customer_id: '' } });
    await harness.push(byId);
    await harness.push(byEmail);
    expect(fake.requests.map((r) => r.path)).toEqual(['/customers/u%2F1', '/customers/a%2Bb%40example.com']);
    // The email fallback reaches Customer.io but not the logs.
    expect(JSON.stringify(harness.logger.entries.filter((e) => e.message === 'event handled'))).not.toContain('a+b@example.com');
    // As its keyed hash: the same value the analysts' views show as email_hash, which a list of
    // candidate addresses hashed without the key does not reproduce.
    const logged = harness.handled(byEmail.event_id)[0]?.identifier;
    expect(logged).toBe(`email-hmac:${createHmac('sha256', Buffer.from(TEST_PSEUDONYM_KEY, 'hex')).update('a+b@example.com').digest('hex')}`);
    expect(logged).not.toContain(createHash('sha256').update('a+b@example.com').digest('hex').slice(0, 16));
  });

  it('logs an id that is an address or a phone number as the keyed hash of its normalized form', async () => {
    const rows = [
      eventRow('email', 'bounced', { seq: 31, data: { identifiers: { id: 'Alice.Smith@Example.COM' }, customer_id: '' } }),
      eventRow('email', 'bounced', { seq: 32, data: { identifiers: { id: ' alice.smith@example.com' }, customer_id: '' } }),
      eventRow('email', 'bounced', { seq: 33, data: { identifiers: { id: '+44 20 7946 0958' }, customer_id: '' } }),
    ];
    for (const row of rows) expect(await harness.push(row)).toBe(204);
    const key = Buffer.from(TEST_PSEUDONYM_KEY, 'hex');
    const logged = rows.map((row) => harness.handled(row.event_id)[0]?.identifier);
    // One person, one hash: both spellings log what the analysts' email_hash holds for the address.
    expect(logged[0]).toBe(`email-hmac:${createHmac('sha256', key).update('alice.smith@example.com').digest('hex')}`);
    expect(logged[1]).toBe(logged[0]);
    expect(logged[2]).toBe(`phone-hmac:${createHmac('sha256', key).update('+44 20 7946 0958').digest('hex')}`);
    const lines = JSON.stringify(harness.logger.entries);
    for (const raw of ['Alice.Smith', 'alice.smith@', '7946']) expect(lines).not.toContain(raw);
    // Customer.io still gets the identifier as it is.
    expect(fake.requests.map((r) => decodeURIComponent(r.path))).toEqual(['/customers/Alice.Smith@Example.COM', '/customers/ alice.smith@example.com', '/customers/+44 20 7946 0958']);
  });

  it('records and acks an event with no usable identifier, with a WARNING', async () => {
    const row = eventRow('email', 'bounced', { data: { identifiers: {}, customer_id: '' } });
    expect(await harness.push(row)).toBe(204);
    expect(fake.requests).toEqual([]);
    expect(await harness.record(row.event_id)).toMatchObject({ status: 'rejected', error: 'no usable identifier (cio_id, id or email)' });
    expect(harness.handled(row.event_id)[0]).toMatchObject({ severity: 'WARNING', outcome: 'permanent-failure' });
  });
});

describe('dedupe', () => {
  it('the same event delivered 5 times concurrently → exactly one identify', async () => {
    const row = eventRow('email', 'bounced', { seq: 9 });
    const statuses = await Promise.all(Array.from({ length: 5 }, () => harness.push(row)));
    // The winner acks; the others either see the live lease (nack, redelivered later) or the done record.
    expect(statuses.filter((s) => s === 204).length).toBeGreaterThanOrEqual(1);
    for (const status of statuses) expect([204, 429]).toContain(status);
    // Pub/Sub redelivers the nacked ones: now all are duplicates.
    for (let i = 0; i < 5; i++) expect(await harness.push(row)).toBe(204);
    expect(fake.requests).toHaveLength(1);
    expect(harness.outcomes(row.event_id).filter((o) => o === 'done')).toHaveLength(1);
  });

  it('a redelivery of a done event is a duplicate: acked, no call', async () => {
    const row = eventRow('email', 'spammed');
    expect(await harness.push(row)).toBe(204);
    expect(await harness.push(row)).toBe(204);
    expect(fake.requests).toHaveLength(1);
    expect(harness.outcomes(row.event_id)).toEqual(['done', 'duplicate']);
  });

  it('document ids are safe for any event_id', async () => {
    for (const eventId of ['a/b/c', '..', '__x__', 'é'.repeat(2000)]) {
      const row = { ...eventRow('email', 'bounced'), event_id: eventId };
      expect(await harness.push(row)).toBe(204);
      expect(await harness.record(eventId)).toMatchObject({ status: 'done', event_id: eventId });
    }
  });
});

describe('Customer.io failures', () => {
  it('500s until the client gives up → nack; the redelivery succeeds; one successful identify; record done', async () => {
    const row = eventRow('email', 'bounced');
    // customerio-node retries 5xx itself (3 attempts): fail all of them.
    fake.script({ status: 500 }, { status: 500 }, { status: 500 });
    expect(await harness.push(row)).toBe(503);
    expect(await harness.record(row.event_id)).toMatchObject({ status: 'failed', error: expect.stringContaining('500') });
    expect(await harness.push(row)).toBe(204);
    expect(fake.requests.filter((r) => r.answered === 200)).toHaveLength(1);
    expect(await harness.record(row.event_id)).toMatchObject({ status: 'done', attempts: 2 });
    expect(harness.outcomes(row.event_id)).toEqual(['retry', 'done']);
  });

  it('a 500 the client retries past is done in one delivery', async () => {
    const row = eventRow('email', 'bounced');
    fake.script({ status: 500 });
    expect(await harness.push(row)).toBe(204);
    expect(fake.requests.map((r) => r.answered)).toEqual([500, 200]);
  });

  it('400 → acked, recorded rejected with the error; a redelivery makes no second call', async () => {
    const row = eventRow('email', 'bounced');
    fake.script({ status: 400 });
    expect(await harness.push(row)).toBe(204);
    expect(await harness.record(row.event_id)).toMatchObject({ status: 'rejected', error: 'Customer.io answered 400: fake answered 400' });
    expect(harness.handled(row.event_id)[0]).toMatchObject({ severity: 'ERROR', outcome: 'permanent-failure', cio_status: 400 });
    expect(await harness.push(row)).toBe(204);
    expect(fake.requests).toHaveLength(1);
  });

  it('redacts what Customer.io\'s error quotes before it reaches the log or the dedupe record', async () => {
    const row = eventRow('email', 'bounced', { seq: 41 });
    fake.script({ status: 400, error: 'attribute last_bounce_reason for Person41@Example.com is invalid; ref 9f86d081884c7d659a2feaa0c55ad015' });
    expect(await harness.push(row)).toBe(204);
    const expected = 'Customer.io answered 400: attribute last_bounce_reason for [email] is invalid; ref [token]';
    expect(await harness.record(row.event_id)).toMatchObject({ status: 'rejected', error: expected });
    expect(harness.handled(row.event_id)[0]).toMatchObject({ outcome: 'permanent-failure', error: expected });
    expect(JSON.stringify(harness.logger.entries)).not.toMatch(/Person41|9f86d081884c7d659a2feaa0c55ad015/i);
  });

  it.each([401, 403] as const)('%i → nack (a credentials problem must not drop actions)', async (status) => {
    const row = eventRow('email', 'bounced');
    fake.script({ status });
    expect(await harness.push(row)).toBe(503);
    expect(await harness.record(row.event_id)).toMatchObject({ status: 'failed' });
    expect(await harness.push(row)).toBe(204);
    expect(fake.requests.map((r) => r.answered)).toEqual([status, 200]);
  });

  it('429 with Retry-After within the budget is retried by the client in the same delivery', async () => {
    const row = eventRow('email', 'bounced');
    fake.script({ status: 429, retryAfterSeconds: 1 });
    expect(await harness.push(row)).toBe(204);
    expect(fake.requests.map((r) => r.answered)).toEqual([429, 200]);
  });

  it('persistent 429 → the handler answers 429 (nack)', async () => {
    const row = eventRow('email', 'bounced');
    fake.otherwise({ status: 429, retryAfterSeconds: 30 });
    expect(await harness.push(row)).toBe(429);
    expect(fake.requests.every((r) => r.answered === 429)).toBe(true);
    expect(harness.handled(row.event_id)[0]).toMatchObject({ severity: 'WARNING', outcome: 'retry', cio_status: 429, retry_after_s: 30 });
  });

  it('a hang longer than the deadline → nack within the deadline', async () => {
    const row = eventRow('email', 'bounced');
    fake.otherwise({ hang: true });
    const started = performance.now();
    expect(await harness.push(row)).toBe(503);
    // The contract: an answer before the push ack deadline; CIO_DEADLINE_SECONDS is 5 here.
    expect(performance.now() - started).toBeLessThan(harness.config.cioDeadlineSeconds * 1000 + 2000);
    expect(await harness.record(row.event_id)).toMatchObject({ status: 'failed' });
    fake.otherwise({ status: 200 });
    expect(await harness.push(row)).toBe(204);
  });
});

describe('lease', () => {
  it('an attempt that claimed and died blocks redeliveries until the lease expires, then the event runs once', async () => {
    let now = Date.now();
    await harness.close();
    harness = await startHandlerHarness({ fake, nowMs: () => now, env: { DEDUPE_LEASE_SECONDS: '60', CIO_DEADLINE_SECONDS: '5' } });
    const row = eventRow('email', 'bounced');
    // The dead attempt: claimed, never finished.
    expect(await harness.dedupe.claim(row, now)).toEqual({ kind: 'claimed', attempt: 1 });

    now += 30_000;
    expect(await harness.push(row)).toBe(429);
    expect(fake.requests).toHaveLength(0);

    now += 31_000;
    expect(await harness.push(row)).toBe(204);
    expect(await harness.push(row)).toBe(204);
    expect(fake.requests).toHaveLength(1);
    expect(await harness.record(row.event_id)).toMatchObject({ status: 'done', attempts: 2 });
  });
});

describe('envelopes', () => {
  it.each([
    ['not an envelope', { hello: 'world' }],
    ['data not base64', { message: { data: '%%%' } }],
    ['data not an event row', { message: { data: Buffer.from('[1]').toString('base64') } }],
    ['row without event_id', { message: { data: Buffer.from('{"metric":"bounced"}').toString('base64') } }],
  ])('%s → 400 (a nack: it ends in the dead-letter topic)', async (_label, envelope) => {
    const response = await fetch(harness.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
    expect(response.status).toBe(400);
    expect(harness.logger.entries.at(-1)).toMatchObject({ severity: 'ERROR', message: 'malformed push message' });
  });

  it('accepts snake_case envelopes', async () => {
    const row = eventRow('email', 'bounced');
    const body = { message: { data: Buffer.from(JSON.stringify(row)).toString('base64'), message_id: 'm-1', publish_time: new Date().toISOString() } };
    const response = await fetch(harness.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(response.status).toBe(204);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('credentials still the deploy placeholder', () => {
  it('nacks actionable events without calling anyone, and acks the rest', async () => {
    await harness.close();
    harness = await startHandlerHarness({ fake, env: { CIO_SITE_ID: 'placeholder:add-a-secret-version', CIO_TRACK_API_KEY: 'placeholder:add-a-secret-version' } });
    expect(await harness.push(eventRow('email', 'bounced'))).toBe(503);
    expect(await harness.push(eventRow('email', 'delivered'))).toBe(204);
    expect(fake.requests).toEqual([]);
  });
});

describe('dry run', () => {
  it('makes no HTTP request at all and logs the exact call, under the event and its trace', async () => {
    await harness.close();
    harness = await startHandlerHarness({ fake, env: { CIO_DRY_RUN: '1' } });
    const row = eventRow('email', 'bounced', { seq: 3 });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(await harness.push(row, undefined, { traceId, spanId: '00f067aa0ba902b7', sampled: true })).toBe(204);
    expect(fake.requests).toEqual([]);
    expect(harness.logger.entries.find((e) => e.message === 'dry run: Customer.io call not made')).toMatchObject({
      event_id: row.event_id,
      'logging.googleapis.com/trace': `projects/${process.env.GOOGLE_CLOUD_PROJECT}/traces/${traceId}`,
      cio_call: { method: 'PUT', path: '/customers/cio_d9c100000003', body: { email_bounced: true, _update: true, _timestamp: T } },
    });
    expect(await harness.record(row.event_id)).toMatchObject({ status: 'done' });
  });

  it('logs an address used as the identifier, and a bounce reason quoting it, only redacted', async () => {
    await harness.close();
    harness = await startHandlerHarness({ fake, env: { CIO_DRY_RUN: '1' } });
    const row = eventRow('email', 'bounced', { seq: 5, data: { identifiers: { email: 'Bounce.Me@Example.com' }, customer_id: '', failure_message: '550 <Bounce.Me@Example.com> unknown' } });
    expect(await harness.push(row)).toBe(204);
    const hash = createHmac('sha256', Buffer.from(TEST_PSEUDONYM_KEY, 'hex')).update('bounce.me@example.com').digest('hex');
    expect(harness.logger.entries.find((e) => e.message === 'dry run: Customer.io call not made')).toMatchObject({
      cio_call: { method: 'PUT', path: `/customers/email-hmac%3A${hash}`, body: { email_bounced: true, last_bounce_reason: '550 <[email]> unknown' } },
    });
    expect(JSON.stringify(harness.logger.entries)).not.toMatch(/bounce\.me/i);
  });

  it('shows Customer.io\'s own ids as they are, however many digits they hold, and redacts the text beside them', async () => {
    await harness.close();
    harness = await startHandlerHarness({ fake, env: { CIO_DRY_RUN: '1' } });
    const row = eventRow('email', 'bounced', { seq: 6, data: { delivery_id: 'RPIL33a7173287', failure_message: '550 user +1 415 555 0100 unknown' } });
    expect(await harness.push(row)).toBe(204);
    expect(harness.logger.entries.find((e) => e.message === 'dry run: Customer.io call not made')).toMatchObject({
      cio_call: { body: { last_bounce_delivery_id: 'RPIL33a7173287', last_bounce_reason: '550 user [number] unknown' } },
    });
  });
});
