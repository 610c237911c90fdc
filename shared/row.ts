/**
 * The event row: the one data contract between the receiver, the Pub/Sub message, the BigQuery
 * `events` table and the local warehouse. Everything else (table schema, TypeScript type, tests)
 * derives from EVENT_COLUMNS; change a column here and the infra and the tests follow.
 */

export type ColumnType = 'STRING' | 'INT64' | 'TIMESTAMP' | 'BOOL';
export type ColumnMode = 'REQUIRED' | 'NULLABLE';

export interface ColumnDefinition {
  readonly name: string;
  readonly type: ColumnType;
  readonly mode: ColumnMode;
  readonly description: string;
}

import { TRACE_ATTRIBUTE, formatTraceparent, type TraceContext } from './trace-context.js';

/** Bumped when a column changes meaning or type; published as the `schema_version` attribute. */
export const SCHEMA_VERSION = '1';

const id = <N extends string>(name: N, description: string) =>
  ({ name, type: 'INT64', mode: 'NULLABLE', description }) as const;
const text = <N extends string>(name: N, description: string) =>
  ({ name, type: 'STRING', mode: 'NULLABLE', description }) as const;
const flag = <N extends string>(name: N, description: string) =>
  ({ name, type: 'BOOL', mode: 'NULLABLE', description }) as const;

export const EVENT_COLUMNS = [
  {
    name: 'event_id', type: 'STRING', mode: 'REQUIRED',
    description: 'Customer.io event_id; "sha256:<hex>" of the raw body when the payload has none; "event_id-sha256:<hex>" of the id when it is over 256 bytes',
  },
  text('object_type', 'customer, email, push, sms, in_app, slack, webhook, whatsapp, or a newer value'),
  text('metric', 'sent, delivered, opened, clicked, bounced, ... (unknown values are kept)'),
  {
    name: 'event_timestamp', type: 'TIMESTAMP', mode: 'NULLABLE',
    description: 'When the event happened (payload timestamp); partitioning column',
  },
  { name: 'received_at', type: 'TIMESTAMP', mode: 'NULLABLE', description: 'Receiver clock at acceptance' },
  text('customer_id', 'data.identifiers.id, else the deprecated data.customer_id'),
  text('cio_id', 'data.identifiers.cio_id'),
  text('email', 'data.identifiers.email, else data.email_address'),
  text('recipient', 'Email address, phone number, channel or URL the message went to'),
  text('delivery_id', 'Customer.io delivery id'),
  text('journey_id', 'Campaign journey id'),
  text('trigger_event_id', 'Event that triggered the campaign'),
  id('campaign_id', 'Campaign id'),
  id('action_id', 'Campaign or broadcast action id'),
  id('parent_action_id', 'Parent action id'),
  id('broadcast_id', 'API-triggered broadcast id'),
  id('trigger_id', 'Broadcast trigger id'),
  id('newsletter_id', 'Newsletter id'),
  id('content_id', 'Newsletter content (variant) id'),
  id('transactional_message_id', 'Transactional message id'),
  id('link_id', 'Clicked link id'),
  text('subject', 'Message subject'),
  text('href', 'Clicked URL'),
  text('failure_message', 'Reason given for bounced, dropped, failed, undeliverable, attempted'),
  flag('machine', 'Click made by a machine (link scanner)'),
  flag('proxied', 'Open through a proxy (e.g. Apple Mail Privacy Protection)'),
  flag('prefetched', 'Open by prefetching, not by a person'),
  flag('synthetic', 'Open inferred from a click'),
  text('payload', 'The raw request body as UTF-8; query it with JSON functions'),
  // Columns added after the first release go last, here and in the table (below).
  text('workspace', 'The Customer.io workspace whose URL received the webhook (CIO_WORKSPACES); null with one workspace'),
] as const satisfies readonly ColumnDefinition[];

/**
 * Columns added after tables were first created. BigQuery adds a column to an existing table in
 * place only as a NULLABLE one, and the table keeps them after the metadata columns, in the order
 * they were added: so an upgrade changes no existing column and its position.
 */
const ADDED_COLUMNS: readonly string[] = ['workspace'];

/** Columns the BigQuery subscription adds with write_metadata (not written by the receiver). */
export const METADATA_COLUMNS = [
  text('subscription_name', 'Pub/Sub subscription that wrote the row'),
  text('message_id', 'Pub/Sub message id'),
  { name: 'publish_time', type: 'TIMESTAMP', mode: 'NULLABLE', description: 'Pub/Sub publish time' },
  text('attributes', 'Pub/Sub message attributes as JSON'),
] as const satisfies readonly ColumnDefinition[];

/** Every column of the `events` table, in table order: the first release's, the metadata, then those added since. */
export const TABLE_COLUMNS: readonly ColumnDefinition[] = [
  ...EVENT_COLUMNS.filter((c) => !ADDED_COLUMNS.includes(c.name)),
  ...METADATA_COLUMNS,
  ...ADDED_COLUMNS.map((name) => EVENT_COLUMNS.find((c) => c.name === name)!),
];

type EventColumn = (typeof EVENT_COLUMNS)[number];
type ValueOf<T extends ColumnType> = T extends 'INT64' ? number : T extends 'BOOL' ? boolean : string;

/** The row as published: TIMESTAMP values are RFC 3339 strings, INT64 values safe JS integers. */
export type EventRow = {
  [C in EventColumn as C['name']]: C['mode'] extends 'REQUIRED'
    ? ValueOf<C['type']>
    : ValueOf<C['type']> | null;
};

export type EventColumnName = keyof EventRow;

export const EVENT_COLUMN_NAMES = EVENT_COLUMNS.map((c) => c.name) as EventColumnName[];

/** Columns used by the table's clustering, in order. */
export const CLUSTERING_COLUMNS: readonly EventColumnName[] = ['object_type', 'metric', 'customer_id'];
export const PARTITION_COLUMN: EventColumnName = 'event_timestamp';

/** Pub/Sub message attributes that accompany every row. */
export interface EventAttributes {
  event_id: string;
  object_type: string;
  metric: string;
  schema_version: string;
  [key: string]: string;
}

/** With the receiving request's trace, the message carries it to the handler (shared/trace-context.ts). */
export function attributesOf(row: EventRow, trace?: TraceContext): EventAttributes {
  return {
    event_id: row.event_id,
    object_type: row.object_type ?? '',
    metric: row.metric ?? '',
    schema_version: SCHEMA_VERSION,
    // Only where there are several: a filter or a subscriber may select one workspace's events.
    ...(row.workspace ? { workspace: row.workspace } : {}),
    ...(trace ? { [TRACE_ATTRIBUTE]: formatTraceparent(trace) } : {}),
  };
}
