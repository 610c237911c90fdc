/**
 * The warehouse's derived objects, one definition for BigQuery (infra/) and the local DuckDB file
 * (scripts/local/): the dedupe view, the daily funnel, their table-function twins that take a time
 * range, and the deliverability counts the guard judges. Their SQL lives in infra/sql/*.sql, readable on its own; `{{events}}`-style
 * placeholders name the objects they read, resolved per dialect and per dataset (the raw one, or
 * the analysts' pseudonymized one, which holds the same objects over its own `events` view).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DELIVERABILITY_FUNCTION } from '../shared/deliverability.js';

export type Dialect = 'bigquery' | 'duckdb';

/** The arguments every table function takes: event times in [start_ts, end_ts). */
export const TABLE_FUNCTION_ARGUMENTS = [
  { name: 'start_ts', type: 'TIMESTAMP' },
  { name: 'end_ts', type: 'TIMESTAMP' },
] as const;

interface DerivedObject {
  kind: 'view' | 'table_function';
  description: string;
  file: string;
  /** Placeholder → the object it stands for; `(args)` appends the table function's arguments. */
  reads: Record<string, { object: string; call?: boolean }>;
}

/** In creation order: each object reads only `events` and the objects above it. */
export const DERIVED_OBJECTS = {
  events_unique: {
    kind: 'view',
    description: 'One row per event (the first copy written); filter on event_timestamp to read only those days',
    file: 'events_unique.sql',
    reads: { events: { object: 'events' } },
  },
  daily_funnel: {
    kind: 'view',
    description: 'Daily funnel per campaign/broadcast/newsletter, human vs machine opens and clicks',
    file: 'daily_funnel.sql',
    reads: { source: { object: 'events_unique' } },
  },
  events_unique_between: {
    kind: 'table_function',
    description: 'events_unique for event times in [start_ts, end_ts): reads only those days, guaranteed',
    file: 'events_unique_between.sql',
    reads: { events: { object: 'events' } },
  },
  funnel_between: {
    kind: 'table_function',
    description: 'daily_funnel for event times in [start_ts, end_ts): reads only those days, guaranteed',
    file: 'daily_funnel.sql',
    reads: { source: { object: 'events_unique_between', call: true } },
  },
  [DELIVERABILITY_FUNCTION]: {
    kind: 'table_function',
    description: 'Sent, delivered, bounced, spammed, unsubscribed and their rates per message source and channel, for event times in [start_ts, end_ts): what the deliverability guard judges',
    file: 'deliverability_between.sql',
    reads: { unique_events: { object: 'events_unique_between', call: true } },
  },
} as const satisfies Record<string, DerivedObject>;

export type DerivedObjectName = keyof typeof DERIVED_OBJECTS;
export const DERIVED_OBJECT_NAMES = Object.keys(DERIVED_OBJECTS) as DerivedObjectName[];

const SQL_DIR = join(dirname(fileURLToPath(import.meta.url)), 'sql');

/** How an object name is written in a query: `project.dataset.name` in BigQuery, a bare or schema-qualified name in DuckDB. */
export type NameResolver = (object: string) => string;

export function bigqueryNames(project: string, dataset: string): NameResolver {
  return (object) => `\`${project}.${dataset}.${object}\``;
}

export function duckdbNames(schema?: string): NameResolver {
  return (object) => (schema ? `${schema}.${object}` : object);
}

/** The body of a derived object: a view's query or a table function's definition. */
export function derivedSql(name: DerivedObjectName, resolve: NameResolver): string {
  const definition: DerivedObject = DERIVED_OBJECTS[name];
  const text = readFileSync(join(SQL_DIR, definition.file), 'utf8');
  return text.replace(/\{\{(\w+)\}\}/g, (match, key: string) => {
    const read = definition.reads[key];
    if (!read) throw new Error(`${definition.file}: ${match} is not one of ${Object.keys(definition.reads).join(', ')}`);
    const args = TABLE_FUNCTION_ARGUMENTS.map((a) => a.name).join(', ');
    return read.call ? `${resolve(read.object)}(${args})` : resolve(read.object);
  });
}

/** DuckDB statements creating every derived object (table functions are table macros there). */
export function duckdbDerivedStatements(schema?: string): string[] {
  const resolve = duckdbNames(schema);
  return DERIVED_OBJECT_NAMES.map((name) => {
    const body = derivedSql(name, resolve);
    return DERIVED_OBJECTS[name].kind === 'view'
      ? `CREATE OR REPLACE VIEW ${resolve(name)} AS\n${body}`
      : `CREATE OR REPLACE MACRO ${resolve(name)}(${TABLE_FUNCTION_ARGUMENTS.map((a) => a.name).join(', ')}) AS TABLE\n${body}`;
  });
}
