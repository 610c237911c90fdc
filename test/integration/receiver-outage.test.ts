/**
 * The receiver with its own Pub/Sub emulator, stopped and restarted under it: while Pub/Sub is
 * down the answer is 503 (Customer.io retries) and arrives before Customer.io's 4 s timeout; once it
 * is back the same receiver process publishes again.
 */
import { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadReceiverConfig } from '../../shared/config.js';
import { createMemoryLogger } from '../../shared/log.js';
import { createTopicPublisher } from '../../functions/pubsub-publisher.js';
import { createReceiver } from '../../functions/receiver.js';
import { startPubSubEmulator, type Emulator } from '../../scripts/local/emulators.js';
import { samplePayload } from '../../scripts/local/samples.js';
import { serveFunction, type FunctionServer } from '../support/function-server.js';
import { signedHeaders } from '../support/signing.js';

const KEY = 'outage-key';
const PUBLISH_TIMEOUT_MS = 1000;
const project = process.env.GOOGLE_CLOUD_PROJECT!;
let emulator: Emulator;
let pubsub: PubSub;
let server: FunctionServer;

beforeAll(async () => {
  emulator = await startPubSubEmulator({ project });
  pubsub = new PubSub({ projectId: project, apiEndpoint: emulator.host });
  await pubsub.createTopic('cio-events');
  const config = loadReceiverConfig({
    GOOGLE_CLOUD_PROJECT: project,
    CIO_WEBHOOK_SIGNING_KEYS: KEY,
    RECEIVER_PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
  });
  const publisher = createTopicPublisher({ pubsub, topic: 'cio-events', timeoutMs: PUBLISH_TIMEOUT_MS });
  server = await serveFunction(createReceiver({ config, publisher, logger: createMemoryLogger() }));
});

afterAll(async () => {
  await server?.close();
  await pubsub?.close();
  await emulator?.stop();
});

async function send() {
  const body = JSON.stringify(samplePayload('email', 'delivered'));
  const started = performance.now();
  const response = await fetch(server.url, { method: 'POST', headers: signedHeaders(KEY, body), body });
  return { status: response.status, text: await response.text(), ms: performance.now() - started, body };
}

it('answers 503 while Pub/Sub is down, within its timeout, and recovers when it is back', async () => {
  expect((await send()).status).toBe(204);

  await emulator.stop();
  const down = await Promise.all([send(), send(), send()]);
  for (const answer of down) {
    expect(answer.status).toBe(503);
    expect(answer.text).toBe('{"error":"event queue unavailable; retry later"}');
    // The contract bound (Customer.io gives up at 4 s), not a performance figure.
    expect(answer.ms).toBeLessThan(3500);
  }

  // Same port, fresh emulator: the long-lived client reconnects on its own.
  emulator = await startPubSubEmulator({ project, port: emulator.port });
  const topic = pubsub.topic('cio-events');
  await topic.create();
  const [subscription] = await topic.createSubscription('after-outage');
  const received: string[] = [];
  subscription.on('message', (m) => {
    received.push(JSON.parse(m.data.toString()).payload);
    m.ack();
  });

  let recovered: Awaited<ReturnType<typeof send>> | undefined;
  for (let i = 0; i < 20 && recovered?.status !== 204; i++) {
    recovered = await send();
    if (recovered.status !== 204) await new Promise((r) => setTimeout(r, 250));
  }
  expect(recovered?.status).toBe(204);
  for (let i = 0; i < 60 && !received.includes(recovered!.body); i++) await new Promise((r) => setTimeout(r, 100));
  expect(received).toContain(recovered!.body);
  await subscription.close();
});
