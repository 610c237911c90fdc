/**
 * Every query docs/analysts.md shows, each in BigQuery SQL (as the guide shows it) and in the local
 * DuckDB dialect where the two differ (JSON functions, time arithmetic), in the order the guide
 * shows them: `ops queries --only N` runs the guide's Nth. They read the analysts' dataset
 * (cio_analytics; the local file's `analytics` schema), and every one bounds event_timestamp (a
 * range, or IS NULL: the __NULL__ partition alone), so it reads only the days it asks about.
 * `ops queries` runs them (the DuckDB versions with --local, the BigQuery text deployed); the tests
 * check that the guide's SQL blocks are these BigQuery texts, one for one and in order, and that
 * each answers on the local warehouse.
 */

export interface AnalystQuery {
  question: string;
  bigquery: string;
  duckdb: string;
}

/** The analysts' dataset with the default prefix, as the guide writes it. */
export const ANALYST_DATASET = 'cio_analytics';

/** Same text in both dialects, but for the time arithmetic (`{{days_ago:N}}`) and the JSON function. */
function both(question: string, sql: string): AnalystQuery {
  return {
    question,
    bigquery: sql
      .replace(/\{\{days_ago:(\d+)\}\}/g, 'TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL $1 DAY)')
      .replace(/\{\{today_minus:(\d+)\}\}/g, 'DATE_SUB(CURRENT_DATE(), INTERVAL $1 DAY)')
      .replaceAll('{{now}}', 'CURRENT_TIMESTAMP()')
      .replaceAll('{{json_value}}', 'JSON_VALUE'),
    duckdb: sql
      .replace(/\{\{days_ago:(\d+)\}\}/g, "(CAST(now() AS TIMESTAMP) - INTERVAL $1 DAY)")
      .replace(/\{\{today_minus:(\d+)\}\}/g, '(CURRENT_DATE - INTERVAL $1 DAY)')
      .replaceAll('{{now}}', 'CAST(now() AS TIMESTAMP)')
      .replaceAll('{{json_value}}', 'json_extract_string'),
  };
}

export const ANALYST_QUERIES: AnalystQuery[] = [
  both(
    'Rows without an event time (the __NULL__ partition), newest received first',
    `SELECT received_at, object_type, metric, payload
FROM cio_analytics.events
WHERE event_timestamp IS NULL
ORDER BY received_at DESC`,
  ),
  both(
    'Delivery funnel per campaign, broadcast or newsletter over the last 7 days',
    `SELECT workspace, source, source_id, object_type,
  SUM(sent) AS sent, SUM(delivered) AS delivered,
  SUM(human_opens) AS human_opens, SUM(machine_opens) AS machine_opens,
  SUM(human_clicks) AS human_clicks, SUM(machine_clicks) AS machine_clicks,
  SUM(bounced) AS bounced, SUM(unsubscribed) AS unsubscribed
FROM cio_analytics.daily_funnel
WHERE day >= {{today_minus:7}}
GROUP BY workspace, source, source_id, object_type
ORDER BY sent DESC`,
  ),
  both(
    'The same funnel for an exact range, with the table function (reads only those days, guaranteed)',
    `SELECT day, workspace, source, source_id, object_type, sent, delivered, human_opens, human_clicks, bounced
FROM cio_analytics.funnel_between({{days_ago:30}}, {{now}})
ORDER BY day DESC, sent DESC`,
  ),
  both(
    'Human and machine clicks per link over the last 30 days',
    `SELECT href,
  COUNTIF(NOT COALESCE(machine, FALSE)) AS human_clicks,
  COUNTIF(COALESCE(machine, FALSE)) AS machine_clicks
FROM cio_analytics.events_unique
WHERE event_timestamp >= {{days_ago:30}}
  AND metric = 'clicked' AND href IS NOT NULL
GROUP BY href
ORDER BY human_clicks DESC
LIMIT 20`,
  ),
  both(
    'Bounces by reason over the last 30 days, and how many people (counted by their hashed address)',
    `SELECT failure_message, COUNT(*) AS bounces, COUNT(DISTINCT email_hash) AS people
FROM cio_analytics.events_unique_between({{days_ago:30}}, {{now}})
WHERE object_type = 'email' AND metric = 'bounced'
GROUP BY failure_message
ORDER BY bounces DESC`,
  ),
  both(
    'Push deliveries by device platform over the last 7 days (a field that is only in the payload)',
    `SELECT {{json_value}}(payload, '$.data.recipients[0].device_platform') AS platform, COUNT(*) AS delivered
FROM cio_analytics.events_unique
WHERE event_timestamp >= {{days_ago:7}}
  AND object_type = 'push' AND metric = 'delivered'
GROUP BY platform`,
  ),
  both(
    'Duplicate rows written by at-least-once delivery, per day written, for events of the last 30 days',
    `SELECT CAST(publish_time AS DATE) AS written, COUNT(*) AS \`rows\`, COUNT(DISTINCT event_id) AS events,
  COUNT(*) - COUNT(DISTINCT event_id) AS duplicates
FROM cio_analytics.events
WHERE event_timestamp >= {{days_ago:30}}
GROUP BY written
ORDER BY written DESC`,
  ),
  both(
    'Complaint and bounce rates per campaign over the last day, its messages summed (what the deliverability guard judges per message)',
    `SELECT workspace, source, source_id, channel,
  SUM(sent) AS sent, SUM(delivered) AS delivered, SUM(bounced) AS bounced, SUM(spammed) AS spammed,
  SUM(spammed) / NULLIF(SUM(delivered), 0) AS complaint_rate,
  SUM(bounced) / NULLIF(SUM(sent), 0) AS bounce_rate
FROM cio_analytics.deliverability_between({{days_ago:1}}, {{now}})
GROUP BY workspace, source, source_id, channel
ORDER BY complaint_rate DESC, bounce_rate DESC`,
  ),
  both(
    "One workspace's funnel over the last 7 days (acme, with several workspaces)",
    `SELECT day, source, source_id, object_type, sent, delivered, human_opens, human_clicks
FROM cio_analytics.funnel_between({{days_ago:7}}, {{now}})
WHERE workspace = 'acme'
ORDER BY day DESC, sent DESC`,
  ),
];

/** The DuckDB text of a query: the analysts' dataset becomes the local file's schema. */
export function localSql(query: AnalystQuery, schema: string): string {
  return query.duckdb.replaceAll(`${ANALYST_DATASET}.`, `${schema}.`).replaceAll('`', '"');
}

/** The BigQuery text of a query for a deployment: the guide's dataset becomes the project's analytics dataset. */
export function deployedSql(query: AnalystQuery, project: string, analyticsDataset: string): string {
  return query.bigquery.replaceAll(`${ANALYST_DATASET}.`, `\`${project}.${analyticsDataset}\`.`);
}
