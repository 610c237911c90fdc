/**
 * The questions the ops commands ask the warehouse, one interface answered by BigQuery (deployed)
 * or the local DuckDB file (--local), and what comes back, as typed values.
 */
import { DEFAULT_SIGNATURE_MAX_AGE_SECONDS } from '../../shared/config.js';
import type { DeliverabilityRow } from '../../shared/deliverability.js';
import { EVENT_COLUMNS, type EventRow } from '../../shared/row.js';
import type { AnalystQuery } from './analyst-queries.js';

export interface TimeRange {
  from: Date;
  to: Date;
}

/**
 * Which workspace's rows a question is about. With one workspace (`several` false) every query is
 * what it was before workspaces existed; with several, answers name each row's workspace, and
 * `only` (ops --workspace) keeps one workspace's rows.
 */
export interface WorkspaceScope {
  several: boolean;
  only: string | null;
}

/** One workspace, as before CIO_WORKSPACES existed. */
export const SINGLE_WORKSPACE: WorkspaceScope = { several: false, only: null };

export interface Counts {
  /** The rows' workspace (null with one workspace). */
  workspace: string | null;
  object_type: string | null;
  metric: string | null;
  rows: number;
  events: number;
}

/** The columns that matter when following one event. */
export interface TraceRow {
  message_id: string | null;
  subscription_name: string | null;
  publish_time: string | null;
  received_at: string | null;
  event_timestamp: string | null;
  object_type: string | null;
  metric: string | null;
  customer_id: string | null;
  cio_id: string | null;
  delivery_id: string | null;
  /** The workspace whose URL received it (null with one workspace). */
  workspace: string | null;
  /** The message's attributes as JSON (the subscription's write_metadata column). */
  attributes: string | null;
}

/** An event whose message carried a trace (`ops trace --trace-id`): enough to trace it as usual. */
export interface TraceMatch {
  event_id: string;
  workspace: string | null;
  /** The earliest of its rows' event times (null: undated) and receipt times. */
  event_timestamp: string | null;
  received_at: string | null;
}

export interface ReplaySelection {
  range: TimeRange;
  objectType?: string;
  metric?: string;
  /** Only this workspace's events (ops replay --workspace). */
  workspace?: string;
}

/**
 * One person, by any of the identifiers the events table holds. `email` matches the email,
 * recipient and customer_id columns, `recipient` the recipient column, both after the
 * normalization the analysts' hashes use (trimmed, ASCII lower-cased): `Erase.Me@X` is
 * `erase.me@x`. `cioId` and `customerId` match exactly.
 */
export interface PersonSelector {
  email?: string;
  cioId?: string;
  customerId?: string;
  recipient?: string;
}

/** How many of the events table's rows hold a person, in one workspace (null: with one workspace). */
export interface PersonRows {
  workspace: string | null;
  rows: number;
}

/** What the DELETE would bill, by BigQuery's dry run, and the cap it runs under. */
export interface ErasureEstimate {
  bytes: number;
  maxBytes: number;
}

export interface WarehouseReader {
  describe: string;
  /**
   * Rows and distinct events per object type and metric (and, with several workspaces, workspace),
   * by event time; undated rows by receipt time.
   */
  counts(range: TimeRange, scope?: WorkspaceScope): Promise<{ counts: Counts[]; undated: { rows: number; events: number } }>;
  /** Every row of one event whose event time (or, undated, receipt time) is in the range (of scope.only's workspace). */
  findEvent(eventId: string, range: TimeRange, scope?: WorkspaceScope): Promise<TraceRow[]>;
  /**
   * The events whose message carried trace `traceId` (the `googclient_traceparent` attribute the
   * receiver sets from the request's trace), among the rows received in the range: the partitions
   * of events that can have arrived then (LATE_ARRIVAL_MS before it), and the undated ones.
   */
  findByTrace(traceId: string, range: TimeRange, scope?: WorkspaceScope): Promise<TraceMatch[]>;
  /** Rows one subscription wrote since a time: what a seek of it back to that time writes again (at least). */
  rowsPublishedSince(since: Date, subscription: string): Promise<number>;
  countForReplay(selection: ReplaySelection): Promise<number>;
  /** Distinct events in the selection, in event-time order, a page at a time. */
  readForReplay(selection: ReplaySelection, pageSize: number, onPage: (rows: EventRow[]) => Promise<void>): Promise<number>;
  /** BigQuery's dry-run estimate of the erasure's DELETE (free); null where nothing is billed (locally). */
  estimateErasure(person: PersonSelector, scope?: WorkspaceScope): Promise<ErasureEstimate | null>;
  /** deliverability_between over the range, from the analysts' dataset (schema locally); scope.only keeps one workspace's sources. */
  deliverability(range: TimeRange, scope?: WorkspaceScope): Promise<DeliverabilityRow[]>;
  /**
   * Rows holding the person (every partition: an erasure has to reach them all), per workspace
   * with several (one entry, workspace null, with one); only scope.only's with --workspace.
   */
  countPerson(person: PersonSelector, scope?: WorkspaceScope): Promise<PersonRows[]>;
  /** Deletes them (only scope.only's workspace's with --workspace); returns how many went. */
  erasePerson(person: PersonSelector, scope?: WorkspaceScope): Promise<number>;
  /** One of the analyst guide's example queries, on the analysts' objects; its rows as JSON-friendly values. */
  analystQuery(query: AnalystQuery): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

const toIso = (value: unknown): string | null => {
  if (value === null || value === undefined) return null;
  const text = typeof value === 'object' && 'value' in (value as object) ? String((value as { value: unknown }).value) : String(value);
  // DuckDB writes "2026-11-01 01:00:00", BigQuery "2026-11-01T01:00:00.000Z": both mean UTC.
  const ms = Date.parse(/[zZ]|[+-]\d\d(:?\d\d)?$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
};

/** A warehouse record (either engine's value types) as the event row the receiver published. */
export function toEventRow(record: Record<string, unknown>): EventRow {
  const row: Record<string, unknown> = {};
  for (const column of EVENT_COLUMNS) {
    const value = record[column.name];
    if (value === null || value === undefined) row[column.name] = null;
    else if (column.type === 'TIMESTAMP') row[column.name] = toIso(value);
    else if (column.type === 'INT64') row[column.name] = Number(typeof value === 'object' && 'value' in (value as object) ? (value as { value: unknown }).value : value);
    else if (column.type === 'BOOL') row[column.name] = value === true || value === 'true';
    else row[column.name] = String(value);
  }
  return row as EventRow;
}

/**
 * The counts query's rows (either engine: one per object type, metric and whether the event time is
 * missing) as the reader's answer: dated groups kept apart, undated ones summed into one.
 */
export function splitUndated(rows: ReadonlyArray<Record<string, unknown>>): { counts: Counts[]; undated: { rows: number; events: number } } {
  const undated = rows.filter((r) => r.undated === true);
  return {
    counts: rows.filter((r) => r.undated !== true).map((r) => ({ workspace: (r.workspace as string | null | undefined) ?? null, object_type: (r.object_type as string | null) ?? null, metric: (r.metric as string | null) ?? null, rows: Number(r.rows), events: Number(r.events) })),
    undated: { rows: undated.reduce((n, r) => n + Number(r.rows), 0), events: undated.reduce((n, r) => n + Number(r.events), 0) },
  };
}

export function toTraceRow(record: Record<string, unknown>): TraceRow {
  const text = (key: string) => (record[key] === null || record[key] === undefined ? null : String(record[key]));
  return {
    message_id: text('message_id'),
    subscription_name: text('subscription_name'),
    publish_time: toIso(record.publish_time),
    received_at: toIso(record.received_at),
    event_timestamp: toIso(record.event_timestamp),
    object_type: text('object_type'),
    metric: text('metric'),
    customer_id: text('customer_id'),
    cio_id: text('cio_id'),
    delivery_id: text('delivery_id'),
    workspace: text('workspace'),
    attributes: text('attributes'),
  };
}

export function toTraceMatch(record: Record<string, unknown>): TraceMatch {
  return { event_id: String(record.event_id), workspace: record.workspace === null || record.workspace === undefined ? null : String(record.workspace), event_timestamp: toIso(record.event_timestamp), received_at: toIso(record.received_at) };
}

export const TRACE_COLUMNS = ['message_id', 'subscription_name', 'publish_time', 'received_at', 'event_timestamp', 'object_type', 'metric', 'customer_id', 'cio_id', 'delivery_id', 'workspace', 'attributes'] as const;

/** The person's rows as the count query answered them (either engine: `workspace` and `n` per group). */
export function toPersonRows(rows: ReadonlyArray<Record<string, unknown>>): PersonRows[] {
  return rows.map((r) => ({ workspace: (r.workspace as string | null | undefined) ?? null, rows: Number(r.n ?? 0) })).filter((r) => r.rows > 0);
}

/** An id the receiver derived from a body with no event_id (`sha256:…`): such rows are undated. */
export const isBodyHashId = (eventId: string) => eventId.startsWith('sha256:');

/**
 * Customer.io retries a delivery for up to 7 days: an event published at T happened after T − this
 * (the receiver's default signature window, which is that retry period plus a day).
 */
export const LATE_ARRIVAL_MS = DEFAULT_SIGNATURE_MAX_AGE_SECONDS * 1000;
