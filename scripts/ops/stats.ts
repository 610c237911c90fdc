/** `ops stats`: rows and distinct events per object type and metric over a window. */
import { parse } from '../lib/cli.js';
import { parseTime } from './replay.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget } from './target.js';

export const STATS_HELP = `usage: npm run ops -- stats [--since TIME] [--json]

Counts warehouse rows and distinct event_ids per object type and metric written since TIME.
Rows above events mean duplicates (retries, redeliveries, replays): events_unique has one each.

  --since TIME         ISO 8601 time or an age such as 30m, 6h, 2d (default 24h)
  --json               one JSON document instead of a table
${TARGET_HELP}`;

export async function stats(args: string[]): Promise<number> {
  const { values } = parse(args, { ...TARGET_OPTIONS, since: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) return void process.stdout.write(`${STATS_HELP}\n`), 0;
  const since = parseTime(values.since ?? '24h');
  const target = resolveTarget(values);
  try {
    const counts = await target.warehouse.countsSince(since);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ since: since.toISOString(), source: target.warehouse.describe, counts })}\n`);
      return 0;
    }
    process.stdout.write(`since ${since.toISOString()} in the ${target.warehouse.describe}\n`);
    process.stdout.write(`${'object_type'.padEnd(12)}${'metric'.padEnd(38)}${'rows'.padStart(8)}${'events'.padStart(8)}\n`);
    for (const c of counts) process.stdout.write(`${String(c.object_type).padEnd(12)}${String(c.metric).padEnd(38)}${String(c.rows).padStart(8)}${String(c.events).padStart(8)}\n`);
    const total = counts.reduce((sum, c) => ({ rows: sum.rows + c.rows, events: sum.events + c.events }), { rows: 0, events: 0 });
    process.stdout.write(`${'total'.padEnd(50)}${String(total.rows).padStart(8)}${String(total.events).padStart(8)}\n`);
    return 0;
  } finally {
    await target.close();
  }
}
