/**
 * The warehouse with several workspaces, on the local DuckDB file, which creates every object from
 * the same SQL as BigQuery: a campaign id is one workspace's, so two workspaces' campaign 101 are two
 * funnel rows and two deliverability sources, judged, sorted and reported apart; an event id is one
 * workspace's too, as in the handler's dedupe records. Rows with no workspace (one workspace) keep
 * behaving as before.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DELIVERABILITY_FUNCTION, breachFields, breachesOf, guardWindow, judge, loadDeliverabilityConfig, sourceLabel, toDeliverabilityRow, worstFirst, type DeliverabilityRow } from '../../shared/deliverability.js';
import { normalizeWebhook } from '../../shared/normalize.js';
import { ANALYST_QUERIES, localSql } from '../../ops/warehouse/analyst-queries.js';
import { ROOT } from '../../scripts/local/function-process.js';
import { fencedBlocks } from '../support/docs.js';
import { ANALYTICS_SCHEMA, ensureWarehouse, insertRows, queryWarehouse, withWarehouse, type WarehouseRow } from '../../scripts/local/local-warehouse.js';

const KEY = Buffer.alloc(32, 9);
// Recent, so the analyst guide's queries (the last day, the last 7 days) find the rows too.
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 3 * 3_600_000;
const HOUR = 3_600_000;
let path: string;
let seq = 0;

/** A webhook as the receiver normalizes it for `workspace` (null: one workspace), written as the subscription does. */
function written(workspace: string | null, metric: string, ids: Record<string, number>, eventId = `ev-${++seq}`, publishedAt = T0 + HOUR + 1000): WarehouseRow {
  seq += 1;
  const body = { event_id: eventId, object_type: 'email', metric, timestamp: Math.floor((T0 + HOUR) / 1000), data: { identifiers: { id: `u-${seq}` }, ...ids } };
  const row = normalizeWebhook({ body: Buffer.from(JSON.stringify(body)), receivedAt: new Date(publishedAt), workspace });
  return { ...row, subscription_name: 'projects/p/subscriptions/s', message_id: `m-${seq}`, publish_time: new Date(publishedAt).toISOString(), attributes: '{}' };
}

function many(workspace: string | null, metric: string, ids: Record<string, number>, n: number): WarehouseRow[] {
  return Array.from({ length: n }, () => written(workspace, metric, ids));
}

const CAMPAIGN = { campaign_id: 101, action_id: 501 };

beforeAll(async () => {
  path = join(mkdtempSync(join(tmpdir(), 'workspaces-sql-')), 'w.duckdb');
  await ensureWarehouse(path, KEY);
  const rows = [
    // Campaign 101 in acme: complaints at 0.5% (critical).
    ...many('acme', 'sent', CAMPAIGN, 1000), ...many('acme', 'delivered', CAMPAIGN, 1000), ...many('acme', 'spammed', CAMPAIGN, 5),
    // Campaign 101 in beta, another campaign: clean.
    ...many('beta', 'sent', CAMPAIGN, 2000), ...many('beta', 'delivered', CAMPAIGN, 2000), ...many('beta', 'spammed', CAMPAIGN, 1),
    // And a row without a workspace (written before CIO_WORKSPACES was set).
    ...many(null, 'sent', CAMPAIGN, 3),
  ];
  // The same event id in both workspaces: two events (the handler's dedupe keys them apart too);
  // each written twice (a retry): one row each in events_unique.
  const acmeOpen = written('acme', 'opened', CAMPAIGN, 'shared-id');
  const betaOpen = written('beta', 'opened', CAMPAIGN, 'shared-id');
  rows.push(acmeOpen, { ...acmeOpen, message_id: 'acme-retry', publish_time: new Date(T0 + 2 * HOUR).toISOString() }, betaOpen, { ...betaOpen, message_id: 'beta-retry', publish_time: new Date(T0 + 2 * HOUR).toISOString() });
  await withWarehouse(path, (connection) => insertRows(connection, rows));
});

const ts = (ms: number) => `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;
const WINDOW = `${ts(T0)}, ${ts(T0 + 24 * HOUR)}`;

async function deliverability(schema = ''): Promise<DeliverabilityRow[]> {
  return (await queryWarehouse(path, `SELECT * FROM ${schema}${DELIVERABILITY_FUNCTION}(${WINDOW}) ORDER BY workspace NULLS FIRST, source_id`)).map(toDeliverabilityRow);
}

describe('a campaign id is one workspace\'s', () => {
  it('gives two workspaces\' campaign 101 two funnel rows, in the view and the table function; no workspace is a row of its own', async () => {
    for (const source of ['daily_funnel', `funnel_between(${WINDOW})`]) {
      const rows = await queryWarehouse(path, `SELECT workspace, source, source_id, sent, delivered, human_opens, spammed FROM ${source} ORDER BY workspace NULLS FIRST`);
      expect(rows.map((r) => [r.workspace, r.source, Number(r.source_id), Number(r.sent), Number(r.delivered), Number(r.human_opens), Number(r.spammed)]), source).toEqual([
        [null, 'campaign', 101, 3, 0, 0, 0],
        ['acme', 'campaign', 101, 1000, 1000, 1, 5],
        ['beta', 'campaign', 101, 2000, 2000, 1, 1],
      ]);
    }
  });

  it('gives them two deliverability sources, judged apart: acme\'s complaints are critical, beta\'s are not', async () => {
    const rows = await deliverability();
    expect(rows.map((r) => [r.workspace, r.source, r.source_id, r.action_id, r.sent, r.delivered, r.spammed])).toEqual([
      [null, 'campaign', 101, 501, 3, 0, 0],
      ['acme', 'campaign', 101, 501, 1000, 1000, 5],
      ['beta', 'campaign', 101, 501, 2000, 2000, 1],
    ]);
    const config = loadDeliverabilityConfig({});
    const judged = worstFirst(rows.map((r) => judge(r, config)), config);
    expect(judged.map((j) => [j.row.workspace, j.verdict])).toEqual([['acme', 'critical'], ['beta', 'ok'], [null, 'unjudged']]);
    // Summed over both, the campaign would be 6 of 3,000 (0.2%, a warning): the workspaces are not merged.
    const [breach] = breachesOf(judged[0]!, config);
    const fields = breachFields(breach!, guardWindow(new Date(T0 + 24 * HOUR), config));
    expect(fields).toMatchObject({ workspace: 'acme', source: 'campaign', source_id: '101', action_id: '501', measure: 'complaint', level: 'critical' });
    expect(String(fields.summary)).toMatch(/^acme: campaign 101 action 501 \(email\): complaint rate 0\.5%/);
    expect(sourceLabel(judged[2]!.row)).toBe('campaign 101 action 501 (email)');
  });

  it('answers the same in the analysts\' schema', async () => {
    expect(await deliverability(`${ANALYTICS_SCHEMA}.`)).toEqual(await deliverability());
  });
});

describe('an event id is one workspace\'s', () => {
  it('keeps one row per workspace and event in events_unique and events_unique_between, whatever the copies', async () => {
    for (const source of ['events_unique', `events_unique_between(${WINDOW})`, `${ANALYTICS_SCHEMA}.events_unique`]) {
      const rows = await queryWarehouse(path, `SELECT workspace, message_id FROM ${source} WHERE event_id = 'shared-id' ORDER BY workspace`);
      expect(rows.map((r) => r.workspace), source).toEqual(['acme', 'beta']);
      expect(rows.map((r) => r.message_id), source).not.toContain('acme-retry');
    }
  });
});

describe('the analyst guide\'s queries', () => {
  it('keep the workspaces apart wherever they group by message source', async () => {
    // All but the one that reads a single workspace's rows (the section below).
    const perSource = ANALYST_QUERIES.filter((q) => /\bsource_id\b/.test(q.bigquery) && !/\bworkspace = '/.test(q.bigquery));
    expect(perSource.length).toBeGreaterThan(0);
    for (const query of perSource) {
      expect(query.bigquery, query.question).toMatch(/\bworkspace\b/);
      const rows = await queryWarehouse(path, localSql(query, ANALYTICS_SCHEMA));
      const campaign101 = rows.filter((r) => Number(r.source_id) === 101);
      expect(new Set(campaign101.map((r) => r.workspace)), query.question).toEqual(new Set([null, 'acme', 'beta']));
    }
  });
});

describe('the analyst guide\'s several-workspaces section', () => {
  it('shows a query that reads one workspace\'s funnel, and ops queries runs it', async () => {
    const section = readFileSync(join(ROOT, 'docs/analysts.md'), 'utf8').split('## Several workspaces')[1]!.split('\n## ')[0]!;
    const [block] = fencedBlocks(section).filter((b) => b.info === 'sql');
    // The guide's text is one of the queries `ops queries` runs: its DuckDB text is that query's.
    const query = ANALYST_QUERIES.find((q) => q.bigquery === block!.body);
    expect(query, 'the section\'s query in ANALYST_QUERIES').toBeDefined();
    const rows = await queryWarehouse(path, localSql(query!, ANALYTICS_SCHEMA));
    expect(rows.map((r) => [r.source, Number(r.source_id), Number(r.sent)])).toEqual([['campaign', 101, 1000]]);
  });
});
