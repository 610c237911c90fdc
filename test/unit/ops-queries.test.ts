/**
 * The SQL the ops CLI sends to a deployed project's BigQuery: each query bounds its scan by
 * event_timestamp (or reads a table function that does) and carries a byte cap.
 */
import { describe, expect, it } from 'vitest';
import { ANALYST_QUERIES } from '../../ops/warehouse/analyst-queries.js';
import { DEFAULT_MAX_BYTES, bigqueryQueries, type BigQueryRequest } from '../../ops/warehouse/bigquery-queries.js';

const tables = { project: 'acme-prod-1', dataset: 'cio_webhooks', analyticsDataset: 'cio_analytics' };
const range = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-08T00:00:00Z') };
const q = bigqueryQueries(tables);

const several = { several: true, only: null };
const acme = { several: true, only: 'acme' };

const requests: Array<[string, BigQueryRequest]> = [
  ['stats', q.counts(range)],
  ['stats, per workspace', q.counts(range, several)],
  ['stats --workspace', q.counts(range, acme)],
  ['trace --workspace', q.findEvent('01E4C4CT6YDC7Y5M7FE1GWWPQJ', range, false, acme)],
  ['trace --workspace (undated id)', q.findEvent('sha256:abc', range, true, acme)],
  ['trace --trace-id --workspace', q.findByTrace('0af7651916cd43dd8448eb211c80319c', range, acme)],
  ['replay from the warehouse --workspace: count', q.countForReplay({ range, workspace: 'acme' })],
  ['replay from the warehouse --workspace: rows', q.readForReplay({ range, metric: 'bounced', workspace: 'acme' })],
  ['deliverability --workspace', q.deliverability(range, acme)],
  ['erase, per workspace: count', q.countPerson({ email: 'a@example.com' }, several)],
  ['erase --workspace: count', q.countPerson({ email: 'a@example.com' }, acme)],
  ['erase --workspace: delete', q.erasePerson({ email: 'a@example.com', cioId: 'c1' }, { scope: acme })],
  ['trace', q.findEvent('01E4C4CT6YDC7Y5M7FE1GWWPQJ', range, false)],
  ['trace (undated id)', q.findEvent('sha256:abc', range, true)],
  ['trace --trace-id', q.findByTrace('0af7651916cd43dd8448eb211c80319c', range)],
  ['smoke', q.findEvent('smoke-1', range, false)],
  ['replay estimate', q.rowsPublishedSince(range.from, '/cio-events-bigquery')],
  ['replay from the warehouse: count', q.countForReplay({ range, objectType: 'email', metric: 'bounced' })],
  ['replay from the warehouse: rows', q.readForReplay({ range })],
  ['deliverability', q.deliverability(range)],
  ['erase: count', q.countPerson({ email: 'a@example.com' })],
  ['erase: delete', q.erasePerson({ email: 'a@example.com', cioId: 'c1' })],
  ...ANALYST_QUERIES.map((query, i): [string, BigQueryRequest] => [`the analyst guide's query ${i + 1}`, q.analystQuery(query)]),
];

describe('every query the ops CLI sends to BigQuery', () => {
  it.each(requests)('%s carries a byte cap', (_name, request) => {
    expect(request.maximumBytesBilled).toBe(String(DEFAULT_MAX_BYTES));
    expect(bigqueryQueries(tables, 2 * 1024 ** 3).counts(range).maximumBytesBilled).toBe(String(2 * 1024 ** 3));
  });

  it.each(requests.filter(([, r]) => !r.fullScan))('%s reads only the days it needs', (_name, request) => {
    const prunes =
      /event_timestamp >= @from AND event_timestamp < @to/.test(request.query) ||
      // The analyst guide's queries bound their days with literal times.
      /(event_timestamp|day) >= (TIMESTAMP|DATE)_SUB\(CURRENT_(TIMESTAMP|DATE)\(\), INTERVAL \d+ DAY\)/.test(request.query) ||
      /_between\(TIMESTAMP_SUB\(CURRENT_TIMESTAMP\(\), INTERVAL \d+ DAY\), CURRENT_TIMESTAMP\(\)\)/.test(request.query) ||
      /event_timestamp IS NULL AND received_at >= @from/.test(request.query) ||
      // The guide's query for rows without an event time reads the __NULL__ partition alone.
      /\nWHERE event_timestamp IS NULL\n/.test(request.query) ||
      /event_timestamp >= @earliest/.test(request.query) ||
      /events_unique_between`\(@from, @to\)/.test(request.query) ||
      /cio_analytics\.deliverability_between`\(@from, @to\)/.test(request.query);
    expect(prunes, request.query).toBe(true);
    // Every parameter the SQL names is bound (a missing one fails the job; an unused one is a smell).
    const named = new Set([...request.query.matchAll(/@(\w+)/g)].map((m) => m[1]));
    expect(new Set(Object.keys(request.params))).toEqual(named);
  });

  it('runs the analyst guide\'s text on the deployment\'s own analytics dataset', () => {
    for (const query of ANALYST_QUERIES) {
      const request = q.analystQuery(query);
      expect(request.query, query.question).toContain('FROM `acme-prod-1.cio_analytics`.');
      expect(request.query, query.question).not.toMatch(/[^.`]cio_analytics\./);
    }
    const funnel = ANALYST_QUERIES.find((query) => query.bigquery.includes('FROM cio_analytics.daily_funnel'))!;
    expect(q.analystQuery(funnel).query).toContain('FROM `acme-prod-1.cio_analytics`.daily_funnel');
    expect(bigqueryQueries({ ...tables, analyticsDataset: 'acme_analytics' }).analystQuery(funnel).query).toContain('`acme-prod-1.acme_analytics`.daily_funnel');
  });

  it('lets only the erasure read every partition, and says why', () => {
    expect(requests.filter(([, r]) => r.fullScan).map(([name]) => name)).toEqual(['erase, per workspace: count', 'erase --workspace: count', 'erase --workspace: delete', 'erase: count', 'erase: delete']);
    expect(q.erasePerson({ email: 'a@example.com' }).fullScan).toMatch(/must reach every partition/);
  });

  it('finds an undated event in the __NULL__ partition by receipt time, a dated one by event time', () => {
    expect(q.findEvent('sha256:abc', range, true).query).toContain('event_timestamp IS NULL AND received_at >= @from AND received_at < @to');
    expect(q.findEvent('x', range, false).query).not.toContain('IS NULL');
  });

  it('finds a request\'s events by the trace id in their traceparent attribute, over the days they can have happened on', () => {
    const request = q.findByTrace('0af7651916cd43dd8448eb211c80319c', range);
    expect(request.query).toBe(`SELECT event_id, workspace, MIN(event_timestamp) AS event_timestamp, MIN(received_at) AS received_at
FROM \`acme-prod-1.cio_webhooks.events\`
WHERE ((event_timestamp >= @earliest AND event_timestamp < @to) OR event_timestamp IS NULL)
  AND received_at >= @from AND received_at < @to
  AND SUBSTR(JSON_VALUE(attributes, '$.googclient_traceparent'), 4, 32) = @traceId
GROUP BY event_id, workspace
ORDER BY received_at, event_id`);
    // Received since `from`: happened at most LATE_ARRIVAL_MS (8 days) before it.
    expect(request.params).toEqual({ traceId: '0af7651916cd43dd8448eb211c80319c', from: range.from, to: range.to, earliest: new Date('2026-10-24T00:00:00Z') });
    expect(request.fullScan).toBeUndefined();
    expect(q.findByTrace('0af7651916cd43dd8448eb211c80319c', range, acme).query).toContain("= @traceId AND workspace = @workspace\nGROUP BY");
  });

  it('bounds the replay estimate by the latest an event can arrive after it happened', () => {
    const request = q.rowsPublishedSince(new Date('2026-11-10T00:00:00Z'), '/sub');
    expect(request.params.earliest).toEqual(new Date('2026-11-02T00:00:00Z'));
  });

  it('erases by every identifier given, an address whatever its case, in every column that can hold it', () => {
    const request = q.erasePerson({ email: ' Erase.Me@Example.COM', cioId: 'c1', customerId: 'u1', recipient: '+15550001' });
    const normalized = (column: string) => `NULLIF(TRANSLATE(TRIM(${column}, ' \\t\\n\\r'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '')`;
    expect(request.query).toBe(
      `DELETE FROM \`acme-prod-1.cio_webhooks.events\` WHERE ${normalized('email')} = @email OR ${normalized('recipient')} = @email OR ${normalized('customer_id')} = @email OR ${normalized('recipient')} = @recipient OR cio_id = @cioId OR customer_id = @customerId`,
    );
    // The parameter is normalized the same way; ids match exactly.
    expect(request.params).toEqual({ email: 'erase.me@example.com', recipient: '+15550001', cioId: 'c1', customerId: 'u1' });
    expect(q.countPerson({ email: 'Erase.Me@Example.COM' }).params).toEqual({ email: 'erase.me@example.com' });
  });

  it('asks BigQuery what the erasure\'s DELETE would bill with a dry run of that same statement', () => {
    const dry = q.erasePerson({ email: 'a@example.com' }, { dryRun: true });
    const real = q.erasePerson({ email: 'a@example.com' });
    expect(dry).toEqual({ ...real, dryRun: true });
    expect(real.dryRun).toBeUndefined();
  });

  it('with --workspace, keeps one workspace\'s rows in every question, the time bound kept whole', () => {
    for (const [name, request] of requests.filter(([n]) => n.includes('--workspace'))) {
      expect(request.query, name).toMatch(/workspace = @workspace/);
      expect(request.params.workspace, name).toBe('acme');
    }
    // The stats window is an OR: the workspace condition applies to both of its halves.
    expect(q.counts(range, acme).query).toContain(`WHERE ((event_timestamp >= @from AND event_timestamp < @to)
   OR (event_timestamp IS NULL AND received_at >= @from AND received_at < @to)) AND workspace = @workspace`);
    // The erasure's identifiers are an OR too.
    expect(q.erasePerson({ email: 'a@example.com', cioId: 'c1' }, { scope: acme }).query).toMatch(/^DELETE FROM `acme-prod-1\.cio_webhooks\.events` WHERE \(.* OR cio_id = @cioId\) AND workspace = @workspace$/);
    expect(q.erasePerson({ email: 'a@example.com' }, { dryRun: true, scope: acme })).toEqual({ ...q.erasePerson({ email: 'a@example.com' }, { scope: acme }), dryRun: true });
    expect(q.deliverability(range, acme).query).toBe('SELECT * FROM `acme-prod-1.cio_analytics.deliverability_between`(@from, @to) WHERE workspace = @workspace');
  });

  it('with several workspaces and none chosen, answers per workspace; with one, asks exactly as before', () => {
    expect(q.counts(range, several).query).toMatch(/^SELECT workspace, object_type, metric, .*GROUP BY workspace, object_type, metric, undated\nORDER BY workspace, rows DESC/s);
    expect(q.countPerson({ cioId: 'c1' }, several).query).toBe('SELECT workspace, COUNT(*) AS n FROM `acme-prod-1.cio_webhooks.events` WHERE (cio_id = @cioId) GROUP BY workspace ORDER BY workspace');
    const one = { several: false, only: null };
    expect(q.counts(range, one)).toEqual(q.counts(range));
    expect(q.countPerson({ cioId: 'c1' }, one)).toEqual(q.countPerson({ cioId: 'c1' }));
    for (const request of [q.counts(range), q.countPerson({ cioId: 'c1' }), q.deliverability(range), q.erasePerson({ cioId: 'c1' })]) expect(request.query).not.toContain('workspace');
    expect(q.readForReplay({ range }).params).not.toHaveProperty('workspace');
  });
});
