/**
 * `ops deliverability`: every message source's counts, rates and verdict over a window, worst first
 * — the table the deployed guard judges every run, read from the same table function in the
 * analysts' dataset (the local file's analytics schema) and judged by the same code.
 */
import {
  COUNT_COLUMNS,
  MEASURE_NAMES,
  breachesOf,
  formatPpm,
  formatRate,
  judge,
  readDeliverabilityConfig,
  worstFirst,
  type DeliverabilityConfig,
  type Judgement,
} from '../../shared/deliverability.js';
import { CommandFailed, parse, positiveInt, requireLocalStack } from '../cli.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget } from '../target.js';
import { TIME_HELP, parseRange } from '../time.js';
import { WORKSPACE_HELP, WORKSPACE_OPTION, scopeText, workspaceScope } from '../workspaces.js';

export const DELIVERABILITY_HELP = `usage: npm run ops -- deliverability [--since TIME] [--until TIME] [--workspace W] [--json]

Sent, delivered, bounced, spammed and unsubscribed per message source (campaign or broadcast
action, newsletter, transactional message) and channel for event times in [--since, --until),
with the complaint rate (spammed / delivered), the bounce rate (bounced / sent), the unsubscribe
rate, and the guard's verdict, worst first. Each event counts once; only those days are read.
With several Customer.io workspaces a source is a workspace's (campaign 101 of one workspace is not
campaign 101 of another): the table names each source's workspace, and --workspace W shows W's.

The thresholds are the deployment's DELIVERABILITY_* settings: with --local, those the running
npm start stack uses; otherwise read from this environment as the deploy reads them (defaults:
complaints 0.1% warning, 0.3% critical from 1,000 delivered; bounces 2% and 5% from 1,000 sent).

  --since TIME         ${TIME_HELP} (default: the guard's window, 24h)
  --until TIME         (default now)
  --limit N            the N worst sources in the table (default 50; --json has them all)
${WORKSPACE_HELP}
  --json               one JSON document instead of a table
${TARGET_HELP}`;

/** The judgement's settings: the local stack's own, or this environment's (as `cdktf deploy` reads them). */
function settings(local: boolean | undefined, env: NodeJS.ProcessEnv): DeliverabilityConfig {
  if (local) return requireLocalStack().deliverability;
  const { config, problems } = readDeliverabilityConfig((name) => env[name]);
  if (problems.length > 0) throw new CommandFailed(problems.map((p) => `${p.variable}: ${p.message}`).join('; '));
  return config;
}

export function describeSettings(config: DeliverabilityConfig): string {
  const { complaint, bounce } = config.thresholds;
  return `judged: ${config.channels.join(', ')}; complaint rate warning ${formatPpm(complaint.warning)}, critical ${formatPpm(complaint.critical)} from ${complaint.minVolume.toLocaleString('en-US')} delivered; bounce rate warning ${formatPpm(bounce.warning)}, critical ${formatPpm(bounce.critical)} from ${bounce.minVolume.toLocaleString('en-US')} sent`;
}

export function verdictText(j: Judgement, config: DeliverabilityConfig): string {
  if (j.verdict === 'unjudged') {
    const reasons = [...new Set(MEASURE_NAMES.map((m) => j.measures[m].unjudged))];
    return `not judged (${reasons.includes('channel') ? 'channel' : 'volume'})`;
  }
  const breaches = breachesOf(j, config).filter((b) => b.level === j.verdict);
  return breaches.length === 0 ? 'ok' : `${j.verdict.toUpperCase()} ${breaches.map((b) => b.measure).join(', ')}`;
}

const n = (value: number) => value.toLocaleString('en-US');

export function deliverabilityTable(judgements: Judgement[], config: DeliverabilityConfig): string[] {
  // A source is one workspace's: with several workspaces (rows that name one), a column for it.
  const workspaces = judgements.some((j) => j.row.workspace !== null);
  const header = ['verdict', ...(workspaces ? ['workspace'] : []), 'source', 'id', 'action', 'channel', 'sent', 'delivered', 'bounced', 'spammed', 'unsub', 'bounce', 'complaint', 'unsub %'];
  const lines = judgements.map((j) => [
    verdictText(j, config), ...(workspaces ? [j.row.workspace ?? '—'] : []), j.row.source, String(j.row.source_id), j.row.action_id === null ? '—' : String(j.row.action_id), j.row.channel,
    ...COUNT_COLUMNS.map((c) => n(j.row[c])),
    formatRate(j.measures.bounce.rate), formatRate(j.measures.complaint.rate), formatRate(j.row.unsubscribe_rate),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  // Text columns to the left, numbers to the right.
  const text = new Set(['verdict', 'workspace', 'source', 'channel']);
  const render = (cells: string[]) => cells.map((c, i) => (text.has(header[i]!) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [render(header), ...lines.map(render)];
}

export async function deliverability(args: string[]): Promise<number> {
  const { values } = parse(args, { ...TARGET_OPTIONS, ...WORKSPACE_OPTION, since: { type: 'string' }, until: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) return void process.stdout.write(`${DELIVERABILITY_HELP}\n`), 0;
  const limit = positiveInt('limit', values.limit, 50);
  const config = settings(values.local, process.env);
  const range = parseRange(values.since ?? `${config.windowHours}h`, values.until);
  const scope = workspaceScope(values);
  const target = await resolveTarget(values);
  try {
    const judgements = worstFirst((await target.warehouse.deliverability(range, scope)).map((row) => judge(row, config)), config);
    if (values.json) {
      const sources = judgements.map((j) => ({
        ...j.row,
        verdict: j.verdict,
        complaint: { level: j.measures.complaint.level, not_judged: j.measures.complaint.unjudged },
        bounce: { level: j.measures.bounce.level, not_judged: j.measures.bounce.unjudged },
        breaches: breachesOf(j, config).map((b) => ({ measure: b.measure, level: b.level, threshold: formatPpm(b.threshold) })),
      }));
      process.stdout.write(`${JSON.stringify({ since: range.from.toISOString(), until: range.to.toISOString(), source: target.warehouse.describe, ...(scope.several ? { workspace: scope.only } : {}), settings: describeSettings(config), sources })}\n`);
      return 0;
    }
    process.stdout.write(`deliverability per message source${scopeText(scope)}, event times ${range.from.toISOString()} – ${range.to.toISOString()}, ${target.warehouse.describe}\n${describeSettings(config)}\n\n`);
    if (judgements.length === 0) {
      process.stdout.write('no message events in the window\n');
      return 0;
    }
    for (const line of deliverabilityTable(judgements.slice(0, limit), config)) process.stdout.write(`${line}\n`);
    if (judgements.length > limit) process.stdout.write(`… and ${judgements.length - limit} more (--limit, or --json for all)\n`);
    const tally = (['critical', 'warning', 'ok', 'unjudged'] as const).map((v) => `${judgements.filter((j) => j.verdict === v).length} ${v === 'unjudged' ? 'not judged' : v}`);
    process.stdout.write(`\n${judgements.length} source(s): ${tally.join(', ')}\n`);
    return 0;
  } finally {
    await target.close();
  }
}
