/**
 * deliverability_between on the local DuckDB warehouse, which creates it from the same SQL file as
 * BigQuery: sources keyed as Customer.io names them, each event counted once (duplicates, replays,
 * late arrivals), the window respected, and — judged by shared/deliverability.ts — the verdicts of
 * sources above, at and below each threshold and the minimum volume. Then the BigQuery text itself.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DELIVERABILITY_FUNCTION, judge, loadDeliverabilityConfig, toDeliverabilityRow, type DeliverabilityRow } from '../../shared/deliverability.js';
import { normalizeWebhook } from '../../shared/normalize.js';
import { EVENT_COLUMN_NAMES } from '../../shared/row.js';
import { COLUMN_TREATMENT } from '../../infra/privacy.js';
import { bigqueryNames, derivedSql } from '../../infra/sql.js';
import { ANALYTICS_SCHEMA, ensureWarehouse, insertRows, queryWarehouse, withWarehouse, type WarehouseRow } from '../../scripts/local/local-warehouse.js';

const KEY = Buffer.alloc(32, 7);
const T0 = Date.parse('2026-11-20T00:00:00Z');
const HOUR = 3_600_000;
let path: string;
let seq = 0;

type Ids = Record<string, number>;

/** A webhook body as Customer.io sends it, through the receiver's normalizer, written as the subscription does. */
function written(objectType: string, metric: string, ids: Ids, eventTime: number, publishedAt = eventTime + 1000, eventId = `ev-${++seq}`): WarehouseRow {
  const body = { event_id: eventId, object_type: objectType, metric, timestamp: Math.floor(eventTime / 1000), data: { delivery_id: `d-${seq}`, identifiers: { id: `u-${seq}`, email: `p${seq}@example.com` }, recipient: `p${seq}@example.com`, ...ids } };
  const row = normalizeWebhook({ body: Buffer.from(JSON.stringify(body)), receivedAt: new Date(publishedAt) });
  return { ...row, subscription_name: 'projects/p/subscriptions/s', message_id: `m-${seq}-${publishedAt}`, publish_time: new Date(publishedAt).toISOString(), attributes: '{}' };
}

/** n events of one metric for a source, spread over the first hours of the window. */
function events(objectType: string, metric: string, ids: Ids, n: number): WarehouseRow[] {
  return Array.from({ length: n }, (_, i) => written(objectType, metric, ids, T0 + HOUR + (i % 20) * 60_000));
}

/** A send: `sent` sends, `delivered` deliveries, and the given bounces, complaints and unsubscribes. */
function send(ids: Ids, c: { sent: number; delivered: number; bounced?: number; spammed?: number; unsubscribed?: number }, objectType = 'email'): WarehouseRow[] {
  return [
    ...events(objectType, 'sent', ids, c.sent),
    ...events(objectType, 'delivered', ids, c.delivered),
    ...events(objectType, 'bounced', ids, c.bounced ?? 0),
    ...events(objectType, 'spammed', ids, c.spammed ?? 0),
    ...events(objectType, 'unsubscribed', ids, c.unsubscribed ?? 0),
    ...events(objectType, 'opened', ids, Math.min(10, c.delivered)),
  ];
}

beforeAll(async () => {
  path = join(mkdtempSync(join(tmpdir(), 'deliverability-sql-')), 'w.duckdb');
  await ensureWarehouse(path, KEY);
  const spamCopies: WarehouseRow[] = [];
  const rows = [
    // Complaint rate exactly at 0.3% (critical) and at 0.1% (warning), two actions of one campaign apart.
    ...send({ campaign_id: 101, action_id: 501 }, { sent: 1000, delivered: 1000, spammed: 3, unsubscribed: 4 }),
    ...send({ campaign_id: 101, action_id: 502 }, { sent: 1000, delivered: 1000, spammed: 1 }),
    // Just below both: 0.0999…% and 1.99%.
    ...send({ campaign_id: 102, action_id: 7 }, { sent: 1001, delivered: 1001, spammed: 1, bounced: 19 }),
    // Bounces exactly at 5% (critical) on an API-triggered broadcast; its 950 deliveries are under the complaint minimum.
    ...send({ broadcast_id: 9, trigger_id: 20, action_id: 42 }, { sent: 1000, delivered: 950, bounced: 50, spammed: 40 }),
    // Bounces exactly at 2% (warning) on another broadcast action.
    ...send({ broadcast_id: 9, trigger_id: 21, action_id: 43 }, { sent: 1000, delivered: 980, bounced: 20 }),
    // A newsletter with two content variants, one row; 999 sent: under both minimums whatever its rates.
    ...send({ newsletter_id: 7, content_id: 70 }, { sent: 500, delivered: 500, spammed: 60 }),
    ...send({ newsletter_id: 7, content_id: 71 }, { sent: 499, delivered: 499, bounced: 0, spammed: 39 }),
    // A transactional message well within both bars.
    ...send({ transactional_message_id: 3 }, { sent: 2000, delivered: 1990, bounced: 10, spammed: 1 }),
    // Push bounces: counted, not judged (DELIVERABILITY_CHANNELS is email by default).
    ...send({ campaign_id: 101, action_id: 503 }, { sent: 1000, delivered: 700, bounced: 300 }, 'push'),
    // Everything bounced: no deliveries, so no complaint or unsubscribe rate.
    ...send({ transactional_message_id: 4 }, { sent: 5, delivered: 0, bounced: 5 }),
    // No row: a source with only opens and clicks in the window (nothing a rate counts).
    ...events('email', 'opened', { campaign_id: 199, action_id: 1 }, 5),
    ...events('email', 'clicked', { campaign_id: 199, action_id: 1 }, 5),
    // Not counted: customer events, events naming no source (a test send), events outside the window.
    written('customer', 'unsubscribed', {}, T0 + HOUR),
    written('email', 'spammed', {}, T0 + HOUR),
    written('email', 'spammed', { campaign_id: 101, action_id: 501 }, T0 - HOUR),
    written('email', 'spammed', { campaign_id: 101, action_id: 501 }, T0 + 25 * HOUR),
  ];
  // Every complaint written twice more: a Customer.io retry a minute later and a replay three days later.
  for (const r of rows.filter((r) => r.metric === 'spammed' && r.event_timestamp !== null)) {
    spamCopies.push({ ...r, message_id: `${r.message_id}-retry`, publish_time: new Date(Date.parse(String(r.publish_time)) + 60_000).toISOString() });
    spamCopies.push({ ...r, message_id: `${r.message_id}-replay`, publish_time: new Date(Date.parse(String(r.publish_time)) + 72 * HOUR).toISOString() });
  }
  // A late complaint: it happened in the window and arrived two days after it closed; it counts once, in its window.
  const late = written('email', 'spammed', { campaign_id: 102, action_id: 7 }, T0 + 2 * HOUR, T0 + 72 * HOUR);
  await withWarehouse(path, (connection) => insertRows(connection, [...rows, ...spamCopies, late, { ...late, message_id: 'late-copy' }]));
});

const ts = (ms: number) => `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;
const WINDOW = `${ts(T0)}, ${ts(T0 + 24 * HOUR)}`;

async function read(schema = ''): Promise<DeliverabilityRow[]> {
  const rows = await queryWarehouse(path, `SELECT * FROM ${schema}${DELIVERABILITY_FUNCTION}(${WINDOW}) ORDER BY source, source_id, action_id, channel`);
  return rows.map(toDeliverabilityRow);
}

const find = (rows: DeliverabilityRow[], source: string, id: number, action: number | null, channel = 'email') =>
  rows.filter((r) => r.source === source && r.source_id === id && r.action_id === action && r.channel === channel);

describe('deliverability_between on DuckDB', () => {
  it('keys sources as Customer.io names them: campaign and broadcast actions apart, a newsletter\'s variants together, transactional messages, per channel', async () => {
    const rows = await read();
    expect(rows.map((r) => [r.source, r.source_id, r.action_id, r.channel])).toEqual([
      ['broadcast', 9, 42, 'email'],
      ['broadcast', 9, 43, 'email'],
      ['campaign', 101, 501, 'email'],
      ['campaign', 101, 502, 'email'],
      ['campaign', 101, 503, 'push'],
      ['campaign', 102, 7, 'email'],
      ['newsletter', 7, null, 'email'],
      ['transactional', 3, null, 'email'],
      ['transactional', 4, null, 'email'],
    ]);
    expect(find(rows, 'newsletter', 7, null)[0]).toMatchObject({ sent: 999, delivered: 999, spammed: 99 });
  });

  it('counts each event once: retries, replays and a late arrival; and only the window\'s event times', async () => {
    const rows = await read();
    // 3 complaints in the window; the copies, the one before the window and the one after it do not count.
    expect(find(rows, 'campaign', 101, 501)[0]).toMatchObject({ sent: 1000, delivered: 1000, bounced: 0, spammed: 3, unsubscribed: 4 });
    // 1 on time, 1 late (written twice): 2.
    expect(find(rows, 'campaign', 102, 7)[0]).toMatchObject({ spammed: 2, bounced: 19 });
    const [copies] = await queryWarehouse(path, "SELECT COUNT(*) AS rows, COUNT(DISTINCT event_id) AS events FROM events WHERE metric = 'spammed'");
    expect(Number(copies!.rows)).toBeGreaterThan(3 * Number(copies!.events) - 10);
  });

  it('computes the rates from the counts, and none without a denominator', async () => {
    for (const r of await read()) {
      expect(r.complaint_rate).toBe(r.delivered > 0 ? r.spammed / r.delivered : null);
      expect(r.bounce_rate).toBe(r.sent > 0 ? r.bounced / r.sent : null);
      expect(r.unsubscribe_rate).toBe(r.delivered > 0 ? r.unsubscribed / r.delivered : null);
    }
    expect(find(await read(), 'transactional', 4, null)[0]).toMatchObject({ sent: 5, delivered: 0, bounced: 5, bounce_rate: 1, complaint_rate: null, unsubscribe_rate: null });
    expect(find(await read(), 'campaign', 101, 501)[0]!.unsubscribe_rate).toBe(0.004);
  });

  it('gives the verdicts above, at and below each threshold and the minimum volume', async () => {
    const config = loadDeliverabilityConfig({});
    const verdicts = Object.fromEntries((await read()).map((r) => {
      const j = judge(r, config);
      return [`${r.source} ${r.source_id} ${r.action_id ?? '-'} ${r.channel}`, [j.verdict, j.measures.complaint.level, j.measures.bounce.level]];
    }));
    expect(verdicts).toEqual({
      'campaign 101 501 email': ['critical', 'critical', 'ok'], // complaints at 0.3%
      'campaign 101 502 email': ['warning', 'warning', 'ok'], // complaints at 0.1%
      'campaign 102 7 email': ['warning', 'warning', 'ok'], // 2 complaints (one late) of 1,001: above 0.1%; bounces 1.9%: below 2%
      'broadcast 9 42 email': ['critical', null, 'critical'], // bounces at 5%; 950 delivered: complaints not judged
      'broadcast 9 43 email': ['warning', null, 'warning'], // bounces at 2%
      'newsletter 7 - email': ['unjudged', null, null], // 9.9% complaints, but 999 sent and delivered
      'transactional 3 - email': ['ok', 'ok', 'ok'],
      'transactional 4 - email': ['unjudged', null, null],
      'campaign 101 503 push': ['unjudged', null, null], // 30% bounces on a channel that is not judged
    });
    // Without the late complaint campaign 102 would be below the bar: 1 of 1,001.
    expect(judge({ ...find(await read(), 'campaign', 102, 7)[0]!, spammed: 1 }, config).verdict).toBe('ok');
  });

  it('answers the same in the analysts\' schema, which holds no addresses', async () => {
    expect(await read(`${ANALYTICS_SCHEMA}.`)).toEqual(await read());
  });
});

describe('deliverability_between in BigQuery SQL', () => {
  const raw = derivedSql(DELIVERABILITY_FUNCTION, bigqueryNames('acme-prod-1', 'cio_webhooks'));
  const analytics = derivedSql(DELIVERABILITY_FUNCTION, bigqueryNames('acme-prod-1', 'cio_analytics'));
  const code = (sql: string) => sql.replace(/--.*$/gm, '');

  it('reads the deduplicated events of its own dataset, for the range only', () => {
    expect(code(raw)).toContain('FROM `acme-prod-1.cio_webhooks.events_unique_between`(start_ts, end_ts)');
    expect(code(analytics)).toContain('FROM `acme-prod-1.cio_analytics.events_unique_between`(start_ts, end_ts)');
    expect(code(raw)).not.toMatch(/\.events`/);
  });

  it('reads no personal column: identifiers of the message and metrics only', () => {
    const columns = EVENT_COLUMN_NAMES.filter((c) => new RegExp(`\\b${c}\\b`).test(code(raw)));
    expect(columns.sort()).toEqual(['action_id', 'broadcast_id', 'campaign_id', 'metric', 'newsletter_id', 'object_type', 'transactional_message_id', 'workspace']);
    for (const column of columns) expect(COLUMN_TREATMENT[column], column).toBe('keep');
  });

  it('divides only by a count that is not zero', () => {
    for (const division of code(raw).matchAll(/(\w+) \/ (\w+)/g)) expect(code(raw)).toContain(`WHEN ${division[2]} > 0 THEN ${division[1]} / ${division[2]}`);
  });
});
