/** `ops trace EVENT_ID`: everything known about one event, from the warehouse to Customer.io. */
import { UsageError, parse, positiveInt } from '../cli.js';
import { pullUntilDrained } from '../drain.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget, type DedupeRecordView, type LogLine, type Target } from '../target.js';
import { TIME_HELP, parseTime } from '../time.js';
import type { TraceRow } from '../warehouse/reader.js';
import { TRACE_ATTRIBUTE, TRACE_LOG_FIELDS, logsExplorerUrl, parseTraceparent, traceIdOf } from '../../shared/trace-context.js';

export const TRACE_HELP = `usage: npm run ops -- trace EVENT_ID [--since TIME] [--json]

Follows one event: the trace of the request that brought it (deployed: with a Logs Explorer link
to every entry of that trace, the request log's included), its warehouse rows (how many, first and
last publish time, which subscription wrote them, its columns), its dedupe record (status,
attempts, last error, lease, expiry), whether it waits in the dead-letter subscription (looked at,
not acknowledged), and what the receiver and the handler logged about it (deployed: Cloud Logging;
--local: the local stack's logs).

  --since TIME         look at event times (and logs) since then: ${TIME_HELP} (default 7d); the
                       warehouse query reads only those days
  --dlq-limit N        dead letters to look through (default 1000)
  --json               one JSON document
${TARGET_HELP}`;

export interface Trace {
  event_id: string;
  since: string;
  /** The trace id of the request that delivered the event (from its message, else from the logs). */
  trace_id: string | null;
  /** Deployed: the Logs Explorer showing every entry of that trace. */
  logs_url: string | null;
  warehouse: { rows: number; first_publish_time: string | null; last_publish_time: string | null; subscriptions: string[]; row: TraceRow | null };
  dedupe: DedupeRecordView | null;
  dead_letters: Array<{ message_id: string | null; source: string | null; delivery_attempts: string | null; error: string | null }>;
  logs: LogLine[];
}

async function deadLetters(target: Target, eventId: string, limit: number): Promise<Trace['dead_letters']> {
  const held = await pullUntilDrained({ subscriber: target.subscriber, subscription: target.pubsub.subscription(target.names.deadLetterSubscription).name, limit, emptyPulls: 2, emptyWaitMs: 300 });
  try {
    return held.messages
      .filter((m) => m.message?.attributes?.event_id === eventId)
      .map((m) => {
        const a = m.message?.attributes ?? {};
        return {
          message_id: m.message?.messageId ?? null,
          source: a.CloudPubSubDeadLetterSourceSubscription?.split('/').pop() ?? null,
          delivery_attempts: a.CloudPubSubDeadLetterSourceDeliveryCount ?? null,
          error: a.CloudPubSubDeadLetterSourceDeliveryErrorMessage ?? null,
        };
      });
  } finally {
    await held.releaseAll();
  }
}

/** The first row's message attribute carries it (the receiver puts it there); the entries carry it too. */
function traceOfEvent(rows: TraceRow[], logs: LogLine[]): string | null {
  for (const row of rows) {
    try {
      const attributes = JSON.parse(row.attributes ?? '{}') as Record<string, unknown>;
      const trace = parseTraceparent(typeof attributes[TRACE_ATTRIBUTE] === 'string' ? attributes[TRACE_ATTRIBUTE] : undefined);
      if (trace) return trace.traceId;
    } catch {
      // not JSON: look further
    }
  }
  for (const line of logs) {
    const id = traceIdOf(line.fields[TRACE_LOG_FIELDS.trace]);
    if (id) return id;
  }
  return null;
}

export async function traceEvent(target: Target, eventId: string, since: Date, dlqLimit: number): Promise<Trace> {
  // The event may be a little in the future on the sender's clock.
  const range = { from: since, to: new Date(Date.now() + 86_400_000) };
  const [rows, dedupe, dead, logs] = await Promise.all([
    target.warehouse.findEvent(eventId, range),
    target.dedupeRecord(eventId),
    deadLetters(target, eventId, dlqLimit),
    target.logLines(eventId, since),
  ]);
  const published = rows.map((r) => r.publish_time).filter((t): t is string => t !== null).sort();
  const traceId = traceOfEvent(rows, logs);
  return {
    event_id: eventId,
    since: since.toISOString(),
    trace_id: traceId,
    logs_url: traceId && !target.local ? logsExplorerUrl(target.project, traceId) : null,
    warehouse: {
      rows: rows.length,
      first_publish_time: published[0] ?? null,
      last_publish_time: published.at(-1) ?? null,
      subscriptions: [...new Set(rows.map((r) => r.subscription_name?.split('/').pop() ?? '?'))],
      row: rows[0] ?? null,
    },
    dedupe,
    dead_letters: dead,
    logs,
  };
}

export function renderTrace(t: Trace): string {
  const out: string[] = [`event ${t.event_id} (looked at since ${t.since})`];
  if (t.trace_id) out.push(`trace ${t.trace_id}${t.logs_url ? `\n  every log entry of its request and its handling: ${t.logs_url}` : ''}`);
  out.push('', 'warehouse');
  if (t.warehouse.rows === 0) out.push('  no row (not received, not written yet, or outside the window)');
  else {
    const r = t.warehouse.row!;
    out.push(
      `  ${t.warehouse.rows} row(s), written by ${t.warehouse.subscriptions.join(', ')}${t.warehouse.rows > 1 ? ' (duplicates: events_unique keeps one)' : ''}`,
      `  published ${t.warehouse.first_publish_time}${t.warehouse.rows > 1 ? ` … ${t.warehouse.last_publish_time}` : ''}`,
      `  ${r.object_type}/${r.metric}, event time ${r.event_timestamp ?? '(none)'}, received ${r.received_at}`,
      `  customer_id=${r.customer_id ?? '-'} cio_id=${r.cio_id ?? '-'} delivery_id=${r.delivery_id ?? '-'}`,
    );
  }
  out.push('', 'dedupe record');
  if (!t.dedupe) out.push('  none (no action for this metric, not handled yet, or expired after DEDUPE_TTL_DAYS)');
  else {
    const d = t.dedupe;
    out.push(`  ${d.status} after ${d.attempts} attempt(s), updated ${d.updated_at}${d.error ? `, last error: ${d.error}` : ''}`);
    if (d.status === 'processing') out.push(`  lease until ${d.lease_until}`);
    if (d.expire_at) out.push(`  expires ${d.expire_at}`);
  }
  out.push('', 'dead letters');
  if (t.dead_letters.length === 0) out.push('  none');
  for (const d of t.dead_letters) out.push(`  message ${d.message_id} from ${d.source ?? '?'} after ${d.delivery_attempts ?? '?'} attempt(s)${d.error ? `: ${d.error}` : ''}`);
  out.push('', 'logs');
  if (t.logs.length === 0) out.push('  none (the receiver logs accepted events at DEBUG only)');
  for (const l of t.logs) {
    const skipped = ['event_id', 'object_type', 'metric', ...Object.values(TRACE_LOG_FIELDS)];
    const fields = Object.entries(l.fields).filter(([k]) => !skipped.includes(k)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    out.push(`  ${l.timestamp ? `${l.timestamp} ` : ''}${l.component} ${l.severity} ${l.message} ${fields.join(' ')}`.trimEnd());
  }
  return `${out.join('\n')}\n`;
}

export async function trace(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...TARGET_OPTIONS, since: { type: 'string' }, 'dlq-limit': { type: 'string' }, json: { type: 'boolean' } }, true);
  if (values.help) return void process.stdout.write(`${TRACE_HELP}\n`), 0;
  const [eventId, ...extra] = positionals;
  if (!eventId || extra.length > 0) throw new UsageError('trace needs exactly one EVENT_ID');
  const since = parseTime('since', values.since ?? '7d');
  const dlqLimit = positiveInt('dlq-limit', values['dlq-limit'], 1000);
  const target = await resolveTarget(values);
  try {
    const result = await traceEvent(target, eventId, since, dlqLimit);
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : renderTrace(result));
    return 0;
  } finally {
    await target.close();
  }
}
