/**
 * The local warehouse: an embedded DuckDB file with the same `events` table (schema generated from
 * the shared row definition) and the same views as BigQuery (SQL from infra/sql). The file is
 * opened per use and closed again, so the ops CLI can read it while `npm start` writes batches.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { TABLE_COLUMNS, type ColumnType } from '../../shared/row.js';
import { VIEW_FILES, viewSql, type ViewName } from '../../infra/sql.js';

const DUCKDB_TYPES: Record<ColumnType, string> = { STRING: 'VARCHAR', INT64: 'BIGINT', TIMESTAMP: 'TIMESTAMP', BOOL: 'BOOLEAN' };

export const WAREHOUSE_DDL = [
  `CREATE TABLE IF NOT EXISTS events (\n${TABLE_COLUMNS.map((c) => `  ${c.name} ${DUCKDB_TYPES[c.type]}${c.mode === 'REQUIRED' ? ' NOT NULL' : ''}`).join(',\n')}\n)`,
  ...(Object.keys(VIEW_FILES) as ViewName[]).map((view) => `CREATE OR REPLACE VIEW ${view} AS\n${viewSql(view, { events: 'events', events_unique: 'events_unique' })}`),
];

/** Runs `work` with a connection to the warehouse file, then closes it. */
export async function withWarehouse<T>(path: string, work: (connection: DuckDBConnection) => Promise<T>, options: { readOnly?: boolean } = {}): Promise<T> {
  const instance = await DuckDBInstance.create(path, options.readOnly ? { access_mode: 'READ_ONLY' } : {});
  const connection = await instance.connect();
  try {
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export async function ensureWarehouse(path: string): Promise<void> {
  await withWarehouse(path, async (connection) => {
    for (const statement of WAREHOUSE_DDL) await connection.run(statement);
  });
}

export type WarehouseRow = Record<string, DuckDBValue>;

const COLUMN_NAMES = TABLE_COLUMNS.map((c) => c.name);

/** One multi-row INSERT per call: the batch lands whole or not at all. */
export async function insertRows(connection: DuckDBConnection, rows: WarehouseRow[]): Promise<void> {
  if (rows.length === 0) return;
  const placeholders = rows.map((_, r) => `(${COLUMN_NAMES.map((_c, i) => `$${r * COLUMN_NAMES.length + i + 1}`).join(', ')})`);
  const values = rows.flatMap((row) => COLUMN_NAMES.map((name) => row[name] ?? null));
  await connection.run(`INSERT INTO events (${COLUMN_NAMES.join(', ')}) VALUES ${placeholders.join(', ')}`, values);
}

/** Runs a read-only query and returns JSON-friendly row objects. */
export async function queryWarehouse(path: string, sql: string, values: DuckDBValue[] = []): Promise<Record<string, unknown>[]> {
  return withWarehouse(path, async (connection) => (await connection.runAndReadAll(sql, values)).getRowObjectsJson() as Record<string, unknown>[], { readOnly: true });
}
