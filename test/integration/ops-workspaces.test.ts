/**
 * The operators' commands with several Customer.io workspaces, on the local stack (emulators, the
 * DuckDB warehouse): --workspace on stats, trace, replay --from-warehouse and erase; without it, the
 * answers per workspace. The stack's .local/stack.json records two workspaces (acme, beta) the way
 * `CIO_WORKSPACES=acme,beta npm start` records them, and the warehouse rows and dedupe records are
 * written as the receiver, the warehouse sink and the handler write them with a workspace: the rows
 * normalized with their workspace (column and attribute), the records under
 * dedupeDocumentId(event id, workspace). The event X was received by both workspaces with the same
 * id: two different events, which must never be confused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Firestore, Timestamp } from '@google-cloud/firestore';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dedupeDocumentId } from '../../shared/dedupe.js';
import { normalizeWebhook } from '../../shared/normalize.js';
import { attributesOf, type EventRow } from '../../shared/row.js';
import { insertRows, queryWarehouse, withWarehouse } from '../../scripts/local/local-warehouse.js';
import { samplePayload } from '../../scripts/local/samples.js';
import { STACK_FILE } from '../../scripts/local/stack-file.js';
import type { Trace } from '../../ops/commands/trace.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { uniqueName } from '../support/pubsub.js';
import { runScript } from '../support/run-script.js';
import { waitFor } from '../support/waiting.js';

const DAY = 86_400;
const now = Math.floor(Date.now() / 1000);
const EVENT_X = '01KWORKSPACES0000000000000X';
/** Old enough that only the warehouse has them: the same id and time, received by acme and by beta. */
const xAcme = samplePayload('email', 'bounced', { seq: 1, eventId: EVENT_X, timestamp: now - 40 * DAY });
const xBeta = samplePayload('email', 'bounced', { seq: 2, eventId: EVENT_X, timestamp: now - 40 * DAY });
/** Campaign 103's message in each workspace: two different campaigns that share an id. */
const deliveredAcme = samplePayload('email', 'delivered', { seq: 3, source: 'campaign', timestamp: now - 3600 });
const deliveredBeta = samplePayload('email', 'delivered', { seq: 3, source: 'campaign', timestamp: now - 3600 });
/** One person in both workspaces: one row in acme, two in beta. */
const ERASED = 'erase.me@example.com';
const person = (seq: number) => {
  const payload = samplePayload('email', 'sent', { seq, timestamp: now - 2 * DAY });
  payload.data.identifiers = { id: `user-${seq}`, email: ERASED, cio_id: `e${seq}` };
  payload.data.recipient = ERASED;
  return payload;
};

let stack: TestStack;
let firestore: Firestore;
let pubsub: PubSub;
let messageSeq = 0;

const ops = (...args: string[]) => runScript('ops', [...args, '--local'], stack.cliEnv);
const traceOf = async (...args: string[]): Promise<Trace> => {
  const result = await ops('trace', EVENT_X, '--since', '45d', '--json', ...args);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as Trace;
};

/** A row as the receiver publishes it for `workspace` and the warehouse sink writes it. */
function warehouseRow(payload: object, workspace: string): Record<string, string | number | boolean | null> {
  const row = normalizeWebhook({ body: Buffer.from(JSON.stringify(payload)), receivedAt: new Date(), workspace });
  return {
    ...(row as EventRow & Record<string, string | number | boolean | null>),
    subscription_name: `projects/${stack.project}/subscriptions/${stack.warehouseSubscription}`,
    message_id: String(++messageSeq),
    publish_time: new Date().toISOString(),
    attributes: JSON.stringify(attributesOf(row)),
  };
}

/** A dedupe record as the handler leaves it, under the workspace's key. */
async function dedupeRecord(eventId: string, workspace: string, status: 'done' | 'failed', error?: string): Promise<void> {
  const at = Timestamp.now();
  await firestore.collection(stack.dedupeCollection).doc(dedupeDocumentId(eventId, workspace)).create({
    event_id: eventId,
    object_type: 'email',
    metric: 'bounced',
    status,
    lease_until: at,
    attempts: status === 'done' ? 1 : 3,
    created_at: at,
    updated_at: at,
    ...(error ? { error } : {}),
    ...(status === 'done' ? { expire_at: Timestamp.fromMillis(Date.now() + 30 * DAY * 1000) } : {}),
  });
}

/** What `CIO_WORKSPACES=acme,beta:eu npm start` records in stack.json (the contract's shape). */
function recordWorkspaces(workspaces: Array<{ name: string; region: string }>): void {
  const file = join(stack.stateDir, STACK_FILE);
  const record = JSON.parse(readFileSync(file, 'utf8')) as { stack: Record<string, unknown> };
  record.stack.workspaces = workspaces.map((w) => ({ ...w, receiverUrl: `${stack.receiverUrl}${w.name}`, signingKey: `dev-${w.name}` }));
  writeFileSync(file, JSON.stringify(record, null, 2));
}

beforeAll(async () => {
  stack = await startTestStack('ops-ws');
  firestore = new Firestore({ projectId: stack.project, databaseId: stack.dedupeDatabase });
  pubsub = new PubSub({ projectId: stack.project });
  recordWorkspaces([{ name: 'acme', region: 'us' }, { name: 'beta', region: 'eu' }]);
  const rows = [
    warehouseRow(xAcme, 'acme'),
    warehouseRow(xBeta, 'beta'),
    warehouseRow(deliveredAcme, 'acme'),
    warehouseRow(deliveredBeta, 'beta'),
    // A redelivery: the same event written twice.
    warehouseRow(deliveredBeta, 'beta'),
    warehouseRow(person(10), 'acme'),
    warehouseRow(person(11), 'beta'),
    warehouseRow(person(12), 'beta'),
  ];
  await withWarehouse(stack.warehousePath, (connection) => insertRows(connection, rows));
  await dedupeRecord(EVENT_X, 'acme', 'done');
  await dedupeRecord(EVENT_X, 'beta', 'failed', 'Customer.io answered 500');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await firestore?.terminate();
  await pubsub?.close();
});

describe('ops stats with several workspaces', () => {
  it('counts per workspace, and one workspace\'s with --workspace', async () => {
    const all = await ops('stats', '--json');
    expect(all.stderr).toBe('');
    const report = JSON.parse(all.stdout) as { workspace: string | null; counts: Array<{ workspace: string | null; object_type: string; metric: string; rows: number; events: number }> };
    expect(report.workspace).toBeNull();
    expect(report.counts.map((c) => [c.workspace, c.metric, c.rows, c.events])).toEqual([
      ['acme', 'delivered', 1, 1],
      ['beta', 'delivered', 2, 1],
    ]);
    const beta = JSON.parse((await ops('stats', '--json', '--workspace', 'beta')).stdout) as typeof report;
    expect(beta.workspace).toBe('beta');
    expect(beta.counts.map((c) => [c.metric, c.rows, c.events])).toEqual([['delivered', 2, 1]]);

    const table = await ops('stats', '--since', '3d');
    expect(table.stdout).toMatch(/ of every workspace in the local warehouse /);
    expect(table.stdout.split('\n').slice(1)).toEqual([
      'workspace            object_type metric                                    rows  events',
      'acme                 email       delivered                                    1       1',
      'acme                 email       sent                                         1       1',
      'beta                 email       delivered                                    2       1',
      'beta                 email       sent                                         2       2',
      '                     total                                                    6       5',
      '',
    ]);
    const one = await ops('stats', '--workspace', 'acme');
    expect(one.stdout).toMatch(/ of workspace acme in the local warehouse /);
    expect(one.stdout).toMatch(/^object_type metric/m);
  });
});

describe('ops trace with several workspaces', () => {
  it('--workspace: that workspace\'s row and its dedupe record, under the workspace\'s key', async () => {
    const t = await traceOf('--workspace', 'beta');
    expect(t.workspace).toBe('beta');
    expect(t.warehouse).toMatchObject({ rows: 1, workspaces: ['beta'], row: { workspace: 'beta', cio_id: (xBeta.data.identifiers as { cio_id: string }).cio_id } });
    expect(t.dedupe).toMatchObject({ status: 'failed', attempts: 3, error: 'Customer.io answered 500' });
    expect(t.dedupe_lookup).toEqual({ tried: ['beta'], found: [{ workspace: 'beta', record: t.dedupe }] });
    const text = (await ops('trace', EVENT_X, '--since', '45d', '--workspace', 'acme')).stdout;
    expect(text).toContain(`event ${EVENT_X} of workspace acme (looked at since`);
    expect(text).toContain('dedupe record\n  found under workspace acme (looked under workspace acme)\n  done after 1 attempt(s)');
  });

  it('without --workspace: every workspace\'s rows, and the records looked for under every workspace, saying where it found them', async () => {
    const t = await traceOf();
    expect(t.warehouse).toMatchObject({ rows: 2, workspaces: ['acme', 'beta'] });
    expect(t.dedupe_lookup?.tried).toEqual(['acme', 'beta', null]);
    expect(t.dedupe_lookup?.found.map((f) => [f.workspace, f.record.status])).toEqual([['acme', 'done'], ['beta', 'failed']]);
    const text = (await ops('trace', EVENT_X, '--since', '45d')).stdout;
    expect(text).toContain('  workspace acme, beta (the same id in several workspaces: different events)');
    expect(text).toContain('  found under workspace acme (looked under workspaces acme, beta and the key without a workspace)\n  done after 1 attempt(s)');
    expect(text).toContain('  found under workspace beta (looked under workspaces acme, beta and the key without a workspace)\n  failed after 3 attempt(s)');
  });

  it('says where it looked when no record is under any key', async () => {
    const text = (await ops('trace', (deliveredAcme as { event_id: string }).event_id, '--since', '2d')).stdout;
    expect(text).toContain('dedupe record\n  none (no action for this metric, not handled yet, or expired after DEDUPE_TTL_DAYS); looked under workspaces acme, beta and the key without a workspace');
  });
});

describe('ops replay --from-warehouse with several workspaces', () => {
  it('replays one workspace\'s events with --workspace, every workspace\'s without; each message keeps its workspace', async () => {
    const subscription = pubsub.topic(stack.names.replayTopic).subscription(uniqueName('replay-probe'));
    await subscription.create();
    const received: Array<{ attributes: Record<string, string>; row: EventRow }> = [];
    subscription.on('message', (m: Message) => {
      received.push({ attributes: { ...m.attributes }, row: JSON.parse(m.data.toString('utf8')) as EventRow });
      m.ack();
    });
    try {
      const one = await ops('replay', '--from-warehouse', '--since', '41d', '--until', '39d', '--workspace', 'beta', '--yes');
      expect(one.stderr).toBe('');
      expect(one.stdout).toContain('replayed 1 event(s) from the warehouse');
      await waitFor(() => received.length >= 1, { what: 'the replayed message' });
      expect(received[0]!.attributes).toMatchObject({ event_id: EVENT_X, workspace: 'beta', replay: 'warehouse' });
      expect(received[0]!.row).toMatchObject({ event_id: EVENT_X, workspace: 'beta', cio_id: (xBeta.data.identifiers as { cio_id: string }).cio_id });

      const nothing = await ops('replay', '--from-warehouse', '--since', '3d', '--until', '2d', '--workspace', 'acme', '--metric', 'bounced', '--yes');
      expect(nothing.stdout).toMatch(/^nothing to replay: no event\(s\) of workspace acme with event times in/);

      const all = await ops('replay', '--from-warehouse', '--since', '41d', '--until', '39d', '--yes');
      expect(all.stdout).toContain('replayed 2 event(s) from the warehouse');
      await waitFor(() => received.length >= 3, { what: 'both workspaces\' messages' });
      expect(received.slice(1).map((r) => [r.attributes.workspace, r.row.workspace]).sort()).toEqual([['acme', 'acme'], ['beta', 'beta']]);
    } finally {
      await subscription.close();
      await subscription.delete().catch(() => undefined);
    }
  });
});

describe('ops deliverability with several workspaces', () => {
  type Report = { workspace?: string | null; sources: Array<{ workspace: string | null; source: string; source_id: number; delivered: number }> };
  it('judges each workspace\'s source apart, and one workspace\'s with --workspace', async () => {
    const all = JSON.parse((await ops('deliverability', '--json')).stdout) as Report;
    expect(all.workspace).toBeNull();
    expect(all.sources.map((r) => [r.workspace, r.source, r.source_id, r.delivered]).sort()).toEqual([
      ['acme', 'campaign', 103, 1],
      // Written twice, counted once.
      ['beta', 'campaign', 103, 1],
    ]);
    const beta = await ops('deliverability', '--workspace', 'beta', '--json');
    expect(beta.stderr).toBe('');
    const report = JSON.parse(beta.stdout) as Report;
    expect(report.workspace).toBe('beta');
    expect(report.sources.map((r) => [r.workspace, r.source_id])).toEqual([['beta', 103]]);
    const table = await ops('deliverability', '--workspace', 'acme');
    expect(table.stdout).toMatch(/^deliverability per message source of workspace acme, event times /);
    expect(table.stdout).toMatch(/^verdict {14}workspace  source {5}id/m);
    expect(table.stdout).toMatch(/^not judged \(volume\)  acme {7}campaign  103 /m);
  });
});

describe('ops erase with several workspaces', () => {
  const rowsOf = async () =>
    Object.fromEntries(
      (await queryWarehouse(stack.warehousePath, 'SELECT workspace, COUNT(*) AS n FROM events WHERE email = $1 GROUP BY workspace ORDER BY workspace', [ERASED])).map((r) => [r.workspace, Number(r.n)]),
    );

  it('with --workspace erases that workspace\'s rows only; without, every workspace\'s, saying where they were', async () => {
    expect(await rowsOf()).toEqual({ acme: 1, beta: 2 });
    const acme = await ops('erase', '--email', ERASED, '--workspace', 'acme', '--yes');
    expect(acme.stderr).toBe('');
    expect(acme.stdout).toContain(`deleted 1 row(s) holding email=${ERASED} in workspace acme`);
    expect(await rowsOf()).toEqual({ beta: 2 });

    const rest = await ops('erase', '--email', ERASED, '--yes');
    expect(rest.stdout).toContain(`rows holding email=${ERASED}, per workspace: beta 2\n`);
    expect(rest.stdout).toContain(`deleted 2 row(s) holding email=${ERASED}\n`);
    expect(await rowsOf()).toEqual({});
  });
});

describe('--workspace checked before anything is contacted', () => {
  it.each([
    [['stats', '--workspace', 'gamma'], '--workspace "gamma" is none of the deployment\'s workspaces: acme, beta'],
    [['trace', EVENT_X, '--workspace', 'Acme'], '--workspace "Acme" is none of the deployment\'s workspaces: acme, beta'],
    [['replay', '--subscription', 'handler', '--time', '1h', '--workspace', 'acme', '--yes'], '--workspace needs --from-warehouse: a seek redelivers every workspace\'s messages'],
  ])('ops %j: exit 2, one line', async (args, message) => {
    const { code, stdout, stderr } = await ops(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
  });

  it('a stack with one workspace has no --workspace; trace still finds a record under the workspace a row names', async () => {
    recordWorkspaces([]);
    try {
      const { code, stderr } = await ops('stats', '--workspace', 'acme');
      expect(code).toBe(2);
      expect(stderr.trim()).toBe('ops: --workspace acme: the local stack has one workspace (started without CIO_WORKSPACES); leave --workspace out (see --help)');
      // As deployed with CIO_WORKSPACES missing from the operator's shell: the rows say where to look.
      const t = await traceOf();
      expect(t.dedupe_lookup?.tried).toEqual([null, 'acme', 'beta']);
      // (Under the key without a workspace too, by now: this stack's handler, which knows one
      // workspace, handled the replayed events above.)
      expect(t.dedupe_lookup?.found.map((f) => f.workspace)).toEqual(expect.arrayContaining(['acme', 'beta']));
    } finally {
      recordWorkspaces([{ name: 'acme', region: 'us' }, { name: 'beta', region: 'eu' }]);
    }
  });
});

describe('ops smoke with several workspaces', () => {
  it('--local needs --workspace, and then takes that workspace\'s URL and key from the stack', async () => {
    const without = await ops('smoke');
    expect(without.code).toBe(2);
    expect(without.stderr.trim()).toBe('ops: smoke --local needs --workspace: the local stack serves several workspaces, each at its own URL with its own key (see --help)');
    // This stack's receiver knows one key, not beta's recorded one: the answer shows which URL and key were used.
    const beta = await ops('smoke', '--workspace', 'beta', '--timeout', '5');
    expect(beta.code).toBe(1);
    expect(beta.stderr.trim()).toBe(`ops: receiver at ${stack.receiverUrl}beta answered 401, not 2xx`);
  });
});
