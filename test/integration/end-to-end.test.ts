/**
 * Signed webhook → receiver → Pub/Sub emulator topic → push subscription → handler → fake
 * Customer.io. The emulator stores the subscription filter but ignores it, so metrics without
 * actions reach the handler too, which must ack them.
 */
import { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadReceiverConfig } from '../../shared/config.js';
import { createMemoryLogger } from '../../shared/log.js';
import { normalizeWebhook } from '../../shared/normalize.js';
import { DEFAULT_POLICY, decideActions, renderPushFilter } from '../../shared/policy.js';
import { createTopicPublisher } from '../../functions/pubsub-publisher.js';
import { createReceiver } from '../../functions/receiver.js';
import { allSamples } from '../../scripts/local/samples.js';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { serveFunction, type FunctionServer } from '../support/function-server.js';
import { startHandlerHarness } from '../support/handler-harness.js';
import { uniqueName } from '../support/pubsub.js';
import { signedHeaders } from '../support/signing.js';

const KEY = 'e2e-key';
let pubsub: PubSub;
let fake: FakeTrackApi;
let receiver: FunctionServer;
let handler: Awaited<ReturnType<typeof startHandlerHarness>>;
let topicName: string;

beforeAll(async () => {
  pubsub = new PubSub({ projectId: process.env.GOOGLE_CLOUD_PROJECT });
  fake = await startFakeTrackApi();
  handler = await startHandlerHarness({ fake });
  topicName = uniqueName('cio-events');
  const [topic] = await pubsub.createTopic(topicName);
  await topic.createSubscription(`${topicName}-handler`, {
    pushConfig: { pushEndpoint: handler.url },
    filter: renderPushFilter(DEFAULT_POLICY),
    ackDeadlineSeconds: 60,
  });
  const config = loadReceiverConfig({ GOOGLE_CLOUD_PROJECT: process.env.GOOGLE_CLOUD_PROJECT, CIO_WEBHOOK_SIGNING_KEYS: KEY, PUBSUB_TOPIC: topicName });
  const publisher = createTopicPublisher({ pubsub, topic: topicName, timeoutMs: config.publishTimeoutMs });
  receiver = await serveFunction(createReceiver({ config, publisher, logger: createMemoryLogger() }));
});

afterAll(async () => {
  await receiver?.close();
  await pubsub.subscription(`${topicName}-handler`).delete().catch(() => undefined);
  await pubsub.topic(topicName).delete().catch(() => undefined);
  await pubsub?.close();
  await handler?.close();
  await fake?.close();
});

it('every sample event flows from the receiver to the handler; actionable ones reach Customer.io once', async () => {
  const samples = allSamples({ seq: 20, timestamp: 1_700_000_000 });
  for (const sample of samples) {
    const body = JSON.stringify(sample);
    const response = await fetch(receiver.url, { method: 'POST', headers: signedHeaders(KEY, body), body });
    expect(response.status).toBe(204);
  }

  const handled = () => new Set(handler.logger.entries.filter((e) => e.message === 'event handled').map((e) => e.event_id));
  for (let i = 0; i < 200 && handled().size < samples.length; i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500)); // room for any (wrong) redelivery to show up

  const entries = handler.logger.entries.filter((e) => e.message === 'event handled');
  expect(handled().size).toBe(samples.length);
  // One answer per event, every one an ack: nothing left unacked to be redelivered.
  expect(entries).toHaveLength(samples.length);
  expect(new Set(entries.map((e) => e.outcome))).toEqual(new Set(['done', 'no-action']));

  const expected = samples
    .map((s) => normalizeWebhook({ body: Buffer.from(JSON.stringify(s)), receivedAt: new Date() }))
    .map((row) => decideActions(row, DEFAULT_POLICY))
    .flatMap((d) => (d.kind === 'act' ? d.actions : []));
  // bounced, spammed, customer + email unsubscribed, and the human opens/clicks of this sample set.
  expect(expected.length).toBeGreaterThanOrEqual(5);
  expect(fake.requests.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.body)}`).sort()).toEqual(
    expected.map((a) => `PUT /customers/${encodeURIComponent(a.identifier)} ${JSON.stringify(a.kind === 'identify' ? a.attributes : null)}`).sort(),
  );
});
