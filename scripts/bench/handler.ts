/**
 * `npm run bench:handler` — push-shaped requests into the handler backed by the Firestore emulator
 * and a local fake Track API (customerio-node pointed at it). Prints events/s, p50/p99 and Firestore
 * round trips per event for distinct events, then for duplicates of them (which must not call
 * Customer.io). The handler runs in this process so its store's round trips can be counted; the load
 * comes from a separate process.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { createLogger } from '../../shared/log.js';
import { normalizeWebhook } from '../../shared/normalize.js';
import { DEFAULT_POLICY } from '../../shared/policy.js';
import { attributesOf } from '../../shared/row.js';
import { createTrackExecutor } from '../../functions/customerio.js';
import { createFirestoreDedupeStore } from '../../functions/dedupe-store.js';
import { createHandler } from '../../functions/handler.js';
import { startFirestoreEmulator } from '../local/emulators.js';
import { startFakeTrackApi } from '../local/fake-track-api.js';
import { ROOT } from '../local/function-process.js';
import { samplePayload } from '../local/samples.js';

process.env.METADATA_SERVER_DETECTION = 'none';
process.env.NODE_ENV = 'production';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 40);
const PROJECT = 'bench-project';

function envelopesFile(name: string, count: number, eventIds?: string[]): { file: string; eventIds: string[] } {
  const ids: string[] = [];
  const lines = Array.from({ length: count }, (_, i) => {
    // Actionable events only (each needs a claim, a call and a done-write): the worst case.
    const metric = ['bounced', 'spammed', 'opened', 'unsubscribed'][i % 4]!;
    const payload = samplePayload('email', metric, { seq: i + 1, eventId: eventIds?.[i] });
    payload.data.prefetched = false;
    const row = normalizeWebhook({ body: Buffer.from(JSON.stringify(payload)), receivedAt: new Date() });
    ids.push(row.event_id);
    return JSON.stringify({ message: { data: Buffer.from(JSON.stringify(row)).toString('base64'), attributes: attributesOf(row), messageId: randomUUID() }, subscription: 'bench' });
  });
  const file = join(tmpdir(), `bench-handler-${name}-${process.pid}.jsonl`);
  writeFileSync(file, lines.join('\n'));
  return { file, eventIds: ids };
}

interface LoadResult {
  count: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
}

async function load(url: string, file: string): Promise<LoadResult> {
  // Asynchronous on purpose: the handler under test shares this event loop.
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bench/push-load.ts'), url, file, String(CONCURRENCY)], { cwd: ROOT });
  return JSON.parse(stdout) as LoadResult;
}

async function main() {
  const emulator = await startFirestoreEmulator();
  process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
  const fake = await startFakeTrackApi();
  const firestore = new Firestore({ projectId: PROJECT });
  const store = createFirestoreDedupeStore({ firestore, collection: 'cio_webhook_events', leaseSeconds: 120, ttlDays: 30, deadlineMs: 5000 });
  const cio = createTrackExecutor({ credentials: { siteId: 's', trackApiKey: 'k' }, region: 'us', trackUrl: fake.url, deadlineMs: 30_000 });
  functions.http('bench_handler', createHandler({ policy: DEFAULT_POLICY, dedupe: store, cio, logger: createLogger({ level: 'warning' }), pseudonymKey: randomBytes(32) }));
  const server = getTestServer('bench_handler');
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  try {
    // Warm-up on separate events (JIT, gRPC channel, emulator).
    await load(url, envelopesFile('warmup', 200).file);
    fake.reset();

    const distinct = envelopesFile('distinct', EVENTS);
    const tripsBefore = store.roundTrips;
    const a = await load(url, distinct.file);
    const distinctTrips = (store.roundTrips - tripsBefore) / EVENTS;
    const calls = fake.requests.length;

    const duplicates = envelopesFile('duplicates', EVENTS, distinct.eventIds);
    const tripsBefore2 = store.roundTrips;
    const b = await load(url, duplicates.file);
    const duplicateTrips = (store.roundTrips - tripsBefore2) / EVENTS;
    const duplicateCalls = fake.requests.length - calls;

    const fmt = (r: LoadResult) => `${String(Math.round(r.perSecond)).padStart(7)}${r.p50.toFixed(1).padStart(9)}${r.p99.toFixed(1).padStart(9)}`;
    process.stdout.write(`${EVENTS} events per run, ${CONCURRENCY} concurrent pushes, node ${process.version}\n\n`);
    process.stdout.write(`${'run'.padEnd(22)}${'ev/s'.padStart(7)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}  Firestore trips/event  Customer.io calls  statuses\n`);
    process.stdout.write(`${'distinct events'.padEnd(22)}${fmt(a)}  ${distinctTrips.toFixed(2).padStart(21)}  ${String(calls).padStart(17)}  ${JSON.stringify(a.statuses)}\n`);
    process.stdout.write(`${'duplicates of them'.padEnd(22)}${fmt(b)}  ${duplicateTrips.toFixed(2).padStart(21)}  ${String(duplicateCalls).padStart(17)}  ${JSON.stringify(b.statuses)}\n`);
    process.stdout.write(`\ntarget: ≥ 200 distinct events/s; duplicates make 0 Customer.io calls (made ${duplicateCalls})\n`);
    if (calls !== EVENTS || duplicateCalls !== 0) process.exitCode = 1;
  } finally {
    server.closeAllConnections();
    server.close();
    await firestore.terminate();
    await fake.close();
    await emulator.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`bench:handler failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
