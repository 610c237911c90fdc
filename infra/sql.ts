/**
 * The analyst SQL lives in infra/sql/*.sql, readable on its own. `{{events}}` and `{{events_unique}}`
 * name the table and the dedupe view: fully qualified in BigQuery, plain names in the local DuckDB.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VIEW_FILES = { events_unique: 'events_unique.sql', daily_funnel: 'daily_funnel.sql' } as const;
export type ViewName = keyof typeof VIEW_FILES;

const SQL_DIR = join(dirname(fileURLToPath(import.meta.url)), 'sql');

export function viewSql(view: ViewName, names: { events: string; events_unique: string }): string {
  return readFileSync(join(SQL_DIR, VIEW_FILES[view]), 'utf8').replace(/\{\{(events|events_unique)\}\}/g, (_m, key: 'events' | 'events_unique') => names[key]);
}
