/**
 * The warehouse's SQL run on the local DuckDB warehouse, which creates the same objects from the
 * same files as BigQuery (infra/sql, infra/privacy.ts): the partition-aware dedupe window keeps the
 * rows the old one kept, the table functions agree with the views for their range, and the analysts'
 * objects hash with the key exactly as the handler's logs do.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { normalizeWebhook } from '../../shared/normalize.js';
import { pseudonymize } from '../../shared/pseudonym.js';
import type { EventRow } from '../../shared/row.js';
import { DERIVED_OBJECTS, DERIVED_OBJECT_NAMES, bigqueryNames, derivedSql } from '../../infra/sql.js';
import { ANALYTICS_SCHEMA, ensureWarehouse, insertRows, queryWarehouse, withWarehouse, type WarehouseRow } from '../../scripts/local/local-warehouse.js';
import { samplePayload } from '../../scripts/local/samples.js';

const KEY = Buffer.from('6b65792d666f722d7468652d77617265686f7573652d746573747321', 'hex');
const T0 = Date.parse('2026-11-01T00:00:00Z');
let path: string;
let seq = 0;

/** A warehouse row as the BigQuery subscription writes it: the event row plus metadata. */
function written(row: EventRow, publishedAt: number): WarehouseRow {
  seq += 1;
  return { ...row, subscription_name: 'projects/p/subscriptions/s', message_id: `m${String(seq).padStart(5, '0')}`, publish_time: new Date(publishedAt).toISOString(), attributes: '{}' };
}

function rowOf(body: unknown): EventRow {
  return normalizeWebhook({ body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), receivedAt: new Date(T0) });
}

beforeAll(async () => {
  path = join(mkdtempSync(join(tmpdir(), 'warehouse-sql-')), 'w.duckdb');
  await ensureWarehouse(path, KEY);
  const rows: WarehouseRow[] = [];
  for (let day = 0; day < 10; day++) {
    for (const [type, metric] of [['email', 'sent'], ['email', 'delivered'], ['email', 'opened'], ['email', 'clicked'], ['email', 'bounced'], ['push', 'delivered']] as const) {
      const event = samplePayload(type, metric, { seq: day * 10 + seq, timestamp: Math.floor((T0 + day * 86_400_000 + 3_600_000) / 1000) });
      const row = rowOf(event);
      rows.push(written(row, T0 + day * 86_400_000 + 3_700_000));
      // Duplicates: a Customer.io retry an hour later, and a replay days later (late copies).
      if (day % 2 === 0) rows.push(written(row, T0 + day * 86_400_000 + 7_300_000));
      if (day % 3 === 0) rows.push(written(row, T0 + (day + 4) * 86_400_000));
    }
  }
  // Bodies with no event_timestamp (not JSON, test sends), twice each: they dedupe among themselves.
  for (const body of ['not json at all', JSON.stringify({ metric: 'sent', object_type: 'email', data: { identifiers: {} } })]) {
    rows.push(written(rowOf(body), T0 + 1000), written(rowOf(body), T0 + 2000));
  }
  // A bounce whose reason quotes the address, as mail servers often do.
  const quoting = samplePayload('email', 'bounced', { seq: 777, timestamp: Math.floor((T0 + 3_600_000) / 1000) });
  quoting.data.failure_message = '550 5.1.1 <person777@example.com>: Recipient address rejected';
  rows.push(written(rowOf(quoting), T0 + 3_700_000));
  // A late event: it happened on day 1 and arrived on day 8.
  rows.push(written(rowOf(samplePayload('email', 'opened', { seq: 999, timestamp: Math.floor((T0 + 86_400_000 + 60_000) / 1000) })), T0 + 8 * 86_400_000));
  await withWarehouse(path, (connection) => insertRows(connection, rows));
});

const q = (sql: string) => queryWarehouse(path, sql);
const range = (fromDay: number, toDay: number) => `TIMESTAMP '${new Date(T0 + fromDay * 86_400_000).toISOString().replace('T', ' ').replace('Z', '')}', TIMESTAMP '${new Date(T0 + toDay * 86_400_000).toISOString().replace('T', ' ').replace('Z', '')}'`;

describe('the local warehouse writer', () => {
  it('lands a batch whole or not at all: one bad value rolls the batch back', async () => {
    const [before] = await q('SELECT COUNT(*) AS n FROM events');
    const good = written(rowOf(samplePayload('email', 'sent', { seq: 4242 })), T0);
    const bad = { ...written(rowOf(samplePayload('email', 'sent', { seq: 4243 })), T0), publish_time: 'not a time' };
    await expect(withWarehouse(path, (connection) => insertRows(connection, [good, bad]))).rejects.toThrow();
    const [after] = await q('SELECT COUNT(*) AS n FROM events');
    expect(after!.n).toBe(before!.n);
  });
});

describe('events_unique with the partition-aware window', () => {
  it('keeps exactly the rows the window by event_id alone kept: duplicates, replays, late events and undated rows', async () => {
    const old = await q('SELECT message_id FROM events WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY publish_time, message_id) = 1 ORDER BY message_id');
    const current = await q('SELECT message_id FROM events_unique ORDER BY message_id');
    expect(current).toEqual(old);
    const [counts] = await q('SELECT COUNT(*) AS rows, COUNT(DISTINCT event_id) AS events FROM events');
    expect(current.length).toBe(Number(counts!.events));
    expect(current.length).toBeLessThan(Number(counts!.rows));
    // Undated rows stay queryable: one per body.
    expect(await q('SELECT COUNT(*) AS n FROM events_unique WHERE event_timestamp IS NULL')).toEqual([{ n: '2' }]);
  });

  it('gives the same rows filtered through the view as computed on the filtered table', async () => {
    const filtered = await q(`SELECT message_id FROM events_unique WHERE event_timestamp >= ${range(2, 5).split(', ')[0]} AND event_timestamp < ${range(2, 5).split(', ')[1]} ORDER BY message_id`);
    const direct = await q(`SELECT message_id FROM (SELECT * FROM events WHERE event_timestamp >= ${range(2, 5).split(', ')[0]} AND event_timestamp < ${range(2, 5).split(', ')[1]}) WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY publish_time, message_id) = 1 ORDER BY message_id`);
    expect(filtered).toEqual(direct);
    expect(filtered.length).toBeGreaterThan(0);
  });
});

describe('the table functions', () => {
  it.each([[0, 10], [2, 5], [1, 2], [9, 10], [20, 30]])('events_unique_between agrees with events_unique for days [%i, %i)', async (from, to) => {
    const [start, end] = range(from, to).split(', ');
    const viaView = await q(`SELECT message_id FROM events_unique WHERE event_timestamp >= ${start} AND event_timestamp < ${end} ORDER BY message_id`);
    const viaFunction = await q(`SELECT message_id FROM events_unique_between(${start}, ${end}) ORDER BY message_id`);
    expect(viaFunction).toEqual(viaView);
  });

  it('funnel_between agrees with daily_funnel for its days', async () => {
    const [start, end] = range(2, 6).split(', ');
    const viaView = await q(`SELECT * FROM daily_funnel WHERE day >= CAST(${start} AS DATE) AND day < CAST(${end} AS DATE) ORDER BY ALL`);
    const viaFunction = await q(`SELECT * FROM funnel_between(${start}, ${end}) ORDER BY ALL`);
    expect(viaFunction).toEqual(viaView);
    expect(viaView.length).toBeGreaterThan(0);
  });
});

describe('every object on the events table reads only the days asked for (BigQuery SQL)', () => {
  it('filters on event_timestamp inside each table function, and partitions each window by it', () => {
    const resolve = bigqueryNames('p', 'd');
    for (const name of DERIVED_OBJECT_NAMES) {
      const sql = derivedSql(name, resolve).replace(/--.*$/gm, '');
      for (const window of sql.matchAll(/OVER\s*\(([^)]*)\)/g)) expect(window[1], name).toMatch(/PARTITION BY [^)]*\bevent_timestamp\b/);
      if (DERIVED_OBJECTS[name].kind === 'table_function') {
        // Either it filters the table by the range itself, or it reads a table function that does.
        expect(sql.includes('event_timestamp >= start_ts AND event_timestamp < end_ts') || /`p\.d\.\w+_between`\(start_ts, end_ts\)/.test(sql), name).toBe(true);
      }
    }
  });
});

describe('the analysts\' objects', () => {
  it('hash email and recipient with the key: the same value the handler logs, and not a plain hash', async () => {
    const rows = await q(`SELECT r.email, a.email_hash, r.recipient, a.recipient_hash FROM events r JOIN ${ANALYTICS_SCHEMA}.events a USING (message_id) WHERE r.email IS NOT NULL LIMIT 20`);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.email_hash).toBe(pseudonymize(String(row.email), KEY));
      if (row.recipient !== null) expect(row.recipient_hash).toBe(pseudonymize(String(row.recipient), KEY));
    }
    const [nulls] = await q(`SELECT COUNT(*) AS n FROM ${ANALYTICS_SCHEMA}.events WHERE email_hash IS NULL`);
    expect(Number(nulls!.n)).toBeGreaterThan(0);
  });

  it('leave no address, subject, link query or message content anywhere in what analysts read', async () => {
    const raw = await q('SELECT DISTINCT email FROM events WHERE email IS NOT NULL');
    const everything = JSON.stringify(await q(`SELECT * FROM ${ANALYTICS_SCHEMA}.events`));
    for (const { email } of raw) expect(everything).not.toContain(String(email));
    expect(everything).not.toContain('Your weekly digest');
    expect(everything).not.toContain('utm_campaign');
    const columns = (await q(`SELECT column_name FROM information_schema.columns WHERE table_schema = '${ANALYTICS_SCHEMA}' AND table_name = 'events'`)).map((c) => c.column_name);
    expect(columns).toEqual(expect.arrayContaining(['email_hash', 'recipient_hash', 'payload', 'href']));
    for (const rawColumn of ['email', 'recipient', 'subject']) expect(columns).not.toContain(rawColumn);
  });

  it('keep what analysts need: link paths, redacted failure reasons, push platforms, and preference content', async () => {
    const [click] = await q(`SELECT href FROM ${ANALYTICS_SCHEMA}.events WHERE metric = 'clicked' LIMIT 1`);
    expect(click!.href).toBe('https://example.com/offer');
    const reasons = (await q(`SELECT DISTINCT failure_message FROM ${ANALYTICS_SCHEMA}.events WHERE metric = 'bounced' ORDER BY 1`)).map((r) => r.failure_message);
    expect(reasons).toEqual(['550 5.1.1 <[email]>: Recipient address rejected', '550 5.1.1 mailbox does not exist']);
    const [push] = await q(`SELECT json_extract_string(payload, '$.data.recipients[0].device_platform') AS platform FROM ${ANALYTICS_SCHEMA}.events WHERE object_type = 'push' LIMIT 1`);
    expect(['ios', 'android']).toContain(push!.platform);
  });

  it('offer the same views and table functions as the raw dataset', async () => {
    const [start, end] = range(0, 10).split(', ');
    const raw = await q(`SELECT COUNT(*) AS n FROM events_unique_between(${start}, ${end})`);
    const analytics = await q(`SELECT COUNT(*) AS n FROM ${ANALYTICS_SCHEMA}.events_unique_between(${start}, ${end})`);
    expect(analytics).toEqual(raw);
    expect(await q(`SELECT COUNT(*) AS n FROM ${ANALYTICS_SCHEMA}.daily_funnel`)).toEqual(await q('SELECT COUNT(*) AS n FROM daily_funnel'));
  });
});
