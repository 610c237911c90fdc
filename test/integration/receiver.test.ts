import { createHash, createHmac } from 'node:crypto';
import { PubSub } from '@google-cloud/pubsub';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadReceiverConfig } from '../../shared/config.js';
import { createMemoryLogger } from '../../shared/log.js';
import { createTopicPublisher } from '../../functions/pubsub-publisher.js';
import { PROCESSING_WAIT_MS, createReceiver } from '../../functions/receiver.js';
import { createByteGate, type ByteGate } from '../../functions/byte-gate.js';
import { allSamples, samplePayload } from '../../scripts/local/samples.js';
import { serveFunction, type FunctionServer } from '../support/function-server.js';
import { createTopicProbe, type TopicProbe } from '../support/pubsub.js';
import { signedHeaders } from '../support/signing.js';

const KEY = 'whsec-test-key';
const OLD_KEY = 'whsec-old-key';

let pubsub: PubSub;
let probe: TopicProbe;
let server: FunctionServer;
let logger: ReturnType<typeof createMemoryLogger>;

async function startReceiver(env: Record<string, string> = {}, processing?: ByteGate) {
  const config = loadReceiverConfig({
    GOOGLE_CLOUD_PROJECT: process.env.GOOGLE_CLOUD_PROJECT,
    CIO_WEBHOOK_SIGNING_KEYS: `${KEY},${OLD_KEY}`,
    PUBSUB_TOPIC: probe.topicName,
    RECEIVER_MAX_BODY_BYTES: String(64 * 1024),
    ...env,
  });
  logger = createMemoryLogger();
  const publisher = createTopicPublisher({ pubsub, topic: config.topic, timeoutMs: config.publishTimeoutMs });
  server = await serveFunction(createReceiver({ config, publisher, logger, processing }));
}

function post(body: string | Buffer, headers: Record<string, string>, method = 'POST') {
  return fetch(server.url, { method, headers, body: method === 'GET' ? undefined : body });
}

beforeAll(() => {
  pubsub = new PubSub({ projectId: process.env.GOOGLE_CLOUD_PROJECT });
});
afterAll(async () => {
  await pubsub.close();
});
beforeEach(async () => {
  probe = await createTopicProbe(pubsub);
  await startReceiver();
});
afterEach(async () => {
  await server.close();
  await probe.close();
});

describe('receiver against the Pub/Sub emulator', () => {
  it('publishes exactly one message whose data and attributes match the row', async () => {
    const sample = samplePayload('email', 'bounced', { seq: 7, timestamp: 1_700_000_000 });
    const body = JSON.stringify(sample);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const response = await post(body, { ...signedHeaders(KEY, body), traceparent });
    expect(response.status).toBe(204);

    const [message, ...extra] = await probe.waitFor(1);
    expect(extra).toEqual([]);
    const row = JSON.parse(message!.data);
    expect(row).toMatchObject({
      event_id: sample.event_id,
      object_type: 'email',
      metric: 'bounced',
      event_timestamp: '2023-11-14T22:13:20.000Z',
      customer_id: 'user-7',
      cio_id: 'd9c100000007',
      email: 'person7@example.com',
      failure_message: '550 5.1.1 mailbox does not exist',
      payload: body,
    });
    expect(Date.parse(row.received_at)).toBeGreaterThan(Date.now() - 60_000);
    // The request's trace travels with the message, for the handler's entries (shared/trace-context.ts).
    expect(message!.attributes).toEqual({ event_id: sample.event_id, object_type: 'email', metric: 'bounced', schema_version: '1', googclient_traceparent: traceparent });
  });

  it('accepts a request signed with the older rotation key', async () => {
    const body = JSON.stringify(samplePayload('sms', 'delivered'));
    expect((await post(body, signedHeaders(OLD_KEY, body))).status).toBe(204);
    expect(await probe.waitFor(1)).toHaveLength(1);
  });

  it('accepts and publishes every object type and metric, unknown metrics and test sends', async () => {
    const bodies = [
      ...allSamples().map((s) => JSON.stringify(s)),
      JSON.stringify({ event_id: 'future-1', object_type: 'email', metric: 'deferred_forever', timestamp: 1, data: {} }),
      JSON.stringify({ event_id: 'future-2', object_type: 'carrier_pigeon', metric: 'sent', timestamp: 1, data: {} }),
      // A "Send Test" payload can lack most fields.
      JSON.stringify({ metric: 'sent', object_type: 'email', data: { identifiers: {} } }),
    ];
    const statuses = await Promise.all(bodies.map(async (b) => (await post(b, signedHeaders(KEY, b))).status));
    expect(statuses.every((s) => s === 204)).toBe(true);
    const messages = await probe.waitFor(bodies.length);
    expect(messages).toHaveLength(bodies.length);
    expect(new Set(messages.map((m) => JSON.parse(m.data).payload))).toEqual(new Set(bodies));
  });

  it('accepts a signed body that is not JSON (text/plain) and keys it by its hash', async () => {
    const body = 'not json at all';
    const response = await post(body, { ...signedHeaders(KEY, body), 'content-type': 'text/plain' });
    expect(response.status).toBe(204);
    const [message] = await probe.waitFor(1);
    expect(JSON.parse(message!.data)).toMatchObject({ payload: body, event_id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
  });

  it('answers every rejected request without publishing anything', async () => {
    const body = JSON.stringify(samplePayload('email', 'sent'));
    const good = signedHeaders(KEY, body);
    const bodyOnly = createHmac('sha256', KEY).update(body).digest('hex');
    const big = JSON.stringify({ event_id: 'big', data: { subject: 'x'.repeat(64 * 1024) } });
    const rejected: Array<[string, () => Promise<Response>, number]> = [
      ['no signature', () => post(body, { 'content-type': 'application/json', 'x-cio-timestamp': good['x-cio-timestamp'] }), 401],
      ['no timestamp', () => post(body, { 'content-type': 'application/json', 'x-cio-signature': good['x-cio-signature'] }), 401],
      ['wrong key', () => post(body, signedHeaders('wrong-key', body)), 401],
      ['tampered body', () => post(body.replace('sent', 'sEnt'), good), 401],
      ['body-only HMAC', () => post(body, { ...good, 'x-cio-signature': bodyOnly }), 401],
      ['GET', () => post('', good, 'GET'), 405],
      ['PUT', () => post(body, good, 'PUT'), 405],
      ['oversized', () => post(big, signedHeaders(KEY, big)), 413],
      ['malformed JSON', () => post('{"event_id":', signedHeaders(KEY, '{"event_id":')), 400],
    ];
    for (const [label, send, status] of rejected) {
      const before = logger.entries.length;
      expect((await send()).status, label).toBe(status);
      // At most one line, naming the status it answered (docs/security.md).
      const lines = logger.entries.slice(before);
      expect(lines.length, label).toBeLessThanOrEqual(1);
      for (const line of lines) expect(line.status, label).toBe(status);
    }

    // A valid request afterwards is the barrier: only it may arrive.
    const barrier = JSON.stringify(samplePayload('email', 'delivered'));
    expect((await post(barrier, signedHeaders(KEY, barrier))).status).toBe(204);
    const messages = await probe.waitFor(1, { settleMs: 700 });
    expect(messages.map((m) => JSON.parse(m.data).payload)).toEqual([barrier]);
  });

  it('gives no hint which signature check failed', async () => {
    const body = JSON.stringify(samplePayload('email', 'sent'));
    const answers = await Promise.all([
      post(body, signedHeaders('wrong', body)),
      post(body, { 'content-type': 'application/json' }),
      post(body, { ...signedHeaders(KEY, body), 'x-cio-signature': 'zz' }),
    ]);
    const texts = await Promise.all(answers.map((r) => r.text()));
    expect(new Set(texts)).toEqual(new Set(['{"error":"invalid signature"}']));
    expect(logger.entries.filter((e) => e.message === 'webhook signature rejected').map((e) => e.reason).sort())
      .toEqual(['malformed_signature', 'missing_timestamp', 'no_matching_key']);
  });

  it('answers 405 with an Allow header', async () => {
    const response = await post('', {}, 'GET');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('rejects a request older than the window (8 days by default); with the window off (0) accepts and logs it', async () => {
    const body = JSON.stringify(samplePayload('email', 'sent'));
    const now = Math.floor(Date.now() / 1000);
    // Customer.io retries for 7 days: a retry of a week-old delivery is still accepted.
    expect((await post(body, signedHeaders(KEY, body, now - 7 * 86_400))).status).toBe(204);
    // A captured request replayed after the window is refused, so it can never outlive its dedupe record.
    expect((await post(body, signedHeaders(KEY, body, now - 9 * 86_400))).status).toBe(401);
    expect(logger.entries.find((e) => e.message === 'webhook signature rejected')?.reason).toBe('timestamp_too_old');
    expect((await post(body, signedHeaders(KEY, body, now + 9 * 86_400))).status).toBe(401);
    // Ahead of the receiver's clock, only skew is allowed (5 minutes), not the window.
    expect((await post(body, signedHeaders(KEY, body, now + 10 * 60))).status).toBe(401);
    expect((await post(body, signedHeaders(KEY, body, now + 2 * 60))).status).toBe(204);
    expect(logger.entries.filter((e) => e.message === 'webhook signature rejected').map((e) => e.reason)).toEqual(['timestamp_too_old', 'timestamp_too_new', 'timestamp_too_new']);
    await server.close();

    await startReceiver({ CIO_SIGNATURE_MAX_AGE_SECONDS: '0' });
    expect((await post(body, signedHeaders(KEY, body, now - 9 * 86_400))).status).toBe(204);
    expect(logger.entries.some((e) => e.severity === 'WARNING' && String(e.message).startsWith('stale X-CIO-Timestamp'))).toBe(true);
    expect(await probe.waitFor(3)).toHaveLength(3);
  });

  it('never logs the signing key or the payload', async () => {
    const body = JSON.stringify(samplePayload('email', 'clicked', { seq: 11 }));
    await post(body, signedHeaders(KEY, body));
    await post(body, signedHeaders('wrong', body));
    const logged = JSON.stringify(logger.entries);
    expect(logged).not.toContain(KEY);
    expect(logged).not.toContain('utm_campaign');
    expect(logger.entries.find((e) => e.message === 'webhook accepted')).toMatchObject({ severity: 'DEBUG', metric: 'clicked', message_id: expect.any(String) });
  });

  it('fits oversized attribute values into Pub/Sub limits instead of failing the publish, and keys a 10,000-character event_id by its hash', async () => {
    const id = 'e'.repeat(10_000);
    const body = JSON.stringify({ event_id: id, object_type: 'email', metric: 'm'.repeat(2000), data: {} });
    expect((await post(body, signedHeaders(KEY, body))).status).toBe(204);
    const [message] = await probe.waitFor(1);
    const hashed = `event_id-sha256:${createHash('sha256').update(id).digest('hex')}`;
    // The attribute and the row carry the same id, so the dead letters and ops trace find it by it.
    expect(message!.attributes.event_id).toBe(hashed);
    expect(JSON.parse(message!.data)).toMatchObject({ event_id: hashed, payload: body });
    expect(Buffer.byteLength(message!.attributes.metric!)).toBe(1024);
    expect(logger.entries).toContainEqual(expect.objectContaining({ severity: 'WARNING', event_id: hashed, event_id_bytes: 10_000, event_id_start: 'e'.repeat(64) }));
  });
  it('lets a large signed body wait its turn in the processing gate, then 503; a forged one never waits', async () => {
    await server.close();
    const gate = createByteGate(1024 * 1024);
    await startReceiver({ RECEIVER_MAX_BODY_BYTES: String(1024 * 1024) }, gate);
    const leave = (await gate.enter(1024 * 1024, 0))!;
    const payload = samplePayload('email', 'sent', { seq: 41 });
    payload.data.subject = 's'.repeat(300 * 1024);
    const body = JSON.stringify(payload);
    // The gate is full: a forged body that entered it would wait and get 503, not 401.
    expect((await post(body, { ...signedHeaders('not-the-key', body) })).status).toBe(401);
    const busy = Date.now();
    expect((await post(body, signedHeaders(KEY, body))).status).toBe(503);
    expect(Date.now() - busy).toBeGreaterThanOrEqual(PROCESSING_WAIT_MS - 50);
    expect(logger.entries).toContainEqual(expect.objectContaining({ severity: 'WARNING', status: 503, bytes: Buffer.byteLength(body) }));
    leave();
    expect((await post(body, signedHeaders(KEY, body))).status).toBe(204);
    expect(gate.inUse).toBe(0);
    expect(await probe.waitFor(1)).toHaveLength(1);
  });
});
