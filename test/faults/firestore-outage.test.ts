/**
 * The Firestore emulator down under the handler: it nacks (Pub/Sub redelivers) instead of acting
 * without a dedupe record, and after recovery every action happens exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFirestoreEmulator, type Emulator } from '../../scripts/local/emulators.js';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { samplePayload } from '../../scripts/local/samples.js';
import { sendBodies } from '../../scripts/local/sender.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { logEntries, sleep, waitFor } from '../support/waiting.js';

let emulator: Emulator;
let stack: TestStack;
let fake: FakeTrackApi;

beforeAll(async () => {
  emulator = await startFirestoreEmulator();
  fake = await startFakeTrackApi();
  stack = await startTestStack('firestore-outage', {
    firestoreHost: emulator.host,
    // A claim that timed out during the outage can still land when Firestore returns; its lease then
    // holds the event back until it expires. A short lease keeps that wait short here, and since the
    // emulator retries a nack about every second (production backs off 10 s → 600 s), more delivery
    // attempts keep the held-back events from being dead-lettered meanwhile.
    handlerEnv: {
      CIO_SITE_ID: 's', CIO_TRACK_API_KEY: 'k', CIO_TRACK_URL: fake.url,
      DEDUPE_DEADLINE_SECONDS: '1', CIO_DEADLINE_SECONDS: '4', DEDUPE_LEASE_SECONDS: '10',
    },
    maxDeliveryAttempts: 60,
  });
});

afterAll(async () => {
  await stack?.stop();
  await fake?.close();
  await emulator?.stop();
});

const bounces = (from: number, count: number) => Array.from({ length: count }, (_, i) => JSON.stringify(samplePayload('email', 'bounced', { seq: from + i })));
const pathOf = (body: string) => `/customers/cio_${JSON.parse(body).data.identifiers.cio_id}`;
const succeeded = () => fake.requests.filter((r) => r.answered === 200);
const recordedDone = (bodies: string[]) => {
  const done = new Set(logEntries(stack.handler.lines, 'event handled').filter((e) => e.outcome === 'done').map((e) => e.event_id));
  return bodies.every((body) => done.has(JSON.parse(body).event_id));
};

it('nacks while Firestore is down and performs every action exactly once after it recovers', async () => {
  const first = bounces(1, 10);
  await sendBodies({ url: stack.receiverUrl, key: stack.signingKey, bodies: first });
  // Done means recorded, not only called: stopping Firestore between a call and its done-write would
  // open the documented window (docs/reliability.md) (and the restarted emulator keeps no records), so the
  // redelivery would call again — a double this test is not about.
  await waitFor(() => recordedDone(first), { what: 'the first actions, recorded' });

  await emulator.stop();
  const during = bounces(100, 10);
  const sent = await sendBodies({ url: stack.receiverUrl, key: stack.signingKey, bodies: during });
  expect(sent.statuses).toEqual({ 204: during.length }); // the receiver does not need Firestore
  await waitFor(() => logEntries(stack.handler.lines, 'event handled').some((e) => e.reason === 'dedupe store unavailable'), { what: 'a nack' });
  expect(succeeded()).toHaveLength(first.length); // no action without a dedupe record

  emulator = await startFirestoreEmulator({ port: emulator.port });
  await waitFor(() => succeeded().length >= first.length + during.length, { timeoutMs: 45_000, what: 'the held-back actions' });
  await sleep(2000); // room for a wrong second call

  const calls = succeeded().map((r) => r.path).sort();
  expect(calls).toEqual([...first, ...during].map(pathOf).sort());
  const nacks = logEntries(stack.handler.lines, 'event handled').filter((e) => e.outcome === 'retry');
  // Busy nacks come from claims that timed out but landed once Firestore was back (their lease expires).
  for (const e of nacks) expect(['dedupe store unavailable', 'another attempt holds the lease']).toContain(e.reason);
  expect(nacks.some((e) => e.reason === 'dedupe store unavailable')).toBe(true);
});
