/**
 * Pulling the dead-letter subscription until it is drained (ops/drain.ts), on the Pub/Sub emulator:
 * early empty answers do not end it, and held messages outlive the subscription's ack deadline
 * without coming back to another reader (which would redrive them twice).
 */
import { PubSub, v1 } from '@google-cloud/pubsub';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pullUntilDrained, type SubscriberApi } from '../../ops/drain.js';
import { uniqueName } from '../support/pubsub.js';
import { sleep } from '../support/waiting.js';

const ACK_DEADLINE_SECONDS = 10;
let pubsub: PubSub;
let subscriber: v1.SubscriberClient;
let topicName: string;
let subscriptionPath: string;

beforeAll(async () => {
  pubsub = new PubSub({ projectId: process.env.GOOGLE_CLOUD_PROJECT });
  subscriber = new v1.SubscriberClient({ ...pubsub.options });
  topicName = uniqueName('drain');
  const [topic] = await pubsub.createTopic(topicName);
  const [subscription] = await topic.createSubscription(`${topicName}-sub`, { ackDeadlineSeconds: ACK_DEADLINE_SECONDS });
  subscriptionPath = subscription.name;
  await Promise.all(Array.from({ length: 30 }, (_, i) => topic.publishMessage({ data: Buffer.from(`m${i}`), attributes: { event_id: `e${i}` } })));
});

afterAll(async () => {
  await pubsub.subscription(`${topicName}-sub`).delete().catch(() => undefined);
  await pubsub.topic(topicName).delete().catch(() => undefined);
  await subscriber.close();
  await pubsub.close();
});

it('drains past early empty answers, and holds what it pulled past the ack deadline without a redelivery', async () => {
  // Real Pub/Sub can answer a pull empty while messages remain: the first three pulls here do.
  let pulls = 0;
  const flaky: SubscriberApi = {
    pull: async (request, options) => (++pulls <= 3 ? [{ receivedMessages: [] }] : subscriber.pull(request, options)),
    modifyAckDeadline: (request) => subscriber.modifyAckDeadline(request),
    acknowledge: (request) => subscriber.acknowledge(request),
  };
  const held = await pullUntilDrained({ subscriber: flaky, subscription: subscriptionPath, limit: 1000, emptyPulls: 4, emptyWaitMs: 100, holdSeconds: ACK_DEADLINE_SECONDS });
  expect(pulls).toBeGreaterThan(3);
  expect(new Set(held.messages.map((m) => m.message?.attributes?.event_id)).size).toBe(30);

  // The command works longer than the subscription's ack deadline (a prompt, slow publishes).
  await sleep((ACK_DEADLINE_SECONDS + 4) * 1000);
  expect(held.extensions).toBeGreaterThan(1);
  // Another reader finds nothing: no pulled message expired and came back.
  const [other] = await subscriber.pull({ subscription: subscriptionPath, maxMessages: 100, returnImmediately: true });
  expect(other.receivedMessages ?? []).toEqual([]);

  await held.acknowledge(held.messages.slice(0, 20));
  await held.releaseAll();
  // What was not acknowledged is deliverable again at once; what was is gone.
  const again = await pullUntilDrained({ subscriber, subscription: subscriptionPath, limit: 1000, emptyPulls: 3, emptyWaitMs: 200 });
  expect(again.messages.map((m) => m.message?.attributes?.event_id).sort()).toEqual(held.messages.slice(20).map((m) => m.message?.attributes?.event_id).sort());
  await again.acknowledge(again.messages);
  await again.releaseAll();
}, 60_000);
