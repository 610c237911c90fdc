/**
 * The handler process killed in the middle of an event, and redelivery storms.
 */
import { PubSub } from '@google-cloud/pubsub';
import { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dedupeDocumentId } from '../../shared/dedupe.js';
import { freePort } from '../../scripts/local/emulators.js';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { startFunction, type FunctionProcess } from '../../scripts/local/function-process.js';
import { TEST_PSEUDONYM_KEY, eventRow, pushEnvelope } from '../support/handler-harness.js';
import { uniqueName } from '../support/pubsub.js';
import { sleep, waitFor } from '../support/waiting.js';
import { attributesOf } from '../../shared/row.js';

const project = process.env.GOOGLE_CLOUD_PROJECT!;
const collection = uniqueName('dedupe');
let fake: FakeTrackApi;
let firestore: Firestore;
let port: number;
let handler: FunctionProcess;

const handlerEnv = () => ({
  GOOGLE_CLOUD_PROJECT: project,
  FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST,
  CIO_SITE_ID: 's',
  CIO_TRACK_API_KEY: 'k',
  CIO_TRACK_URL: fake.url,
  CIO_DEADLINE_SECONDS: '4',
  DEDUPE_DEADLINE_SECONDS: '2',
  DEDUPE_LEASE_SECONDS: '10',
  DEDUPE_COLLECTION: collection,
  PSEUDONYM_KEY: TEST_PSEUDONYM_KEY,
});

beforeAll(async () => {
  fake = await startFakeTrackApi();
  firestore = new Firestore({ projectId: project });
  port = await freePort();
  handler = await startFunction({ target: 'handler', port, env: handlerEnv() });
});

afterAll(async () => {
  await handler?.stop();
  await firestore?.terminate();
  await fake?.close();
});

const record = async (eventId: string) => (await firestore.collection(collection).doc(dedupeDocumentId(eventId)).get()).data();

describe('handler killed mid-event', () => {
  it('killed after the claim, while the Customer.io call is in flight: the action still happens once the lease expires', async () => {
    const pubsub = new PubSub({ projectId: project });
    const topicName = uniqueName('crash');
    const [topic] = await pubsub.createTopic(topicName);
    await topic.createSubscription(`${topicName}-push`, { pushConfig: { pushEndpoint: handler.url }, ackDeadlineSeconds: 10 });
    try {
      const row = eventRow('email', 'bounced', { seq: 77 });
      const path = `/customers/cio_${row.cio_id}`;
      fake.scriptPath(path, { hang: true });
      await topic.publishMessage({ data: Buffer.from(JSON.stringify(row)), attributes: attributesOf(row) });

      await waitFor(() => fake.requests.some((r) => r.path === path), { what: 'the call to start' });
      // Usually the first attempt; on a loaded machine a claim that outlived its deadline may have
      // been answered 503 and taken again once its lease ran out.
      const inFlight = await record(row.event_id);
      expect(inFlight).toMatchObject({ status: 'processing' });
      await handler.stop('SIGKILL');
      handler = await startFunction({ target: 'handler', port, env: handlerEnv() });

      // Redeliveries find the dead attempt's live lease (nack) until it expires, then reclaim.
      await waitFor(async () => (await record(row.event_id))?.status === 'done', { timeoutMs: 40_000, what: 'the event to be done' });
      await sleep(1500);
      expect(fake.requests.filter((r) => r.path === path).map((r) => r.answered)).toEqual([null, 200]);
      expect(await record(row.event_id)).toMatchObject({ status: 'done', attempts: inFlight!.attempts + 1 });
      // The documented window: had Customer.io applied the first (unanswered) call, this second one
      // repeats it with the same attributes and _timestamp, leaving the person in the same state.
      const [first, second] = fake.requests.filter((r) => r.path === path);
      expect(second!.body).toEqual(first!.body);
    } finally {
      await pubsub.subscription(`${topicName}-push`).delete().catch(() => undefined);
      await topic.delete().catch(() => undefined);
      await pubsub.close();
    }
  });
});

describe('redelivery storms', () => {
  beforeAll(async () => {
    // A hundred claims at once are slow on a loaded machine: give the store time, so what this
    // measures is the claim's exclusivity, not Firestore's latency (the lease still outlasts an attempt).
    await handler.stop();
    handler = await startFunction({ target: 'handler', port, env: { ...handlerEnv(), DEDUPE_DEADLINE_SECONDS: '10', DEDUPE_LEASE_SECONDS: '60' } });
  });

  it('the same message pushed 100 times at once, three times over → exactly one Customer.io call', async () => {
    const row = eventRow('email', 'spammed', { seq: 88 });
    const body = JSON.stringify(pushEnvelope(row, 'storm-message'));
    const statuses: number[] = [];
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => fetch(handler.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })));
      statuses.push(...answers.map((a) => a.status));
    }
    // 429: another copy holds the lease; 503: the store did not answer within DEDUPE_DEADLINE_SECONDS
    // (a hundred claims at once on a loaded machine). Both are nacks: Pub/Sub would deliver again.
    for (const status of statuses) expect([204, 429, 503]).toContain(status);
    // Once the winner has finished, no copy finds the event in flight any more: each is acked as a
    // duplicate (or, store too slow, nacked to be judged again) — and none makes a call.
    const last = statuses.slice(-100);
    expect(last).not.toContain(429);
    expect(last.filter((s) => s === 204).length).toBeGreaterThan(0);
    expect(fake.requests.filter((r) => r.path === `/customers/cio_${row.cio_id}`)).toHaveLength(1);
    expect(await record(row.event_id)).toMatchObject({ status: 'done', attempts: 1 });
  });
});
