/**
 * Log entries joined to their request and their event (issue #18 §3), through the real Pub/Sub
 * emulator: the receiver process gets a webhook with Cloud Run's trace headers, publishes it with
 * the trace in `googclient_traceparent`, the push subscription delivers it to the handler, and every
 * entry either writes for it carries Cloud Logging's trace fields with the same trace id.
 */
import { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFunction, type FunctionProcess } from '../../scripts/local/function-process.js';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { samplePayload } from '../../scripts/local/samples.js';
import { TRACE_LOG_FIELDS } from '../../shared/trace-context.js';
import { startHandlerHarness } from '../support/handler-harness.js';
import { uniqueName } from '../support/pubsub.js';
import { signedHeaders } from '../support/signing.js';
import { waitFor } from '../support/waiting.js';

const KEY = 'trace-key';
const PROJECT = process.env.GOOGLE_CLOUD_PROJECT!;
let pubsub: PubSub;
let fake: FakeTrackApi;
let handler: Awaited<ReturnType<typeof startHandlerHarness>>;
let receiver: FunctionProcess;
let topicName: string;

beforeAll(async () => {
  pubsub = new PubSub({ projectId: PROJECT });
  fake = await startFakeTrackApi();
  handler = await startHandlerHarness({ fake });
  topicName = uniqueName('traced');
  const [topic] = await pubsub.createTopic(topicName);
  await topic.createSubscription(`${topicName}-handler`, { pushConfig: { pushEndpoint: handler.url }, ackDeadlineSeconds: 60 });
  receiver = await startFunction({
    target: 'receiver',
    env: {
      GOOGLE_CLOUD_PROJECT: PROJECT,
      PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST,
      PUBSUB_TOPIC: topicName,
      CIO_WEBHOOK_SIGNING_KEYS: KEY,
      // The accepted webhook's entry is at DEBUG.
      LOG_LEVEL: 'debug',
    },
  });
});

afterAll(async () => {
  await receiver?.stop();
  await pubsub.subscription(`${topicName}-handler`).delete().catch(() => undefined);
  await pubsub.topic(topicName).delete().catch(() => undefined);
  await pubsub?.close();
  await handler?.close();
  await fake?.close();
});

const receiverEntries = () => receiver.lines.flatMap((line) => {
  try {
    return [JSON.parse(line) as Record<string, unknown>];
  } catch {
    return [];
  }
});

const traceField = (traceId: string) => `projects/${PROJECT}/traces/${traceId}`;

describe('one trace id from the webhook\'s request to its Customer.io call', () => {
  it('puts the request\'s trace on the receiver\'s entries and, through the message, on the handler\'s', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const body = JSON.stringify(samplePayload('email', 'bounced', { seq: 31 }));
    const eventId = JSON.parse(body).event_id as string;
    const response = await fetch(receiver.url, { method: 'POST', headers: { ...signedHeaders(KEY, body), traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-cloud-trace-context': `${traceId}/67667974448284343;o=1` }, body });
    expect(response.status).toBe(204);

    await waitFor(() => handler.outcomes(eventId).includes('done'), { what: 'the handler to act on the event' });
    const accepted = receiverEntries().find((e) => e.message === 'webhook accepted' && e.event_id === eventId);
    expect(accepted).toMatchObject({ [TRACE_LOG_FIELDS.trace]: traceField(traceId), [TRACE_LOG_FIELDS.spanId]: '00f067aa0ba902b7', [TRACE_LOG_FIELDS.sampled]: true });
    const handled = handler.logger.entries.filter((e) => e.event_id === eventId);
    expect(handled.length).toBeGreaterThanOrEqual(2);
    for (const entry of handled) expect(entry[TRACE_LOG_FIELDS.trace], String(entry.message)).toBe(traceField(traceId));
    expect(fake.requests.length).toBeGreaterThanOrEqual(1);
  });

  it('gives a webhook that came without a trace one of its own, shared by the handler\'s entries', async () => {
    const body = JSON.stringify(samplePayload('email', 'spammed', { seq: 32 }));
    const eventId = JSON.parse(body).event_id as string;
    expect((await fetch(receiver.url, { method: 'POST', headers: signedHeaders(KEY, body), body })).status).toBe(204);
    await waitFor(() => handler.outcomes(eventId).includes('done'), { what: 'the handler to act on the event' });
    const accepted = receiverEntries().find((e) => e.message === 'webhook accepted' && e.event_id === eventId)!;
    expect(accepted[TRACE_LOG_FIELDS.trace]).toMatch(new RegExp(`^projects/${PROJECT}/traces/[0-9a-f]{32}$`));
    for (const entry of handler.logger.entries.filter((e) => e.event_id === eventId)) expect(entry[TRACE_LOG_FIELDS.trace]).toBe(accepted[TRACE_LOG_FIELDS.trace]);
  });

  it('puts the trace on the entry of a request refused before its body was read', async () => {
    const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const response = await fetch(receiver.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cloud-trace-context': `${traceId}/74;o=0` }, body: '{}' });
    expect(response.status).toBe(401);
    await waitFor(() => receiverEntries().some((e) => e[TRACE_LOG_FIELDS.trace] === traceField(traceId)), { what: 'the refusal\'s entry', timeoutMs: 5_000 });
    expect(receiverEntries().filter((e) => e[TRACE_LOG_FIELDS.trace] === traceField(traceId))).toEqual([
      expect.objectContaining({ severity: 'WARNING', message: 'webhook signature rejected', status: 401, [TRACE_LOG_FIELDS.spanId]: '000000000000004a', [TRACE_LOG_FIELDS.sampled]: false }),
    ]);
  });
});
