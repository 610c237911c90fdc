/** `ops stats`: rows and distinct events per object type and metric over a window of event times. */
import { parse } from '../cli.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget } from '../target.js';
import { TIME_HELP, parseRange } from '../time.js';

export const STATS_HELP = `usage: npm run ops -- stats [--since TIME] [--until TIME] [--json]

Counts warehouse rows and distinct event_ids per object type and metric whose event time is in
[--since, --until) — reading only those days' partitions — plus the rows without an event time
(bodies that are not JSON, test sends) received in the window. More rows than events means
duplicates (retries, redeliveries, replays): events_unique has one each.

  --since TIME         ${TIME_HELP} (default 24h)
  --until TIME         (default now)
  --json               one JSON document instead of a table
${TARGET_HELP}`;

export async function stats(args: string[]): Promise<number> {
  const { values } = parse(args, { ...TARGET_OPTIONS, since: { type: 'string' }, until: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) return void process.stdout.write(`${STATS_HELP}\n`), 0;
  const range = parseRange(values.since ?? '24h', values.until);
  const target = await resolveTarget(values);
  try {
    const { counts, undated } = await target.warehouse.counts(range);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ since: range.from.toISOString(), until: range.to.toISOString(), source: target.warehouse.describe, counts, undated })}\n`);
      return 0;
    }
    process.stdout.write(`event times ${range.from.toISOString()} – ${range.to.toISOString()} in the ${target.warehouse.describe}\n`);
    process.stdout.write(`${'object_type'.padEnd(12)}${'metric'.padEnd(38)}${'rows'.padStart(8)}${'events'.padStart(8)}\n`);
    for (const c of counts) process.stdout.write(`${String(c.object_type).padEnd(12)}${String(c.metric).padEnd(38)}${String(c.rows).padStart(8)}${String(c.events).padStart(8)}\n`);
    const total = counts.reduce((sum, c) => ({ rows: sum.rows + c.rows, events: sum.events + c.events }), { rows: 0, events: 0 });
    process.stdout.write(`${'total'.padEnd(50)}${String(total.rows).padStart(8)}${String(total.events).padStart(8)}\n`);
    if (undated.rows > 0) process.stdout.write(`${'without an event time (by receipt)'.padEnd(50)}${String(undated.rows).padStart(8)}${String(undated.events).padStart(8)}\n`);
    return 0;
  } finally {
    await target.close();
  }
}
