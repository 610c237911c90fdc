/**
 * The operators' commands on the local stack (the real functions, the emulators, the DuckDB
 * warehouse, Customer.io faked): trace a done action, a duplicate and a dead-lettered event; replay
 * history from the warehouse so the handler acts on an old event once and the warehouse gains no row;
 * show dead letters by source and error; erase a person.
 */
import { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dedupeDocumentId } from '../../shared/dedupe.js';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { queryWarehouse } from '../../scripts/local/local-warehouse.js';
import { samplePayload } from '../../scripts/local/samples.js';
import { sendBodies } from '../../scripts/local/sender.js';
import type { Trace, TraceByRequest } from '../../ops/commands/trace.js';
import { TRACE_ATTRIBUTE } from '../../shared/trace-context.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { startMetadataStandIn, type MetadataStandIn } from '../support/metadata-stand-in.js';
import { runScript } from '../support/run-script.js';
import { signedHeaders } from '../support/signing.js';
import { logEntries, sleep, waitFor } from '../support/waiting.js';

const DAY = 86_400;
const now = Math.floor(Date.now() / 1000);
/** Events from 40 days ago: beyond any topic retention, only the warehouse still has them. */
const old = (seq: number) => samplePayload('email', 'bounced', { seq, timestamp: now - 40 * DAY });
const done = old(1);
const twice = old(2);
const forgotten = old(3);
const failing = samplePayload('email', 'spammed', { seq: 4 });
const pathOf = (e: ReturnType<typeof old>) => `/customers/cio_${(e.data.identifiers as { cio_id: string }).cio_id}`;

let stack: TestStack;
let fake: FakeTrackApi;
let firestore: Firestore;

const ops = (...args: string[]) => runScript('ops', [...args, '--local'], stack.cliEnv);
const traceOf = async (eventId: string): Promise<Trace> => {
  const result = await ops('trace', eventId, '--since', '45d', '--json');
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as Trace;
};
const rowCount = async () => Number((await queryWarehouse(stack.warehousePath, 'SELECT COUNT(*) AS n FROM events'))[0]!.n);
const handled = () => logEntries(stack.handler.lines, 'event handled');

beforeAll(async () => {
  fake = await startFakeTrackApi();
  fake.scriptPath(pathOf(failing), ...Array.from({ length: 200 }, () => ({ status: 500 as const })));
  stack = await startTestStack('ops-local', { handlerEnv: { CIO_SITE_ID: 's', CIO_TRACK_API_KEY: 'k', CIO_TRACK_URL: fake.url, CIO_DEADLINE_SECONDS: '2' } });
  firestore = new Firestore({ projectId: stack.project, databaseId: stack.dedupeDatabase });
  const bodies = [done, twice, twice, forgotten, failing].map((e) => JSON.stringify(e));
  expect((await sendBodies({ url: stack.receiverUrl, key: stack.signingKey, bodies, concurrency: 1 })).statuses).toEqual({ 204: 5 });
  await waitFor(async () => (await rowCount()) === 5, { what: 'five warehouse rows' });
  await waitFor(() => fake.requests.filter((r) => r.answered === 200).length === 3, { timeoutMs: 90_000, what: 'three actions' });
  await waitFor(async () => (await runScript('ops', ['dlq', 'show', '--local'], stack.cliEnv)).stdout.includes('1 dead-lettered message(s)'), { timeoutMs: 60_000, what: 'the failing event in the dead letters' });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  await firestore?.terminate();
  await fake?.close();
});

describe('ops trace', () => {
  it('follows a done action: one row, the record done, the handler\'s line', async () => {
    const t = await traceOf(done.event_id);
    expect(t.warehouse).toMatchObject({ rows: 1, subscriptions: [stack.warehouseSubscription], row: { object_type: 'email', metric: 'bounced', cio_id: (done.data.identifiers as { cio_id: string }).cio_id } });
    expect(t.dedupe).toMatchObject({ status: 'done', attempts: 1, error: null });
    expect(t.dedupe?.expire_at).toBeTruthy();
    expect(t.dead_letters).toEqual([]);
    expect(t.logs.map((l) => [l.component, l.message, l.fields.outcome])).toEqual([['handler', 'event handled', 'done']]);
    // The trace of the request that brought it, from its message; the handler's entry carries it too.
    expect(t.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(t.logs[0]!.fields['logging.googleapis.com/trace']).toBe(`projects/${stack.project}/traces/${t.trace_id}`);
    expect(t.logs_url).toBeNull();
    expect((await ops('trace', done.event_id, '--since', '45d')).stdout).toContain(`\ntrace ${t.trace_id}\n`);
  });

  it('follows a duplicate: two rows, one action, a done and a duplicate answer', async () => {
    const t = await traceOf(twice.event_id);
    expect(t.warehouse.rows).toBe(2);
    expect(t.warehouse.first_publish_time! <= t.warehouse.last_publish_time!).toBe(true);
    expect(t.dedupe).toMatchObject({ status: 'done', attempts: 1 });
    expect(t.logs.map((l) => l.fields.outcome).sort()).toEqual(['done', 'duplicate']);
    expect(fake.requests.filter((r) => r.path === pathOf(twice) && r.answered === 200)).toHaveLength(1);
  });

  it('follows a dead-lettered event: failed record, the error, and the dead letter (left in place)', async () => {
    const t = await traceOf(failing.event_id);
    expect(t.dedupe).toMatchObject({ status: 'failed', error: expect.stringContaining('500') });
    expect(t.dead_letters).toHaveLength(1);
    expect(t.dead_letters[0]!.source).toBe(stack.names.pushSubscription);
    expect(t.logs.filter((l) => l.fields.outcome === 'retry').length).toBeGreaterThanOrEqual(3);
    // Looked at, not taken: it is still there.
    expect((await traceOf(failing.event_id)).dead_letters).toHaveLength(1);
    const readable = await ops('trace', failing.event_id, '--since', '1d');
    expect(readable.stdout).toMatch(/dedupe record\n {2}failed after \d+ attempt\(s\)/);
    expect(readable.stdout).toContain(`from ${stack.names.pushSubscription}`);
  });
});

describe('ops trace --trace-id', () => {
  it('goes from a request\'s trace id to its event, one that needed no Customer.io action', async () => {
    // Delivered: no action. Deployed, the push filter keeps it from the handler, and nothing logs
    // about it after acceptance; the emulator ignores the filter, so here the handler answers no-action.
    const quiet = samplePayload('email', 'delivered', { seq: 70 });
    const body = JSON.stringify(quiet);
    const requestTrace = '0af7651916cd43dd8448eb211c80319c';
    const response = await fetch(stack.receiverUrl, { method: 'POST', headers: { ...signedHeaders(stack.signingKey, body), traceparent: `00-${requestTrace}-b7ad6b7169203331-01` }, body });
    expect(response.status).toBe(204);
    const attributesOf = async () => (await queryWarehouse(stack.warehousePath, 'SELECT attributes FROM events WHERE event_id = $1', [quiet.event_id])).map((r) => JSON.parse(String(r.attributes)) as Record<string, string>);
    await waitFor(async () => (await attributesOf()).length === 1, { what: 'the delivered event\'s row' });
    // The row keeps the request's trace in its message attributes.
    const traceparent = (await attributesOf())[0]![TRACE_ATTRIBUTE]!;
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    const traceId = traceparent.split('-')[1]!;
    expect(traceId).toBe(requestTrace);

    const result = await ops('trace', '--trace-id', traceId, '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const found = JSON.parse(result.stdout) as TraceByRequest;
    expect(found).toMatchObject({ trace_id: traceId, logs_url: null });
    expect(found.events).toHaveLength(1);
    expect(found.events[0]).toMatchObject({ event_id: quiet.event_id, trace_id: traceId, warehouse: { rows: 1, row: { object_type: 'email', metric: 'delivered' } }, dedupe: null, dead_letters: [] });
    expect(found.events[0]!.logs.map((l) => l.fields.outcome ?? l.message)).toEqual(['no-action']);
    // The request log's form of the id is taken too, and the text names the request and the event.
    const text = await ops('trace', '--trace-id', `projects/${stack.project}/traces/${traceId}`);
    expect(text.stdout.split('\n')[0]).toMatch(new RegExp(`^request trace ${traceId}: 1 event\\(s\\) in the warehouse \\(rows received since .+\\)$`));
    expect(text.stdout).toContain(`\nevent ${quiet.event_id} (looked at since `);
  });

  it('reads only the event days a request received since --since can carry: the 8 days before it, and the undated', async () => {
    // This stack's history: an event 40 days old by its own time, received minutes ago. A real
    // delivery is at most 8 days late (Customer.io retries for 7), so the query reads event days from
    // 8 days before --since: the default 7d does not reach it, --since 45d does.
    const { trace_id } = await traceOf(done.event_id);
    const recent = await ops('trace', '--trace-id', trace_id!);
    expect(recent.code).toBe(1);
    expect(recent.stderr).toContain(`no warehouse row carries trace ${trace_id}`);
    const found = JSON.parse((await ops('trace', '--trace-id', trace_id!, '--since', '45d', '--json')).stdout) as TraceByRequest;
    // Traced over the event's own days, with its dedupe record.
    expect(found.events.map((e) => [e.event_id, e.warehouse.rows, e.dedupe?.status])).toEqual([[done.event_id, 1, 'done']]);
  });

  it('answers a trace id no row carries in one line (exit 1), and a malformed one as a usage error (exit 2)', async () => {
    const none = await ops('trace', '--trace-id', 'ffffffffffffffffffffffffffffffff');
    expect(none.code).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr.trim()).toMatch(/^ops: no warehouse row carries trace f{32} among the rows received since \S+: not written yet, received before --since, or not accepted \(the request log says\)$/);
    for (const bad of ['0AF7651916CD43DD8448EB211C80319C', '0af7651916cd43dd', '00000000000000000000000000000000', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01']) {
      const wrong = await ops('trace', '--trace-id', bad);
      expect(wrong.code, bad).toBe(2);
      expect(wrong.stderr.trim().split('\n'), bad).toEqual([`ops: --trace-id must be a trace id, 32 lower-case hex characters not all zero, as in Cloud Run's request log or Cloud Trace (got ${JSON.stringify(bad)}) (see --help)`]);
    }
    expect((await ops('trace', done.event_id, '--trace-id', '0af7651916cd43dd8448eb211c80319c')).code).toBe(2);
  });
});

describe('ops dlq show', () => {
  it('groups the dead letters by the subscription that gave up and its last error', async () => {
    const { stdout } = await ops('dlq', 'show', '--json');
    const summary = JSON.parse(stdout) as { total: number; bySource: Array<{ source: string; count: number }>; samples: Array<{ event_id: string; delivery_attempts: string | null }> };
    expect(summary.total).toBe(1);
    expect(summary.bySource).toEqual([expect.objectContaining({ source: stack.names.pushSubscription, count: 1 })]);
    expect(summary.samples[0]).toMatchObject({ event_id: failing.event_id });
  });
});

describe('ops replay --from-warehouse', () => {
  it('makes the handler act once on an old event whose record expired, skip done ones, and write no warehouse row', async () => {
    // The forgotten event's record has expired (DEDUPE_TTL_DAYS); the others' are still there.
    await firestore.collection(stack.dedupeCollection).doc(dedupeDocumentId(forgotten.event_id)).delete();
    const rowsBefore = await rowCount();
    const callsBefore = fake.requests.length;
    const handledBefore = handled().length;

    const replay = await ops('replay', '--from-warehouse', '--since', '41d', '--until', '39d', '--yes');
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('replayed 3 event(s) from the warehouse');

    await waitFor(() => handled().length >= handledBefore + 3, { what: 'the replayed events handled' });
    await sleep(1500);
    const replayed = handled().slice(handledBefore);
    expect(replayed.every((e) => e.replay === 'warehouse')).toBe(true);
    expect(Object.fromEntries(replayed.map((e) => [e.event_id, e.outcome]))).toEqual({ [done.event_id]: 'duplicate', [twice.event_id]: 'duplicate', [forgotten.event_id]: 'done' });
    const calls = fake.requests.slice(callsBefore);
    expect(calls.map((r) => r.path)).toEqual([pathOf(forgotten)]);
    // The replayed identify carries the old event's own time: it cannot overwrite newer attributes.
    expect((calls[0]!.body as { _timestamp: number })._timestamp).toBe(forgotten.timestamp);
    expect(await rowCount()).toBe(rowsBefore);
  });

  it('says so when nothing matches', async () => {
    const { code, stdout } = await ops('replay', '--from-warehouse', '--since', '3d', '--until', '2d', '--metric', 'opened', '--yes');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^nothing to replay/);
  });
});

describe('ops erase', () => {
  it('counts, deletes the person\'s rows, and says what it cannot reach', async () => {
    const email = (twice.data.identifiers as { email: string }).email;
    const result = await ops('erase', '--email', email, '--yes');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`deleted 2 row(s) holding email=${email}`);
    expect(result.stdout).toContain('a replay (seek) writes them back');
    expect(await queryWarehouse(stack.warehousePath, 'SELECT COUNT(*) AS n FROM events WHERE email = $1 OR recipient = $1', [email])).toEqual([{ n: '0' }]);
    expect((await traceOf(twice.event_id)).warehouse.rows).toBe(0);
    const again = await ops('erase', '--email', email, '--yes');
    expect(again.stdout).toContain('no row holds');
  });

  it('erases an address whatever its case: a mixed-case one by a lower-case request, in every column', async () => {
    const mixed = samplePayload('email', 'bounced', { seq: 60 });
    mixed.data.identifiers = { id: 'Erase.Me@Example.COM', email: 'Erase.Me@Example.COM ' };
    mixed.data.customer_id = 'Erase.Me@Example.COM';
    mixed.data.recipient = 'ERASE.ME@EXAMPLE.COM';
    const before = await rowCount();
    expect((await sendBodies({ url: stack.receiverUrl, key: stack.signingKey, bodies: [JSON.stringify(mixed)], concurrency: 1 })).statuses).toEqual({ 204: 1 });
    await waitFor(async () => (await rowCount()) === before + 1, { what: 'the mixed-case row' });
    const result = await ops('erase', '--email', 'erase.me@example.com', '--yes');
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('deleted 1 row(s) holding email=erase.me@example.com');
    // Locally nothing is billed: no estimate line.
    expect(result.stdout).not.toContain('dry run');
    expect(await queryWarehouse(stack.warehousePath, "SELECT COUNT(*) AS n FROM events WHERE lower(email) LIKE '%erase.me%' OR lower(recipient) LIKE '%erase.me%' OR lower(customer_id) LIKE '%erase.me%'")).toEqual([{ n: '0' }]);
    expect(await rowCount()).toBe(before);
  });

  it('lists what it cannot reach, in its help and after every run', async () => {
    const help = await runScript('ops', ['erase', '--help'], stack.cliEnv);
    expect(help.code).toBe(0);
    for (const limit of ['BIGQUERY_TIME_TRAVEL_HOURS', 'fail-safe', 'cached by BigQuery', 'RETENTION_DAYS', 'snapshots', 'ops dlq show', 'Cloud Logging', 'dedupe records', 'Customer.io itself', 'dry-run estimate']) {
      expect(help.stdout, limit).toContain(limit);
    }
    expect(help.stdout).not.toMatch(/30 minutes/);
    const run = await ops('erase', '--cio-id', 'no-such-person', '--yes');
    expect(run.stdout).toContain('no row holds cioId=no-such-person');
    expect(run.stdout).toContain('fail-safe');
  });

  it('refuses without a terminal to ask on, unless --yes: exit 1, as declined', async () => {
    const { code, stderr } = await ops('erase', '--cio-id', (done.data.identifiers as { cio_id: string }).cio_id);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('refusing without --yes (no terminal to confirm on)');
  });
});

describe('ops snapshot and replay --snapshot', () => {
  const later = samplePayload('email', 'bounced', { seq: 70 });

  it('snapshots the handler subscription; a replay to it redelivers what came after, with no second Customer.io call', async () => {
    const created = await ops('snapshot', 'create', 'before-test', '--subscription', 'handler');
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(new RegExp(`^created snapshot before-test of ${stack.names.pushSubscription}; it expires \\d{4}-`));
    // The emulator drops labels: the local stack remembers where the snapshot came from.
    expect((await ops('snapshot', 'list')).stdout).toContain(`before-test  of ${stack.names.pushSubscription}  expires`);

    const handledBefore = handled().length;
    expect((await sendBodies({ url: stack.receiverUrl, key: stack.signingKey, bodies: [JSON.stringify(later)] })).statuses).toEqual({ 204: 1 });
    await waitFor(() => handled().slice(handledBefore).some((e) => e.event_id === later.event_id && e.outcome === 'done'), { what: 'the later event acted on' });
    const calls = fake.requests.filter((r) => r.path === pathOf(later)).length;
    expect(calls).toBe(1);

    const replay = await ops('replay', '--subscription', 'handler', '--snapshot', 'before-test', '--yes');
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain(`seeked ${stack.names.pushSubscription}: everything since snapshot before-test is being redelivered`);
    await waitFor(() => handled().slice(handledBefore).some((e) => e.event_id === later.event_id && e.outcome === 'duplicate'), { what: 'the later event redelivered' });
    await sleep(500);
    expect(fake.requests.filter((r) => r.path === pathOf(later))).toHaveLength(calls);
  });

  it('refuses a snapshot of another subscription without --force', async () => {
    const { code, stderr } = await ops('replay', '--subscription', 'warehouse', '--snapshot', 'before-test', '--yes');
    expect(code).toBe(1);
    expect(stderr.trim()).toContain(`snapshot before-test was made from ${stack.names.pushSubscription}, not ${stack.warehouseSubscription}`);
  });

  it.each([
    [['snapshot', 'create', 'before-test', '--subscription', 'handler'], 1, 'snapshot before-test already exists'],
    [['snapshot', 'create', 'other-snap', '--subscription', 'no-such-subscription'], 1, 'subscription no-such-subscription does not exist'],
    [['snapshot', 'delete', 'no-such-snapshot', '--yes'], 1, 'snapshot no-such-snapshot does not exist'],
    [['replay', '--subscription', 'handler', '--snapshot', 'no-such-snapshot', '--yes'], 1, 'snapshot no-such-snapshot does not exist'],
    [['snapshot', 'delete', 'before-test'], 1, 'refusing without --yes'],
    [['snapshot', 'create', 's1', '--subscription', 'handler'], 2, 'snapshot name "s1" is shorter than 3 characters: Pub/Sub names are 3–255 characters'],
  ] as const)('ops %j: one line, exit %i', async (args, exitCode, message) => {
    const { code, stdout, stderr } = await ops(...args);
    expect(code).toBe(exitCode);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
    expect(stderr).not.toMatch(/INVALID_ARGUMENT|NOT_FOUND|ALREADY_EXISTS|    at /);
  });

  it('deletes a snapshot', async () => {
    expect((await ops('snapshot', 'delete', 'before-test', '--yes')).stdout).toBe('deleted snapshot before-test\n');
    expect((await ops('snapshot', 'list')).stdout).not.toContain('before-test');
  });
});

describe('the local commands and the metadata server', () => {
  let metadata: MetadataStandIn;
  beforeAll(async () => {
    metadata = await startMetadataStandIn();
  });
  afterAll(() => metadata?.close());

  it('never probe it, even when nothing in the environment says not to', async () => {
    // The test run sets METADATA_SERVER_DETECTION=none for itself; here the commands must.
    const env = { ...stack.cliEnv, METADATA_SERVER_DETECTION: '', GCE_METADATA_HOST: metadata.host };
    for (const args of [['stats'], ['queries'], ['trace', done.event_id], ['dlq', 'show'], ['snapshot', 'list'], ['replay', '--from-warehouse', '--since', '2d', '--until', '1d', '--yes']]) {
      const result = await runScript('ops', [...args, '--local'], env);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stderr, args.join(' ')).toBe('');
    }
    expect(metadata.probes).toEqual([]);
  });
});
