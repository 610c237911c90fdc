/**
 * The warehouse reader for --local: the same questions on the local stack's DuckDB file, which
 * holds the same table, views and table functions as BigQuery. Opened per question and closed
 * again, so it never holds the file while `npm start` writes batches.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { shownPath } from '../cli.js';
import { DELIVERABILITY_FUNCTION, toDeliverabilityRow } from '../../shared/deliverability.js';
import { EVENT_COLUMN_NAMES } from '../../shared/row.js';
import { ANALYTICS_SCHEMA, queryWarehouse, withWarehouse } from '../../scripts/local/local-warehouse.js';
import { localSql } from './analyst-queries.js';
import { normalizeSql } from '../../infra/privacy.js';
import { normalizedSelector } from './bigquery-queries.js';
import { TRACE_ATTRIBUTE } from '../../shared/trace-context.js';
import {
  LATE_ARRIVAL_MS,
  SINGLE_WORKSPACE,
  TRACE_COLUMNS,
  isBodyHashId,
  splitUndated,
  toEventRow,
  toPersonRows,
  toTraceMatch,
  toTraceRow,
  type PersonSelector,
  type ReplaySelection,
  type WarehouseReader,
  type WorkspaceScope,
} from './reader.js';

const iso = (d: Date) => d.toISOString();

function selection(s: ReplaySelection): { where: string; values: DuckDBValue[] } {
  const values: DuckDBValue[] = [iso(s.range.from), iso(s.range.to)];
  const terms: string[] = [];
  if (s.objectType) terms.push(`object_type = $${values.push(s.objectType)}`);
  if (s.metric) terms.push(`metric = $${values.push(s.metric)}`);
  if (s.workspace) terms.push(`workspace = $${values.push(s.workspace)}`);
  return { where: terms.join(' AND ') || 'TRUE', values };
}

/** --workspace: one more condition on the values so far; nothing otherwise (as bigquery-queries.ts). */
function onlyWorkspace(scope: WorkspaceScope, values: DuckDBValue[]): string {
  return scope.only === null ? '' : ` AND workspace = $${values.push(scope.only)}`;
}

/** The same match as BigQuery's (bigquery-queries.ts): addresses normalized as the hashes are. */
function person(p: PersonSelector): { where: string; values: DuckDBValue[] } {
  const values: DuckDBValue[] = [];
  const terms: string[] = [];
  const normalized = (column: string) => normalizeSql('duckdb', column);
  if (p.email) {
    const at = values.push(normalizedSelector(p.email, '--email'));
    terms.push(...['email', 'recipient', 'customer_id'].map((column) => `${normalized(column)} = $${at}`));
  }
  if (p.recipient) terms.push(`${normalized('recipient')} = $${values.push(normalizedSelector(p.recipient, '--recipient'))}`);
  if (p.cioId) terms.push(`cio_id = $${values.push(p.cioId)}`);
  if (p.customerId) terms.push(`customer_id = $${values.push(p.customerId)}`);
  return { where: terms.join(' OR '), values };
}

export function duckdbReader(path: string): WarehouseReader {
  const count = async (sql: string, values: DuckDBValue[]) => Number((await queryWarehouse(path, sql, values))[0]?.n ?? 0);
  return {
    describe: `local warehouse ${shownPath(path)}`,
    async counts(range, scope = SINGLE_WORKSPACE) {
      const values: DuckDBValue[] = [iso(range.from), iso(range.to)];
      const perWorkspace = scope.several ? 'workspace, ' : '';
      const rows = await queryWarehouse(
        path,
        `SELECT ${perWorkspace}object_type, metric, event_timestamp IS NULL AS undated, COUNT(*) AS rows, COUNT(DISTINCT event_id) AS events
FROM events
WHERE ((event_timestamp >= $1 AND event_timestamp < $2) OR (event_timestamp IS NULL AND received_at >= $1 AND received_at < $2))${onlyWorkspace(scope, values)}
GROUP BY ALL ORDER BY ${perWorkspace}rows DESC, object_type, metric`,
        values,
      );
      return splitUndated(rows);
    },
    async findEvent(eventId, range, scope = SINGLE_WORKSPACE) {
      const values: DuckDBValue[] = [eventId, iso(range.from), iso(range.to)];
      const window = isBodyHashId(eventId) ? 'event_timestamp IS NULL AND received_at >= $2 AND received_at < $3' : 'event_timestamp >= $2 AND event_timestamp < $3';
      const rows = await queryWarehouse(path, `SELECT ${TRACE_COLUMNS.join(', ')} FROM events WHERE event_id = $1 AND ${window}${onlyWorkspace(scope, values)} ORDER BY publish_time`, values);
      return rows.map(toTraceRow);
    },
    async findByTrace(traceId, range, scope = SINGLE_WORKSPACE) {
      // As bigquery-queries.ts; json_extract_string is DuckDB's JSON_VALUE (its json_value keeps the quotes).
      const values: DuckDBValue[] = [traceId, iso(range.from), iso(range.to), iso(new Date(range.from.getTime() - LATE_ARRIVAL_MS))];
      const rows = await queryWarehouse(
        path,
        `SELECT event_id, workspace, MIN(event_timestamp) AS event_timestamp, MIN(received_at) AS received_at FROM events
WHERE ((event_timestamp >= $4 AND event_timestamp < $3) OR event_timestamp IS NULL) AND received_at >= $2 AND received_at < $3
  AND substr(json_extract_string(attributes, '$.${TRACE_ATTRIBUTE}'), 4, 32) = $1${onlyWorkspace(scope, values)}
GROUP BY event_id, workspace ORDER BY MIN(received_at), event_id`,
        values,
      );
      return rows.map(toTraceMatch);
    },
    rowsPublishedSince: (since, subscription) =>
      count('SELECT COUNT(*) AS n FROM events WHERE (event_timestamp >= $1 OR event_timestamp IS NULL) AND publish_time >= $2 AND subscription_name LIKE $3', [
        iso(new Date(since.getTime() - LATE_ARRIVAL_MS)),
        iso(since),
        `%/${subscription}`,
      ]),
    countForReplay(s) {
      const { where, values } = selection(s);
      return count(`SELECT COUNT(*) AS n FROM events_unique_between(CAST($1 AS TIMESTAMP), CAST($2 AS TIMESTAMP)) WHERE ${where}`, values);
    },
    async readForReplay(s, pageSize, onPage) {
      const { where, values } = selection(s);
      let total = 0;
      for (let offset = 0; ; offset += pageSize) {
        const page = await queryWarehouse(
          path,
          `SELECT ${EVENT_COLUMN_NAMES.join(', ')} FROM events_unique_between(CAST($1 AS TIMESTAMP), CAST($2 AS TIMESTAMP)) WHERE ${where} ORDER BY event_timestamp, event_id LIMIT ${pageSize} OFFSET ${offset}`,
          values,
        );
        if (page.length > 0) await onPage(page.map(toEventRow));
        total += page.length;
        if (page.length < pageSize) return total;
      }
    },
    // The local file bills nothing.
    estimateErasure: async () => null,
    async deliverability(range, scope = SINGLE_WORKSPACE) {
      // The analysts' schema, as the deployed guard reads the analytics dataset.
      const values: DuckDBValue[] = [iso(range.from), iso(range.to)];
      const only = scope.only === null ? '' : ` WHERE workspace = $${values.push(scope.only)}`;
      const rows = await queryWarehouse(path, `SELECT * FROM ${ANALYTICS_SCHEMA}.${DELIVERABILITY_FUNCTION}(CAST($1 AS TIMESTAMP), CAST($2 AS TIMESTAMP))${only}`, values);
      return rows.map(toDeliverabilityRow);
    },
    async countPerson(p, scope = SINGLE_WORKSPACE) {
      const { where, values } = person(p);
      if (!scope.several) return toPersonRows(await queryWarehouse(path, `SELECT COUNT(*) AS n FROM events WHERE ${where}`, values));
      return toPersonRows(await queryWarehouse(path, `SELECT workspace, COUNT(*) AS n FROM events WHERE (${where})${onlyWorkspace(scope, values)} GROUP BY workspace ORDER BY workspace`, values));
    },
    async erasePerson(p, scope = SINGLE_WORKSPACE) {
      const { where, values } = person(p);
      const only = onlyWorkspace(scope, values);
      return withWarehouse(path, async (connection) => {
        const result = await connection.run(only ? `DELETE FROM events WHERE (${where})${only}` : `DELETE FROM events WHERE ${where}`, values);
        return Number(result.rowsChanged);
      });
    },
    analystQuery: (query) => queryWarehouse(path, localSql(query, ANALYTICS_SCHEMA)),
    async close() {},
  };
}
