/**
 * Customer.io misbehaving, through the whole local pipeline (Pub/Sub push with its retries and
 * dead-lettering): each fault ends in its documented state.
 *   429 bursts with Retry-After, 401s, hangs past the deadline → retried until done, once
 *   500 forever                                              → dead-lettered, record failed
 *   400                                                      → recorded rejected, acked, one request
 */
import { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dedupeDocumentId } from '../../shared/dedupe.js';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { LOCAL_MAX_DELIVERY_ATTEMPTS } from '../../scripts/local/local-stack.js';
import { samplePayload } from '../../scripts/local/samples.js';
import { sendBodies } from '../../scripts/local/sender.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { uniqueName } from '../support/pubsub.js';
import { runScript } from '../support/run-script.js';
import { sleep, waitFor } from '../support/waiting.js';

const collection = uniqueName('dedupe');
let stack: TestStack;
let fake: FakeTrackApi;
let firestore: Firestore;

beforeAll(async () => {
  fake = await startFakeTrackApi();
  stack = await startTestStack('cio-faults', { handlerEnv: { CIO_SITE_ID: 's', CIO_TRACK_API_KEY: 'k', CIO_TRACK_URL: fake.url, CIO_DEADLINE_SECONDS: '2', DEDUPE_COLLECTION: collection } });
  // The local stack keeps dedupe records in its named database, as deployed.
  firestore = new Firestore({ projectId: process.env.GOOGLE_CLOUD_PROJECT, databaseId: stack.dedupeDatabase });
});

afterAll(async () => {
  await stack?.stop();
  await firestore?.terminate();
  await fake?.close();
});

it('each Customer.io fault ends in its documented state', async () => {
  const event = (seq: number) => samplePayload('email', 'bounced', { seq });
  const cases = {
    throttled: event(1),
    unauthorized: event(2),
    hanging: event(3),
    broken: event(4),
    invalid: event(5),
  };
  const path = (e: ReturnType<typeof event>) => `/customers/cio_${(e.data.identifiers as { cio_id: string }).cio_id}`;
  // Per attempt customerio-node tries 3 times within the deadline; these outlast one delivery.
  fake.scriptPath(path(cases.throttled), ...Array.from({ length: 4 }, () => ({ status: 429 as const, retryAfterSeconds: 1 })));
  fake.scriptPath(path(cases.unauthorized), { status: 401 });
  fake.scriptPath(path(cases.hanging), { hang: true }, { hang: true }, { hang: true });
  fake.scriptPath(path(cases.broken), ...Array.from({ length: 100 }, () => ({ status: 500 as const })));
  fake.scriptPath(path(cases.invalid), { status: 400 });

  const sent = await sendBodies({ url: stack.receiverUrl, key: stack.signingKey, bodies: Object.values(cases).map((e) => JSON.stringify(e)) });
  expect(sent.statuses).toEqual({ 204: 5 });

  const record = async (e: ReturnType<typeof event>) => (await firestore.collection(collection).doc(dedupeDocumentId(e.event_id)).get()).data();
  const requestsTo = (e: ReturnType<typeof event>) => fake.requests.filter((r) => r.path === path(e));

  await waitFor(async () => {
    const shown = await runScript('ops', ['dlq', 'show', '--local'], stack.cliEnv);
    return shown.stdout.includes('1 dead-lettered message(s)');
  }, { timeoutMs: 60_000, what: 'the broken event to be dead-lettered' });
  await waitFor(async () => (await Promise.all([cases.throttled, cases.unauthorized, cases.hanging].map(record))).every((r) => r?.status === 'done'), { timeoutMs: 30_000, what: 'the retried events' });
  await sleep(1500);

  for (const retried of [cases.throttled, cases.unauthorized, cases.hanging]) {
    expect(requestsTo(retried).filter((r) => r.answered === 200)).toHaveLength(1);
    expect((await record(retried))?.attempts).toBeGreaterThanOrEqual(2);
  }
  expect(requestsTo(cases.broken).every((r) => r.answered === 500)).toBe(true);
  expect(requestsTo(cases.broken).length).toBeGreaterThanOrEqual(LOCAL_MAX_DELIVERY_ATTEMPTS);
  expect(await record(cases.broken)).toMatchObject({ status: 'failed', error: expect.stringContaining('500') });
  expect(requestsTo(cases.invalid)).toHaveLength(1);
  expect(await record(cases.invalid)).toMatchObject({ status: 'rejected', error: 'Customer.io answered 400: fake answered 400' });
});
