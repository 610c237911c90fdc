/**
 * The local warehouse, the stand-in for BigQuery: an embedded DuckDB file with the same `events`
 * table (schema generated from the shared row definition), the same views and table functions (SQL
 * from infra/sql), and the analysts' pseudonymized objects in a schema named like the analytics
 * dataset's role (`analytics`). The file is opened per use and closed again, so the ops CLI can read
 * it while `npm start` writes batches.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { TABLE_COLUMNS, type ColumnType } from '../../shared/row.js';
import { KEY_TABLE, analyticsEventsSql, localKeySql } from '../../infra/privacy.js';
import { duckdbDerivedStatements, duckdbNames } from '../../infra/sql.js';

const DUCKDB_TYPES: Record<ColumnType, string> = { STRING: 'VARCHAR', INT64: 'BIGINT', TIMESTAMP: 'TIMESTAMP', BOOL: 'BOOLEAN' };

/** The DuckDB schema holding the analysts' objects (BigQuery: the analytics dataset). */
export const ANALYTICS_SCHEMA = 'analytics';

/** Everything the warehouse holds; the pseudonym key is the local stack's (npm start makes one per run). */
export function warehouseDdl(pseudonymKey: Uint8Array): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS events (\n${TABLE_COLUMNS.map((c) => `  ${c.name} ${DUCKDB_TYPES[c.type]}${c.mode === 'REQUIRED' ? ' NOT NULL' : ''}`).join(',\n')}\n)`,
    // A file an earlier version wrote lacks the columns added since; they go last, as in BigQuery.
    ...TABLE_COLUMNS.filter((c) => c.mode === 'NULLABLE').map((c) => `ALTER TABLE events ADD COLUMN IF NOT EXISTS ${c.name} ${DUCKDB_TYPES[c.type]}`),
    ...duckdbDerivedStatements(),
    // Files from before the key moved out of view text still have the old view.
    'DROP VIEW IF EXISTS pseudonym_key',
    `CREATE OR REPLACE VIEW ${KEY_TABLE} AS ${localKeySql(pseudonymKey)}`,
    `CREATE SCHEMA IF NOT EXISTS ${ANALYTICS_SCHEMA}`,
    `CREATE OR REPLACE VIEW ${ANALYTICS_SCHEMA}.events AS\n${analyticsEventsSql('duckdb', duckdbNames('main'))}`,
    ...duckdbDerivedStatements(ANALYTICS_SCHEMA),
  ];
}

/** How long to keep trying when another process holds the file (the sink writes a batch at a time). */
const LOCK_WAIT_MS = 10_000;

async function open(path: string, readOnly: boolean): Promise<DuckDBInstance> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    try {
      return await DuckDBInstance.create(path, readOnly ? { access_mode: 'READ_ONLY' } : {});
    } catch (error) {
      // One process writes at a time: the sink's batches, a CLI's read, a test's check take turns.
      if (!/lock/i.test((error as Error).message) || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * Uses of one file by this process, in turn. DuckDB's file lock keeps other processes out, but it is
 * a POSIX lock, which does not separate two instances of the same process: a read-only open while
 * this process's sink was checkpointing read a half-written file ("Could not read enough bytes").
 */
const turns = new Map<string, Promise<unknown>>();

/** Runs `work` with a connection to the warehouse file, then closes it. */
export async function withWarehouse<T>(path: string, work: (connection: DuckDBConnection) => Promise<T>, options: { readOnly?: boolean } = {}): Promise<T> {
  const previous = turns.get(path) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(async () => {
    const instance = await open(path, options.readOnly ?? false);
    const connection = await instance.connect();
    try {
      return await work(connection);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
  turns.set(path, mine);
  try {
    return await mine;
  } finally {
    if (turns.get(path) === mine) turns.delete(path);
  }
}

export async function ensureWarehouse(path: string, pseudonymKey: Uint8Array): Promise<void> {
  await withWarehouse(path, async (connection) => {
    for (const statement of warehouseDdl(pseudonymKey)) await connection.run(statement);
  });
}

export type WarehouseRow = Record<string, DuckDBValue>;

/**
 * Appends a batch with DuckDB's appender (several times faster than one multi-row INSERT, which
 * matters when the sink must keep up with a soak), inside a transaction so the batch lands whole or
 * not at all. Strings go in as VARCHAR and DuckDB casts them to the column's type (TIMESTAMP).
 */
export async function insertRows(connection: DuckDBConnection, rows: WarehouseRow[]): Promise<void> {
  if (rows.length === 0) return;
  await connection.run('BEGIN TRANSACTION');
  try {
    const appender = await connection.createAppender('events');
    try {
      for (const row of rows) {
        for (const column of TABLE_COLUMNS) {
          const value = row[column.name];
          if (value === null || value === undefined) appender.appendNull();
          else if (column.type === 'INT64') appender.appendBigInt(BigInt(value as number));
          else if (column.type === 'BOOL') appender.appendBoolean(value === true);
          else appender.appendVarchar(String(value));
        }
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    await connection.run('COMMIT');
  } catch (error) {
    await connection.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Runs a read-only query and returns JSON-friendly row objects. */
export async function queryWarehouse(path: string, sql: string, values: DuckDBValue[] = []): Promise<Record<string, unknown>[]> {
  return withWarehouse(path, async (connection) => (await connection.runAndReadAll(sql, values)).getRowObjectsJson() as Record<string, unknown>[], { readOnly: true });
}
