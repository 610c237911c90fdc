/** `ops stats`: rows and distinct events per object type and metric over a window of event times. */
import { parse } from '../cli.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget } from '../target.js';
import { TIME_HELP, parseRange } from '../time.js';
import type { Counts } from '../warehouse/reader.js';
import { WORKSPACE_HELP, WORKSPACE_OPTION, scopeText, workspaceScope } from '../workspaces.js';

export const STATS_HELP = `usage: npm run ops -- stats [--since TIME] [--until TIME] [--workspace W] [--json]

Counts warehouse rows and distinct event_ids per object type and metric whose event time is in
[--since, --until) — reading only those days' partitions — plus the rows without an event time
(bodies that are not JSON, test sends) received in the window. More rows than events means
duplicates (retries, redeliveries, replays): events_unique has one each. With several Customer.io
workspaces, per workspace too.

  --since TIME         ${TIME_HELP} (default 24h)
  --until TIME         (default now)
${WORKSPACE_HELP}
  --json               one JSON document instead of a table
${TARGET_HELP}`;

/** The counts as a table; a workspace column first when the rows are of several workspaces. */
export function statsTable(counts: Counts[], undated: { rows: number; events: number }, perWorkspace: boolean): string[] {
  const first = (text: string) => (perWorkspace ? text.padEnd(21) : '');
  const numbers = (rows: number | string, events: number | string) => `${String(rows).padStart(8)}${String(events).padStart(8)}`;
  const lines = [`${first('workspace')}${'object_type'.padEnd(12)}${'metric'.padEnd(38)}${numbers('rows', 'events')}`];
  for (const c of counts) lines.push(`${first(c.workspace ?? '(none)')}${String(c.object_type).padEnd(12)}${String(c.metric).padEnd(38)}${numbers(c.rows, c.events)}`);
  const total = counts.reduce((sum, c) => ({ rows: sum.rows + c.rows, events: sum.events + c.events }), { rows: 0, events: 0 });
  lines.push(`${first('')}${'total'.padEnd(50)}${numbers(total.rows, total.events)}`);
  if (undated.rows > 0) lines.push(`${first('')}${'without an event time (by receipt)'.padEnd(50)}${numbers(undated.rows, undated.events)}`);
  return lines;
}

export async function stats(args: string[]): Promise<number> {
  const { values } = parse(args, { ...TARGET_OPTIONS, ...WORKSPACE_OPTION, since: { type: 'string' }, until: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) return void process.stdout.write(`${STATS_HELP}\n`), 0;
  const range = parseRange(values.since ?? '24h', values.until);
  const scope = workspaceScope(values);
  const target = await resolveTarget(values);
  try {
    const { counts, undated } = await target.warehouse.counts(range, scope);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ since: range.from.toISOString(), until: range.to.toISOString(), source: target.warehouse.describe, ...(scope.several ? { workspace: scope.only } : {}), counts, undated })}\n`);
      return 0;
    }
    process.stdout.write(`event times ${range.from.toISOString()} – ${range.to.toISOString()}${scopeText(scope)} in the ${target.warehouse.describe}\n`);
    for (const line of statsTable(counts, undated, scope.several && scope.only === null)) process.stdout.write(`${line}\n`);
    return 0;
  } finally {
    await target.close();
  }
}
