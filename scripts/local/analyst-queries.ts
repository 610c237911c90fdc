/**
 * The analyst guide's example questions, each in BigQuery SQL (as docs/analysts.md shows it) and in
 * the local DuckDB dialect where the two differ (JSON functions, time arithmetic). The tests run the
 * DuckDB versions against the local warehouse and check that the guide shows the BigQuery versions.
 * In BigQuery, qualify the names with your dataset (e.g. cio_webhooks.events_unique).
 */
export interface AnalystQuery {
  question: string;
  bigquery: string;
  duckdb: string;
}

const same = (question: string, sql: string): AnalystQuery => ({ question, bigquery: sql, duckdb: sql });

export const ANALYST_QUERIES: AnalystQuery[] = [
  {
    question: 'Delivery funnel per campaign, broadcast or newsletter over the last 7 days',
    bigquery: `SELECT source, source_id, object_type,
  SUM(sent) AS sent, SUM(delivered) AS delivered,
  SUM(human_opens) AS human_opens, SUM(machine_opens) AS machine_opens,
  SUM(human_clicks) AS human_clicks, SUM(machine_clicks) AS machine_clicks,
  SUM(bounced) AS bounced, SUM(unsubscribed) AS unsubscribed
FROM cio_webhooks.daily_funnel
WHERE day >= DATE_SUB(CURRENT_DATE(), INTERVAL 7 DAY)
GROUP BY source, source_id, object_type
ORDER BY sent DESC`,
    duckdb: `SELECT source, source_id, object_type,
  SUM(sent) AS sent, SUM(delivered) AS delivered,
  SUM(human_opens) AS human_opens, SUM(machine_opens) AS machine_opens,
  SUM(human_clicks) AS human_clicks, SUM(machine_clicks) AS machine_clicks,
  SUM(bounced) AS bounced, SUM(unsubscribed) AS unsubscribed
FROM daily_funnel
WHERE day >= CURRENT_DATE - INTERVAL 7 DAY
GROUP BY source, source_id, object_type
ORDER BY sent DESC`,
  },
  same(
    'Human and machine clicks per link',
    `SELECT href,
  COUNTIF(NOT COALESCE(machine, FALSE)) AS human_clicks,
  COUNTIF(COALESCE(machine, FALSE)) AS machine_clicks
FROM cio_webhooks.events_unique
WHERE metric = 'clicked' AND href IS NOT NULL
GROUP BY href
ORDER BY human_clicks DESC
LIMIT 20`,
  ),
  same(
    'Bounces by reason',
    `SELECT failure_message, COUNT(*) AS bounces, COUNT(DISTINCT email) AS people
FROM cio_webhooks.events_unique
WHERE object_type = 'email' AND metric = 'bounced'
GROUP BY failure_message
ORDER BY bounces DESC`,
  ),
  {
    question: 'Push deliveries by device platform (a field that is only in the raw payload)',
    bigquery: `SELECT JSON_VALUE(payload, '$.data.recipients[0].device_platform') AS platform, COUNT(*) AS delivered
FROM cio_webhooks.events_unique
WHERE object_type = 'push' AND metric = 'delivered'
GROUP BY platform`,
    duckdb: `SELECT json_extract_string(payload, '$.data.recipients[0].device_platform') AS platform, COUNT(*) AS delivered
FROM events_unique
WHERE object_type = 'push' AND metric = 'delivered'
GROUP BY platform`,
  },
  same(
    'Duplicate rows written by at-least-once delivery, per day',
    `SELECT CAST(publish_time AS DATE) AS day, COUNT(*) AS rows, COUNT(DISTINCT event_id) AS events,
  COUNT(*) - COUNT(DISTINCT event_id) AS duplicates
FROM cio_webhooks.events
GROUP BY day
ORDER BY day DESC`,
  ),
];

/** The DuckDB text of a query: the dataset qualifier dropped (the local file has the bare names). */
export function localSql(query: AnalystQuery): string {
  return query.duckdb.replaceAll('cio_webhooks.', '');
}
