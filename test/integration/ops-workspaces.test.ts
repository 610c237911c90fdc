/**
 * The operators' commands with several Customer.io workspaces, on a local stack serving two
 * (`acme`, `beta`: the real receiver at /acme and /beta with each workspace's key, the real handler
 * with each workspace's credentials against a fake Track API, the emulators, the DuckDB warehouse):
 * --workspace on stats, trace, replay --from-warehouse, deliverability, erase and smoke; without it,
 * the answers per workspace. The event X reaches both workspaces with the same id and time: two
 * different events, acted on apart (acme's done, beta's failing until it is dead-lettered), which
 * must never be confused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRow } from '../../shared/row.js';
import { parseWorkspaces } from '../../shared/workspaces.js';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { queryWarehouse } from '../../scripts/local/local-warehouse.js';
import { samplePayload } from '../../scripts/local/samples.js';
import { sendBodies } from '../../scripts/local/sender.js';
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
const pathOf = (e: ReturnType<typeof samplePayload>) => `/customers/cio_${(e.data.identifiers as { cio_id: string }).cio_id}`;

let stack: TestStack;
let fake: FakeTrackApi;
let pubsub: PubSub;
/** stack.json as npm start wrote it (one test rewrites it, then puts it back). */
let stackFile: string;

const ops = (...args: string[]) => runScript('ops', [...args, '--local'], stack.cliEnv);
const traceOf = async (...args: string[]): Promise<Trace> => {
  const result = await ops('trace', EVENT_X, '--since', '45d', '--json', ...args);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as Trace;
};
const rowCount = async () => Number((await queryWarehouse(stack.warehousePath, 'SELECT COUNT(*) AS n FROM events'))[0]!.n);

/** Signed with the workspace's key, to the workspace's URL, as Customer.io's webhook of that workspace posts. */
async function post(workspace: string, payloads: object[]): Promise<void> {
  const target = stack.workspaces!.find((w) => w.name === workspace)!;
  const sent = await sendBodies({ url: target.receiverUrl, key: target.signingKey, bodies: payloads.map((p) => JSON.stringify(p)), concurrency: 1 });
  expect(sent.statuses).toEqual({ 204: payloads.length });
}

beforeAll(async () => {
  fake = await startFakeTrackApi();
  // beta's X fails every time: its record stays failed and the event ends in the dead letters.
  fake.scriptPath(pathOf(xBeta), ...Array.from({ length: 200 }, () => ({ status: 500 as const })));
  stack = await startTestStack('ops-ws', {
    workspaces: parseWorkspaces('acme,beta:eu'),
    handlerEnv: { CIO_SITE_ID__ACME: 'acme-site', CIO_TRACK_API_KEY__ACME: 'acme-key', CIO_SITE_ID__BETA: 'beta-site', CIO_TRACK_API_KEY__BETA: 'beta-key', CIO_TRACK_URL: fake.url, CIO_DEADLINE_SECONDS: '2' },
  });
  stackFile = readFileSync(join(stack.stateDir, STACK_FILE), 'utf8');
  pubsub = new PubSub({ projectId: stack.project });
  await post('acme', [xAcme, deliveredAcme, person(10)]);
  // deliveredBeta twice: a redelivery, two rows of one event.
  await post('beta', [xBeta, deliveredBeta, deliveredBeta, person(11), person(12)]);
  await waitFor(async () => (await rowCount()) === 8, { what: 'eight warehouse rows' });
  await waitFor(() => fake.requests.some((r) => r.path === pathOf(xAcme) && r.answered === 200), { what: 'acme\'s X acted on' });
  await waitFor(async () => (await ops('dlq', 'show')).stdout.includes('1 dead-lettered message(s)'), { timeoutMs: 90_000, what: 'beta\'s X in the dead letters' });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await pubsub?.close();
  await fake?.close();
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
  it('--workspace: that workspace\'s row, its dedupe record under the workspace\'s key, its dead letter and log entries', async () => {
    const t = await traceOf('--workspace', 'beta');
    expect(t.workspace).toBe('beta');
    expect(t.warehouse).toMatchObject({ rows: 1, workspaces: ['beta'], row: { workspace: 'beta', cio_id: (xBeta.data.identifiers as { cio_id: string }).cio_id } });
    expect(t.dedupe).toMatchObject({ status: 'failed', error: expect.stringContaining('500') });
    expect(t.dedupe_lookup).toEqual({ tried: ['beta'], found: [{ workspace: 'beta', record: t.dedupe }] });
    expect(t.dead_letters).toEqual([expect.objectContaining({ workspace: 'beta', source: stack.names.pushSubscription })]);
    expect(t.logs.length).toBeGreaterThan(0);
    expect(t.logs.every((l) => l.fields.workspace === 'beta')).toBe(true);

    // acme's event with the same id: done, and beta's dead letter and entries are not its.
    const acme = await traceOf('--workspace', 'acme');
    expect(acme.dedupe).toMatchObject({ status: 'done', attempts: 1 });
    expect(acme.dead_letters).toEqual([]);
    expect(acme.logs.map((l) => [l.fields.workspace, l.message, l.fields.outcome])).toEqual([['acme', 'event handled', 'done']]);
    const text = (await ops('trace', EVENT_X, '--since', '45d', '--workspace', 'acme')).stdout;
    expect(text).toContain(`event ${EVENT_X} of workspace acme (looked at since`);
    expect(text).toContain('dedupe record\n  found under workspace acme (looked under workspace acme)\n  done after 1 attempt(s)');
  });

  it('without --workspace: every workspace\'s rows, and the records looked for under every workspace, saying where it found them', async () => {
    const t = await traceOf();
    expect(t.warehouse).toMatchObject({ rows: 2, workspaces: ['acme', 'beta'] });
    expect(t.dedupe_lookup?.tried).toEqual(['acme', 'beta', null]);
    expect(t.dedupe_lookup?.found.map((f) => [f.workspace, f.record.status])).toEqual([['acme', 'done'], ['beta', 'failed']]);
    expect(t.dead_letters.map((d) => d.workspace)).toEqual(['beta']);
    const text = (await ops('trace', EVENT_X, '--since', '45d')).stdout;
    expect(text).toContain('  workspace acme, beta (the same id in several workspaces: different events)');
    expect(text).toContain('  found under workspace acme (looked under workspaces acme, beta and the key without a workspace)\n  done after 1 attempt(s)');
    expect(text).toMatch(/ {2}found under workspace beta \(looked under workspaces acme, beta and the key without a workspace\)\n {2}failed after \d+ attempt\(s\)/);
    expect(text).toMatch(/dead letters\n {2}message \S+ of workspace beta from /);
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
    // stack.json as a single-workspace npm start writes it (workspaces null), over this stack.
    const file = join(stack.stateDir, STACK_FILE);
    const record = JSON.parse(stackFile) as { stack: Record<string, unknown> };
    writeFileSync(file, JSON.stringify({ ...record, stack: { ...record.stack, workspaces: null } }));
    try {
      const { code, stderr } = await ops('stats', '--workspace', 'acme');
      expect(code).toBe(2);
      expect(stderr.trim()).toBe('ops: --workspace acme: the local stack has one workspace (started without CIO_WORKSPACES); leave --workspace out (see --help)');
      // As deployed with CIO_WORKSPACES missing from the operator's shell: the rows say where to look.
      const t = await traceOf();
      expect(t.dedupe_lookup?.tried).toEqual([null, 'acme', 'beta']);
      expect(t.dedupe_lookup?.found.map((f) => f.workspace)).toEqual(['acme', 'beta']);
    } finally {
      writeFileSync(file, stackFile);
    }
  });
});

describe('ops smoke with several workspaces', () => {
  it('--local needs --workspace, and then posts to that workspace\'s URL with its key and sees the row come back with it', async () => {
    const without = await ops('smoke');
    expect(without.code).toBe(2);
    expect(without.stderr.trim()).toBe('ops: smoke --local needs --workspace: the local stack serves several workspaces, each at its own URL with its own key (see --help)');
    const beta = await ops('smoke', '--workspace', 'beta', '--timeout', '60');
    expect(beta.stderr).toBe('');
    expect(beta.code).toBe(0);
    expect(beta.stdout).toMatch(/row arrived: end-to-end \d+\.\d\d s/);
    const smoked = /accepted (smoke-\S+)/.exec(beta.stdout)![1]!;
    expect(await queryWarehouse(stack.warehousePath, 'SELECT workspace FROM events WHERE event_id = $1', [smoked])).toEqual([{ workspace: 'beta' }]);
  });
});
