/** `ops queries`: every query the analyst guide shows, run against the warehouse. */
import { UsageError, parse, positiveInt } from '../cli.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget } from '../target.js';
import { ANALYST_QUERIES } from '../warehouse/analyst-queries.js';

export const QUERIES_HELP = `usage: npm run ops -- queries [--only N] [--rows N] [--json]

Runs every query docs/analysts.md shows, in the page's order, on the analysts' objects and prints
each question with its first rows. With --local, on the local stack's DuckDB file (the same
questions in DuckDB's dialect: its time and JSON functions); deployed, the BigQuery text the guide
shows, on the analytics dataset, each query with the byte cap. Every query reads only the days it
asks about (or, for rows without an event time, their partition alone). There is no
--workspace: the queries run as the guide shows them, over every workspace's rows (with several
Customer.io workspaces the analysts' objects carry a workspace column to filter or group by).

  --only N             only the guide's Nth query, counted from the top of the page (1 to ${ANALYST_QUERIES.length})
  --rows N             rows shown per query (default 10)
  --json               one JSON document
${TARGET_HELP}`;

const WIDEST = 40;

function cell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.length > WIDEST ? `${text.slice(0, WIDEST - 1)}…` : text;
}

/** Rows as a plain table: a header line, then one line per row, columns padded to their widest cell. */
export function renderTable(rows: ReadonlyArray<Record<string, unknown>>): string {
  if (rows.length === 0) return '  (no rows)\n';
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((row) => columns.map((c) => cell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => `  ${values.map((v, i) => v.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  return `${[line(columns), ...cells.map(line)].join('\n')}\n`;
}

export async function queries(args: string[]): Promise<number> {
  const { values } = parse(args, { ...TARGET_OPTIONS, only: { type: 'string' }, rows: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) return void process.stdout.write(`${QUERIES_HELP}\n`), 0;
  const only = values.only === undefined ? null : positiveInt('only', values.only, 1);
  if (only !== null && only > ANALYST_QUERIES.length) throw new UsageError(`--only must be 1 to ${ANALYST_QUERIES.length} (got ${only})`);
  const shown = positiveInt('rows', values.rows, 10);
  const selected = ANALYST_QUERIES.map((query, i) => ({ number: i + 1, query })).filter(({ number }) => only === null || number === only);
  const target = await resolveTarget(values);
  try {
    const results = [];
    for (const { number, query } of selected) {
      const rows = await target.warehouse.analystQuery(query);
      results.push({ number, question: query.question, rows: rows.length, first: rows.slice(0, shown) });
      if (!values.json) process.stdout.write(`${number}. ${query.question} — ${rows.length} row(s)\n${renderTable(rows.slice(0, shown))}\n`);
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ source: target.warehouse.describe, queries: results })}\n`);
    return 0;
  } finally {
    await target.close();
  }
}
