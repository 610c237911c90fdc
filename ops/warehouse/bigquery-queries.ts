/**
 * Every query the ops CLI sends to BigQuery, as data: the SQL, its parameters and its byte cap.
 * Each one bounds its scan by event_timestamp (the partitioning column) so it reads only the days it
 * needs — a poll by event_id alone reads the whole table every time — and sets maximumBytesBilled,
 * so a mistake fails instead of billing. The one exception is an erasure, which has to reach every
 * partition; it is marked so and still capped.
 */
import { normalizeIdentifier } from '../../shared/pseudonym.js';
import { deliverabilityQuery } from '../../shared/deliverability.js';
import { EVENT_COLUMN_NAMES } from '../../shared/row.js';
import { deployedSql, type AnalystQuery } from './analyst-queries.js';
import { normalizeSql } from '../../infra/privacy.js';
import { TRACE_ATTRIBUTE } from '../../shared/trace-context.js';
import { LATE_ARRIVAL_MS, SINGLE_WORKSPACE, TRACE_COLUMNS, type PersonSelector, type ReplaySelection, type TimeRange, type WorkspaceScope } from './reader.js';

export interface BigQueryRequest {
  query: string;
  params: Record<string, unknown>;
  /** BigQuery refuses to run the job (and bills nothing) if it would process more. */
  maximumBytesBilled: string;
  /** Set on the queries that must read every partition, with the reason. */
  fullScan?: string;
  /** Validate and estimate only: BigQuery runs nothing and bills nothing. */
  dryRun?: boolean;
}

/** An address or recipient as the erasure compares it: normalized like the analysts' hashes. */
export function normalizedSelector(value: string, flag: string): string {
  const normalized = normalizeIdentifier(value);
  if (normalized === null) throw new Error(`${flag} is empty`);
  return normalized;
}

export interface WarehouseTables {
  project: string;
  dataset: string;
  /** The analysts' pseudonymized dataset (example queries, and the deliverability table function the deployed guard reads there too). */
  analyticsDataset: string;
}

/** The byte cap every ops query carries unless --max-gb says otherwise. */
export const DEFAULT_MAX_BYTES = 10 * 1024 ** 3;

export function bigqueryQueries(tables: WarehouseTables, maxBytes: number = DEFAULT_MAX_BYTES) {
  const events = `\`${tables.project}.${tables.dataset}.events\``;
  const uniqueBetween = `\`${tables.project}.${tables.dataset}.events_unique_between\``;
  const request = (query: string, params: Record<string, unknown>, fullScan?: string): BigQueryRequest => ({
    query,
    params,
    maximumBytesBilled: String(maxBytes),
    ...(fullScan ? { fullScan } : {}),
  });
  const selection = (s: ReplaySelection) => ({
    where: [s.objectType ? 'object_type = @objectType' : null, s.metric ? 'metric = @metric' : null, s.workspace ? 'workspace = @workspace' : null].filter(Boolean).join(' AND ') || 'TRUE',
    params: { from: s.range.from, to: s.range.to, ...(s.objectType ? { objectType: s.objectType } : {}), ...(s.metric ? { metric: s.metric } : {}), ...(s.workspace ? { workspace: s.workspace } : {}) },
  });
  /** --workspace: one more condition and its parameter; nothing otherwise (the text as with one workspace). */
  const onlyWorkspace = (scope: WorkspaceScope) => (scope.only === null ? { and: '', params: {} } : { and: ' AND workspace = @workspace', params: { workspace: scope.only } });
  const person = (p: PersonSelector) => {
    const terms: string[] = [];
    const params: Record<string, unknown> = {};
    const normalized = (column: string) => normalizeSql('bigquery', column);
    if (p.email) {
      terms.push(...['email', 'recipient', 'customer_id'].map((column) => `${normalized(column)} = @email`));
      params.email = normalizedSelector(p.email, '--email');
    }
    if (p.recipient) {
      terms.push(`${normalized('recipient')} = @recipient`);
      params.recipient = normalizedSelector(p.recipient, '--recipient');
    }
    if (p.cioId) {
      terms.push('cio_id = @cioId');
      params.cioId = p.cioId;
    }
    if (p.customerId) {
      terms.push('customer_id = @customerId');
      params.customerId = p.customerId;
    }
    return { where: terms.join(' OR '), params };
  };
  const ERASURE = 'an erasure must reach every partition, including rows without an event_timestamp';

  return {
    /** With several workspaces, per workspace too (one workspace's with --workspace). */
    counts: (range: TimeRange, scope: WorkspaceScope = SINGLE_WORKSPACE) => {
      const only = onlyWorkspace(scope);
      const perWorkspace = scope.several ? 'workspace, ' : '';
      const window = `(event_timestamp >= @from AND event_timestamp < @to)
   OR (event_timestamp IS NULL AND received_at >= @from AND received_at < @to)`;
      return request(
        `SELECT ${perWorkspace}object_type, metric, event_timestamp IS NULL AS undated, COUNT(*) AS rows, COUNT(DISTINCT event_id) AS events
FROM ${events}
WHERE ${only.and ? `(${window})${only.and}` : window}
GROUP BY ${perWorkspace}object_type, metric, undated
ORDER BY ${perWorkspace}rows DESC, object_type, metric`,
        { from: range.from, to: range.to, ...only.params },
      );
    },

    /** Undated (body-hash) ids are found in the __NULL__ partition, by receipt time. */
    findEvent: (eventId: string, range: TimeRange, undated: boolean, scope: WorkspaceScope = SINGLE_WORKSPACE) => {
      const only = onlyWorkspace(scope);
      return request(
        `SELECT ${TRACE_COLUMNS.join(', ')}
FROM ${events}
WHERE ${undated ? 'event_timestamp IS NULL AND received_at >= @from AND received_at < @to' : 'event_timestamp >= @from AND event_timestamp < @to'}
  AND event_id = @eventId${only.and}
ORDER BY publish_time`,
        { eventId, from: range.from, to: range.to, ...only.params },
      );
    },

    /**
     * The events a request's trace brought: the trace id is the second field of the traceparent
     * (`00-<trace id>-<span id>-<flags>`). Rows received in the range happened no earlier than
     * LATE_ARRIVAL_MS before it, so only those days' partitions (and the undated one) are read.
     */
    findByTrace: (traceId: string, range: TimeRange, scope: WorkspaceScope = SINGLE_WORKSPACE) => {
      const only = onlyWorkspace(scope);
      return request(
        `SELECT event_id, workspace, MIN(event_timestamp) AS event_timestamp, MIN(received_at) AS received_at
FROM ${events}
WHERE ((event_timestamp >= @earliest AND event_timestamp < @to) OR event_timestamp IS NULL)
  AND received_at >= @from AND received_at < @to
  AND SUBSTR(JSON_VALUE(attributes, '$.${TRACE_ATTRIBUTE}'), 4, 32) = @traceId${only.and}
GROUP BY event_id, workspace
ORDER BY received_at, event_id`,
        { traceId, from: range.from, to: range.to, earliest: new Date(range.from.getTime() - LATE_ARRIVAL_MS), ...only.params },
      );
    },

    /** A row published since `since` happened no earlier than LATE_ARRIVAL_MS before it. */
    rowsPublishedSince: (since: Date, subscriptionSuffix: string) =>
      request(
        `SELECT COUNT(*) AS n
FROM ${events}
WHERE (event_timestamp >= @earliest OR event_timestamp IS NULL)
  AND publish_time >= @since
  AND ENDS_WITH(subscription_name, @suffix)`,
        { since, earliest: new Date(since.getTime() - LATE_ARRIVAL_MS), suffix: subscriptionSuffix },
      ),

    /** The table function filters the range before its dedupe window: the range's days only. */
    countForReplay: (s: ReplaySelection) => {
      const { where, params } = selection(s);
      return request(`SELECT COUNT(*) AS n FROM ${uniqueBetween}(@from, @to) WHERE ${where}`, params);
    },

    readForReplay: (s: ReplaySelection) => {
      const { where, params } = selection(s);
      return request(`SELECT ${EVENT_COLUMN_NAMES.join(', ')} FROM ${uniqueBetween}(@from, @to) WHERE ${where} ORDER BY event_timestamp, event_id`, params);
    },

    /**
     * The deployed guard's own query: the table function filters the range before anything else;
     * --workspace keeps that workspace's sources (the function keys each source by its workspace).
     */
    deliverability: (range: TimeRange, scope: WorkspaceScope = SINGLE_WORKSPACE) => {
      const { query, params } = deliverabilityQuery(tables.project, tables.analyticsDataset, range, maxBytes);
      return scope.only === null ? request(query, params) : request(`${query} WHERE workspace = @workspace`, { ...params, workspace: scope.only });
    },

    /** With several workspaces, the count per workspace, so the operator sees where the person's rows are. */
    countPerson: (p: PersonSelector, scope: WorkspaceScope = SINGLE_WORKSPACE) => {
      const { where, params } = person(p);
      const only = onlyWorkspace(scope);
      if (!scope.several) return request(`SELECT COUNT(*) AS n FROM ${events} WHERE ${where}`, params, ERASURE);
      return request(`SELECT workspace, COUNT(*) AS n FROM ${events} WHERE (${where})${only.and} GROUP BY workspace ORDER BY workspace`, { ...params, ...only.params }, ERASURE);
    },

    /** The erasure's DELETE (one workspace's rows with --workspace); `dryRun` asks BigQuery what it would bill, for free. */
    erasePerson: (p: PersonSelector, options: { dryRun?: boolean; scope?: WorkspaceScope } = {}) => {
      const { where, params } = person(p);
      const only = onlyWorkspace(options.scope ?? SINGLE_WORKSPACE);
      const query = only.and ? `DELETE FROM ${events} WHERE (${where})${only.and}` : `DELETE FROM ${events} WHERE ${where}`;
      return { ...request(query, { ...params, ...only.params }, ERASURE), ...(options.dryRun ? { dryRun: true } : {}) };
    },

    /** The guide's text as analysts run it, on this deployment's analytics dataset. */
    analystQuery: (q: AnalystQuery) => request(deployedSql(q, tables.project, tables.analyticsDataset), {}),
  };
}
