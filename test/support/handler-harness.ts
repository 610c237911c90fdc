/**
 * A handler wired to the real Firestore emulator and the fake Track API through customerio-node,
 * served by the Functions Framework on loopback, plus helpers to push envelopes at it.
 */
import { randomUUID } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { loadHandlerConfig } from '../../shared/config.js';
import { dedupeDocumentId } from '../../shared/dedupe.js';
import { createMemoryLogger } from '../../shared/log.js';
import { normalizeWebhook } from '../../shared/normalize.js';
import type { EventRow } from '../../shared/row.js';
import type { TraceContext } from '../../shared/trace-context.js';
import { encodePushEnvelope } from '../../shared/push-envelope.js';
import { createFirestoreDedupeStore } from '../../functions/dedupe-store.js';
import { createHandler } from '../../functions/handler.js';
import { selectExecutor } from '../../functions/handler-wiring.js';
import { samplePayload } from '../../scripts/local/samples.js';
import type { FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { serveFunction } from './function-server.js';

/** The pseudonym key the harness's handler hashes email addresses with. */
export const TEST_PSEUDONYM_KEY = '7365637265742d6b65792d666f722d746865207465737473';

/**
 * The environment of a real handler process on the test run's Firestore emulator: the project, the
 * test key, a dedupe collection of its own and a 5 s Customer.io budget; `env` adds the rest (its
 * credentials or secrets, its Track API).
 */
export function handlerProcessEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return {
    GOOGLE_CLOUD_PROJECT: process.env.GOOGLE_CLOUD_PROJECT,
    FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST,
    PSEUDONYM_KEY: TEST_PSEUDONYM_KEY,
    DEDUPE_COLLECTION: `dedupe_${randomUUID().slice(0, 8)}`,
    CIO_DEADLINE_SECONDS: '5',
    ...env,
  };
}

export interface HarnessOptions {
  fake: FakeTrackApi;
  /** Added to the harness's own settings; undefined removes one (e.g. the unsuffixed credentials with CIO_WORKSPACES). */
  env?: Record<string, string | undefined>;
  nowMs?: () => number;
}

export async function startHandlerHarness({ fake, env = {}, nowMs }: HarnessOptions) {
  const collection = `dedupe_${randomUUID().slice(0, 8)}`;
  const config = loadHandlerConfig({
    GOOGLE_CLOUD_PROJECT: process.env.GOOGLE_CLOUD_PROJECT,
    CIO_SITE_ID: 'site-1',
    CIO_TRACK_API_KEY: 'track-key-1',
    CIO_TRACK_URL: fake.url,
    CIO_DEADLINE_SECONDS: '5',
    DEDUPE_COLLECTION: collection,
    PSEUDONYM_KEY: TEST_PSEUDONYM_KEY,
    // Far above what these tests send, so the rate limiter stays out of their way unless a test sets it.
    CIO_REQUESTS_PER_SECOND: '1000',
    ...env,
  });
  const firestore = new Firestore({ projectId: config.project });
  const logger = createMemoryLogger();
  const dedupe = createFirestoreDedupeStore({ firestore, collection, leaseSeconds: config.leaseSeconds, ttlDays: config.ttlDays, deadlineMs: config.dedupeDeadlineSeconds * 1000 });
  const cio = selectExecutor(config, logger);
  const server = await serveFunction(createHandler({ policy: config, dedupe, cio, logger, project: config.project, pseudonymKey: config.pseudonymKey, ...(nowMs ? { nowMs } : {}) }));

  return {
    config,
    logger,
    dedupe,
    firestore,
    url: server.url,
    /** The dedupe record of the event (of the event in `workspace`, with several). */
    async record(eventId: string, workspace: string | null = null) {
      const snapshot = await firestore.collection(collection).doc(dedupeDocumentId(eventId, workspace)).get();
      return snapshot.data();
    },
    /** With `trace`, the message carries it as the receiver's would. */
    async push(row: EventRow, messageId: string = randomUUID(), trace?: TraceContext) {
      const envelope = pushEnvelope(row, messageId, trace);
      const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) });
      return response.status;
    },
    /** The final line of each time the handler saw the event. */
    handled(eventId: string) {
      return logger.entries.filter((e) => e.message === 'event handled' && e.event_id === eventId);
    },
    outcomes(eventId: string) {
      return this.handled(eventId).map((e) => e.outcome);
    },
    async close() {
      await server.close();
      await firestore.terminate();
    },
  };
}

export function pushEnvelope(row: EventRow, messageId: string = randomUUID(), trace?: TraceContext) {
  return encodePushEnvelope(row, { messageId, subscription: 'projects/test/subscriptions/cio-events-handler', publishTime: new Date().toISOString(), deliveryAttempt: 1, ...(trace ? { trace } : {}) });
}

/** An event row as the receiver would publish it. */
export function eventRow(objectType: Parameters<typeof samplePayload>[0], metric: string, overrides: { seq?: number; data?: Record<string, unknown>; timestamp?: number } = {}): EventRow {
  const payload = samplePayload(objectType, metric, { seq: overrides.seq ?? 1, timestamp: overrides.timestamp ?? 1_700_000_000 });
  Object.assign(payload.data, overrides.data ?? {});
  return normalizeWebhook({ body: Buffer.from(JSON.stringify(payload)), receivedAt: new Date() });
}
