/**
 * `npm run bench:handler` — push-shaped requests into the handler backed by the Firestore emulator
 * and a local fake Track API (customerio-node pointed at it). Prints events/s, p50/p99 and Firestore
 * round trips per event for distinct events, then for duplicates of them (which must not call
 * Customer.io). The handler runs in this process so its store's round trips can be counted; the load
 * comes from a separate process. Then the rate-limit run: the same handler against a Track API that
 * enforces BENCH_RATE with 429s, once with its limiter at that rate and once with it out of the way.
 */
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
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
import { encodePushEnvelope } from '../../shared/push-envelope.js';
import { createTrackExecutor, createTrackLimiter } from '../../functions/customerio.js';
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
/** The rate-limit run: a Track API that answers 429 past this many requests a second, and a handler held to the same. */
const RATE = Number(process.env.BENCH_RATE ?? 50);
/** What the fake Track API lets through at once: a tenth of a second's worth. */
const RATE_BURST = Math.max(1, Math.ceil(RATE / 10));
const RATE_EVENTS = Number(process.env.BENCH_RATE_EVENTS ?? 1500);
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
    return JSON.stringify(encodePushEnvelope(row, { messageId: randomUUID(), subscription: 'bench' }));
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
  redelivered: number;
}

async function load(url: string, file: string, redeliver = false): Promise<LoadResult> {
  // Asynchronous on purpose: the handler under test shares this event loop.
  const args = [join(ROOT, 'scripts/bench/push-load.ts'), url, file, String(CONCURRENCY), ...(redeliver ? ['redeliver', '1000'] : [])];
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as LoadResult;
}

/**
 * A handler held to `handlerRate` against a fake Track API that enforces RATE with 429s (in its own
 * process, so its clock sees requests when they arrive), fed more than it may send: what it achieves,
 * how often Customer.io would have throttled it, and how many events had to come back later (nacked,
 * then redelivered the way Pub/Sub does).
 */
async function rateLimitRun(store: ReturnType<typeof createFirestoreDedupeStore>, handlerRate: number) {
  const trackApi = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bench/track-api-process.ts'), String(RATE), String(RATE_BURST)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const { url: trackUrl, stats } = await new Promise<{ url: string; stats: string }>((resolve) => createInterface({ input: trackApi.stdout! }).once('line', (line) => resolve(JSON.parse(line))));
  const cio = createTrackExecutor({ credentials: { siteId: 's', trackApiKey: 'k' }, region: 'us', trackUrl, deadlineMs: 30_000, limiter: createTrackLimiter(handlerRate) });
  const name = `bench_rate_${handlerRate}`;
  functions.http(name, createHandler({ policy: DEFAULT_POLICY, dedupe: store, cio, logger: createLogger({ level: 'error' }), project: PROJECT, pseudonymKey: randomBytes(32) }));
  const server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const result = await load(`http://127.0.0.1:${(server.address() as { port: number }).port}/`, envelopesFile(name, RATE_EVENTS).file, true);
    const requests = (await (await fetch(stats)).json()) as Array<{ answered: number | null; at: number }>;
    const done = requests.filter((r) => r.answered === 200);
    const span = (Math.max(...done.map((r) => r.at)) - Math.min(...done.map((r) => r.at))) / 1000;
    return { result, calls: done.length, perSecond: (done.length - 1) / span, throttled: requests.filter((r) => r.answered === 429).length, requests: requests.length };
  } finally {
    server.closeAllConnections();
    server.close();
    trackApi.kill('SIGTERM');
  }
}

async function main() {
  const emulator = await startFirestoreEmulator();
  process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
  const fake = await startFakeTrackApi();
  const firestore = new Firestore({ projectId: PROJECT });
  const store = createFirestoreDedupeStore({ firestore, collection: 'cio_webhook_events', leaseSeconds: 120, ttlDays: 30, deadlineMs: 5000 });
  const cio = createTrackExecutor({ credentials: { siteId: 's', trackApiKey: 'k' }, region: 'us', trackUrl: fake.url, deadlineMs: 30_000, limiter: createTrackLimiter(1000) });
  functions.http('bench_handler', createHandler({ policy: DEFAULT_POLICY, dedupe: store, cio, logger: createLogger({ level: 'warning' }), project: PROJECT, pseudonymKey: randomBytes(32) }));
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

    process.stdout.write(
      `\nrate-limit run: ${RATE_EVENTS} actionable events, ${CONCURRENCY} concurrent pushes, nacked ones pushed again after 1 s; a Track API in its own process enforcing ${RATE} requests/s (burst ${RATE_BURST}) with 429 + Retry-After 1\n\n`,
    );
    process.stdout.write(`${'handler'.padEnd(36)}${'calls/s'.padStart(8)}  ${'of limit'.padStart(8)}  ${'requests answered 429'.padStart(22)}  ${'events redelivered'.padStart(18)}  handler answers\n`);
    const rows: Array<[string, number]> = [
      [`limiter at ${RATE}/s (this project)`, RATE],
      [`limiter at ${RATE * 20}/s (no real bound)`, RATE * 20],
    ];
    const limited = [];
    for (const [label, handlerRate] of rows) {
      const run = await rateLimitRun(store, handlerRate);
      limited.push(run);
      const share = `${run.throttled} of ${run.requests} = ${((run.throttled / run.requests) * 100).toFixed(2)}%`;
      process.stdout.write(
        `${label.padEnd(36)}${run.perSecond.toFixed(1).padStart(8)}  ${`${((run.perSecond / RATE) * 100).toFixed(1)}%`.padStart(8)}  ${share.padStart(22)}  ${String(run.result.redelivered).padStart(18)}  ${JSON.stringify(run.result.statuses)}\n`,
      );
    }
    process.stdout.write(`\ntarget (the limited handler): ≥ 90% of the limit with < 1% of requests answered 429; every event acted on once\n`);
    if (calls !== EVENTS || duplicateCalls !== 0 || limited.some((run) => run.calls !== RATE_EVENTS)) process.exitCode = 1;
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
