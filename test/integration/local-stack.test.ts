/**
 * `npm start`'s stack, started programmatically on the test emulators: every sample event plus
 * duplicates through the real receiver and handler processes into the DuckDB warehouse, then replay.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeWebhook } from '../../shared/normalize.js';
import { DEFAULT_POLICY, decideActions } from '../../shared/policy.js';
import { describeCall } from '../../functions/customerio.js';
import { ANALYST_QUERIES, localSql } from '../../ops/warehouse/analyst-queries.js';
import { ANALYTICS_SCHEMA, queryWarehouse } from '../../scripts/local/local-warehouse.js';
import { ROOT } from '../../scripts/local/function-process.js';
import { allSamples } from '../../scripts/local/samples.js';
import { sendBodies, signedRequestHeaders } from '../../scripts/local/sender.js';
import { runScript } from '../support/run-script.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { logEntries, waitFor } from '../support/waiting.js';

let stack: TestStack;
const samples = allSamples({ seq: 100 });
const bodies = samples.map((s) => JSON.stringify(s));
const duplicates = bodies.slice(0, 10);
let sentAt: Date;

const lines = (message: string) => logEntries(stack.handler.lines, message);

/** The guide's query for one workspace's rows: none with one workspace, as `npm start` runs by default. */
const ONE_WORKSPACE = ANALYST_QUERIES.find((q) => /\bworkspace = '/.test(q.bigquery))!;

const rowCount = async (sql = 'SELECT COUNT(*) AS n FROM events') => Number((await queryWarehouse(stack.warehousePath, sql))[0]!.n);

beforeAll(async () => {
  stack = await startTestStack('local-stack');
});

afterAll(async () => {
  await stack?.stop();
});

describe('the local stack', () => {
  it('lands one row per delivery, one events_unique row per event, and each dry-run action once', async () => {
    sentAt = new Date(Date.now() - 1000);
    const result = await sendBodies({ url: stack.receiverUrl, key: stack.signingKey, bodies: [...bodies, ...duplicates] });
    expect(result.statuses).toEqual({ 204: bodies.length + duplicates.length });

    await waitFor(async () => (await rowCount()) >= bodies.length + duplicates.length);
    await waitFor(() => lines('event handled').length >= bodies.length + duplicates.length);
    await new Promise((r) => setTimeout(r, 1500)); // anything extra (a wrong redelivery) shows up now

    expect(await rowCount()).toBe(bodies.length + duplicates.length);
    expect(await rowCount('SELECT COUNT(*) AS n FROM events_unique')).toBe(bodies.length);
    const perEvent = await queryWarehouse(stack.warehousePath, 'SELECT event_id, COUNT(*) AS n FROM events GROUP BY event_id');
    const sentTimes = new Map<string, number>();
    for (const b of [...bodies, ...duplicates]) sentTimes.set(JSON.parse(b).event_id, (sentTimes.get(JSON.parse(b).event_id) ?? 0) + 1);
    expect(new Map(perEvent.map((r) => [r.event_id as string, Number(r.n)]))).toEqual(sentTimes);
    // Metadata columns as the BigQuery subscription writes them.
    const [row] = await queryWarehouse(stack.warehousePath, 'SELECT subscription_name, message_id, publish_time, attributes FROM events LIMIT 1');
    expect(row).toMatchObject({ subscription_name: `projects/${stack.project}/subscriptions/${stack.warehouseSubscription}`, message_id: expect.any(String), publish_time: expect.any(String) });
    expect(JSON.parse(String(row!.attributes))).toMatchObject({ schema_version: '1', event_id: expect.any(String) });

    const expected = samples
      .map((s) => decideActions(normalizeWebhook({ body: Buffer.from(JSON.stringify(s)), receivedAt: new Date() }), DEFAULT_POLICY))
      .flatMap((d) => (d.kind === 'act' ? d.actions.map((a) => JSON.stringify(describeCall(a))) : []));
    const logged = lines('dry run: Customer.io call not made').map((e) => JSON.stringify(e.cio_call));
    expect(logged.sort()).toEqual(expected.sort());
    // Every delivery answered with an ack: nothing left to redeliver, nothing dead-lettered.
    expect(new Set(lines('event handled').map((e) => e.outcome))).toEqual(new Set(['done', 'duplicate', 'no-action']));
    expect(stack.sink.stats).toMatchObject({ rejected: 0 });
    const dlq = await runScript('ops', ['dlq', 'show', '--local'], stack.cliEnv);
    expect(dlq.stdout).toContain('0 dead-lettered message(s)');
  });

  it('ops stats counts rows and distinct events per object type and metric', async () => {
    const { code, stdout } = await runScript('ops', ['stats', '--local', '--since', '1h', '--json'], stack.cliEnv);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { counts: Array<{ object_type: string; metric: string; rows: number; events: number }> };
    expect(report.counts.reduce((n, c) => n + c.rows, 0)).toBe(bodies.length + duplicates.length);
    expect(report.counts.reduce((n, c) => n + c.events, 0)).toBe(bodies.length);
    expect(report.counts.find((c) => c.object_type === 'email' && c.metric === 'bounced')).toMatchObject({ events: 1 });
  });

  it('ops smoke sends one event and sees its row, printing the end-to-end latency', async () => {
    const { code, stdout } = await runScript('ops', ['smoke', '--local', '--timeout', '30'], stack.cliEnv);
    expect(code).toBe(0);
    expect(stdout).toMatch(/row arrived: end-to-end \d+\.\d\d s/);
  });

  it('the daily funnel separates human from machine opens and clicks', async () => {
    const funnel = await queryWarehouse(stack.warehousePath, "SELECT SUM(human_clicks) AS human, SUM(machine_clicks) AS machine, SUM(human_opens + machine_opens) AS opens FROM daily_funnel WHERE object_type = 'email'");
    const emailClicks = samples.filter((s) => s.object_type === 'email' && s.metric === 'clicked');
    const machineClicks = emailClicks.filter((s) => s.data.machine === true).length;
    expect(Number(funnel[0]!.machine)).toBe(machineClicks);
    expect(Number(funnel[0]!.human)).toBe(emailClicks.length - machineClicks);
  });

  it('answers the analyst guide\'s questions on the local warehouse', async () => {
    // A signed body that is not JSON is stored all the same, with no event time: the guide's query
    // for such rows finds it.
    const body = 'not json: a row without an event time';
    const response = await fetch(stack.receiverUrl, { method: 'POST', body, headers: { ...signedRequestHeaders(stack.signingKey, body), 'content-type': 'text/plain' } });
    expect(response.status).toBe(204);
    await waitFor(async () => (await rowCount('SELECT COUNT(*) AS n FROM events WHERE event_timestamp IS NULL')) === 1);

    const guide = readFileSync(join(ROOT, 'docs/analysts.md'), 'utf8');
    for (const query of ANALYST_QUERIES) {
      expect(guide, query.question).toContain(query.bigquery);
      const rows = await queryWarehouse(stack.warehousePath, localSql(query, ANALYTICS_SCHEMA));
      // One workspace (CIO_WORKSPACES unset): no row names one; test/integration/workspaces-sql.test.ts
      // runs that query on several.
      if (query === ONE_WORKSPACE) expect(rows, query.question).toEqual([]);
      else expect(rows.length, query.question).toBeGreaterThan(0);
    }
    // A field only the raw payload has, read with the JSON functions.
    const platforms = await queryWarehouse(stack.warehousePath, localSql(ANALYST_QUERIES.find((q) => q.question.startsWith('Push'))!, ANALYTICS_SCHEMA));
    for (const row of platforms) expect(['ios', 'android']).toContain(row.platform);
    // The undated row as analysts see it: no object type or metric, and no payload (not a JSON object).
    const undated = await queryWarehouse(stack.warehousePath, localSql(ANALYST_QUERIES[0]!, ANALYTICS_SCHEMA));
    expect(undated).toEqual([{ received_at: expect.any(String), object_type: null, metric: null, payload: null }]);
  });

  it('runs the guide\'s queries with one command: ops queries --local', async () => {
    const json = await runScript('ops', ['queries', '--local', '--json'], stack.cliEnv);
    expect(json.stderr).toBe('');
    const result = JSON.parse(json.stdout) as { queries: Array<{ number: number; question: string; rows: number }> };
    expect(result.queries.map((q) => q.question)).toEqual(ANALYST_QUERIES.map((q) => q.question));
    expect(result.queries.map((q) => q.number)).toEqual(ANALYST_QUERIES.map((_, i) => i + 1));
    for (const q of result.queries) {
      if (q.question === ONE_WORKSPACE.question) expect(q.rows, q.question).toBe(0);
      else expect(q.rows, q.question).toBeGreaterThan(0);
    }
    const text = await runScript('ops', ['queries', '--local', '--only', '6'], stack.cliEnv);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^6\. Push deliveries by device platform .* — \d+ row\(s\)\n  platform +delivered\n/);
  });

  it('replays the warehouse subscription (rows arrive again) and the handler\'s (no second Customer.io call)', async () => {
    const before = await rowCount();
    const unique = await rowCount('SELECT COUNT(*) AS n FROM events_unique');
    const calls = lines('dry run: Customer.io call not made').length;
    const handled = lines('event handled').length;

    const warehouse = await runScript('ops', ['replay', '--local', '--subscription', 'warehouse', '--time', sentAt.toISOString(), '--yes'], stack.cliEnv);
    expect(warehouse.stderr).toBe('');
    expect(warehouse.stdout).toContain(`(at least ${before} rows were written from it since then; they will be written again)`);
    await waitFor(async () => (await rowCount()) >= 2 * before);
    expect(await rowCount('SELECT COUNT(*) AS n FROM events_unique')).toBe(unique);

    const handler = await runScript('ops', ['replay', '--local', '--subscription', 'handler', '--time', sentAt.toISOString(), '--yes'], stack.cliEnv);
    expect(handler.code).toBe(0);
    // Every delivery since sentAt comes again: one per warehouse row before the replay.
    await waitFor(() => lines('event handled').length >= handled + before);
    await new Promise((r) => setTimeout(r, 1000));
    expect(lines('dry run: Customer.io call not made')).toHaveLength(calls);
    const replayed = lines('event handled').slice(handled).map((e) => e.outcome);
    expect(new Set(replayed)).toEqual(new Set(['duplicate', 'no-action']));
  });

  it('restarts a killed function on its port with its settings, and events flow again (the chaos soak relies on it)', async () => {
    const { receiverUrl, handlerUrl } = stack;
    const oldHandler = stack.handler.child.pid;
    await stack.restart('receiver');
    await stack.restart('handler', { downMs: 200 });
    expect(stack.handler.child.pid).not.toBe(oldHandler);
    expect([stack.receiver.url, stack.handler.url]).toEqual([receiverUrl, handlerUrl]);
    const sample = allSamples({ seq: 900 })[0]!;
    const result = await sendBodies({ url: receiverUrl, key: stack.signingKey, bodies: [JSON.stringify(sample)] });
    expect(result.statuses).toEqual({ 204: 1 });
    await waitFor(() => lines('event handled').some((e) => e.event_id === sample.event_id), { what: 'the restarted handler to see the event' });
    // The restarted process appends to the same log file.
    expect(readFileSync(stack.logFiles.handler, 'utf8')).toContain(sample.event_id);
  });
});
