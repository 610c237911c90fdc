/**
 * `ops trace EVENT_ID`: everything known about one event, from the warehouse to Customer.io.
 * `ops trace --trace-id TRACE_ID`: the same for the event a request brought, found by the trace id
 * an operator sees in Cloud Run's request log or Cloud Trace (its message carries that trace).
 */
import { CommandFailed, UsageError, parse, positiveInt } from '../cli.js';
import { pullUntilDrained } from '../drain.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget, type DedupeRecordView, type LogLine, type Target } from '../target.js';
import { TIME_HELP, parseTime } from '../time.js';
import type { TraceRow } from '../warehouse/reader.js';
import { WORKSPACE_OPTION, chooseWorkspace, deploymentWorkspaces } from '../workspaces.js';
import { TRACE_ATTRIBUTE, TRACE_LOG_FIELDS, logsExplorerUrl, parseTraceparent, traceIdOf } from '../../shared/trace-context.js';
import type { Workspace } from '../../shared/workspaces.js';

export const TRACE_HELP = `usage: npm run ops -- trace EVENT_ID [--since TIME] [--workspace W] [--json]
       npm run ops -- trace --trace-id TRACE_ID [--since TIME] [--workspace W] [--json]

Follows one event: the trace of the request that brought it (deployed: with a Logs Explorer link
to every entry of that trace, the request log's included), its warehouse rows (how many, first and
last publish time, which subscription wrote them, its columns), its dedupe record (status,
attempts, last error, lease, expiry), whether it waits in the dead-letter subscription (looked at,
not acknowledged), and what the receiver and the handler logged about it (deployed: Cloud Logging;
--local: the local stack's logs).

With several Customer.io workspaces (CIO_WORKSPACES) an event is its workspace's: --workspace W
looks only at W's rows, dead letters and log entries, and at W's dedupe record (the handler keys it
by the workspace and the id). Without --workspace it shows the rows of every workspace, each with
its workspace, and looks for the dedupe record under every workspace of the deployment (and any a
row names) and under the key without a workspace (records from before CIO_WORKSPACES was set),
saying where it found one.

--trace-id TRACE_ID starts from a request instead: the trace id of Cloud Run's request log entry
(its trace field, projects/P/traces/TRACE_ID, is accepted as well) or Cloud Trace, 32 lower-case
hex characters. The receiver puts the request's trace on the event's message
(googclient_traceparent), and the warehouse row keeps it in attributes: the rows received since
--since whose traceparent carries that trace id name the event (the query reads only the days such
events can have happened on, and the undated rows), which is then traced as above, with the
workspace of its row. That finds an accepted event even when nothing was logged about it (the
receiver logs accepted events at DEBUG only; an event that needs no Customer.io action has no
handler line). No row carries the trace: one line (exit 1), with, deployed, the Logs Explorer link
to every entry of that trace (the request log's status says whether it was accepted).

  --trace-id ID        trace the event the request with this trace id brought (instead of EVENT_ID)
  --since TIME         look at event times (and logs) since then: ${TIME_HELP} (default 7d); the
                       warehouse query reads only those days
  --dlq-limit N        dead letters to look through (default 1000)
  --workspace W        only workspace W's (a deployment with several workspaces)
  --json               one JSON document
${TARGET_HELP}`;

export interface Trace {
  event_id: string;
  since: string;
  /** The trace id of the request that delivered the event (from its message, else from the logs). */
  trace_id: string | null;
  /** Deployed: the Logs Explorer showing every entry of that trace. */
  logs_url: string | null;
  /** --workspace (a deployment with several workspaces); null: every workspace, or only one. */
  workspace?: string | null;
  /** `workspaces`: the workspaces the rows name (with several workspaces, or rows that name one). */
  warehouse: { rows: number; first_publish_time: string | null; last_publish_time: string | null; subscriptions: string[]; workspaces?: string[]; row: TraceRow | null };
  /** The dedupe record (the first found, with several workspaces). */
  dedupe: DedupeRecordView | null;
  /**
   * With several workspaces: the keys the record was looked for under (a workspace, or null for the
   * key without one) and the records found. Absent with one workspace (one key, the id's).
   */
  dedupe_lookup?: { tried: Array<string | null>; found: Array<{ workspace: string | null; record: DedupeRecordView }> };
  dead_letters: Array<{ message_id: string | null; source: string | null; delivery_attempts: string | null; error: string | null; workspace?: string | null }>;
  logs: LogLine[];
}

export interface TraceOptions {
  since: Date;
  dlqLimit: number;
  /** The deployment's workspaces; null with one. */
  workspaces: readonly Workspace[] | null;
  /** --workspace. */
  only: string | null;
}

async function deadLetters(target: Target, eventId: string, limit: number, only: string | null, several: boolean): Promise<Trace['dead_letters']> {
  const held = await pullUntilDrained({ subscriber: target.subscriber, subscription: target.pubsub.subscription(target.names.deadLetterSubscription).name, limit, emptyPulls: 2, emptyWaitMs: 300 });
  try {
    return held.messages
      // The message's workspace attribute (set with several workspaces) tells two workspaces' events apart.
      .filter((m) => m.message?.attributes?.event_id === eventId && (only === null || m.message.attributes.workspace === only))
      .map((m) => {
        const a = m.message?.attributes ?? {};
        return {
          message_id: m.message?.messageId ?? null,
          source: a.CloudPubSubDeadLetterSourceSubscription?.split('/').pop() ?? null,
          delivery_attempts: a.CloudPubSubDeadLetterSourceDeliveryCount ?? null,
          error: a.CloudPubSubDeadLetterSourceDeliveryErrorMessage ?? null,
          ...(several ? { workspace: a.workspace ?? null } : {}),
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

/**
 * The keys the event's dedupe record may be under: with --workspace, that workspace's; with one
 * workspace, the id's alone; with several and none chosen, every workspace's, then the key without
 * one (the record of an event handled before CIO_WORKSPACES was set).
 */
export function dedupeKeys(workspaces: readonly Workspace[] | null, only: string | null): Array<string | null> {
  if (only !== null) return [only];
  return workspaces === null ? [null] : [...workspaces.map((w) => w.name), null];
}

type Lookup = { workspace: string | null; record: DedupeRecordView | null };

export async function traceEvent(target: Target, eventId: string, options: TraceOptions): Promise<Trace> {
  const { since, dlqLimit, workspaces, only } = options;
  const several = workspaces !== null;
  // The event may be a little in the future on the sender's clock.
  const range = { from: since, to: new Date(Date.now() + 86_400_000) };
  const lookup = (keys: Array<string | null>) => Promise.all(keys.map(async (workspace): Promise<Lookup> => ({ workspace, record: await target.dedupeRecord(eventId, workspace) })));
  const keys = dedupeKeys(workspaces, only);
  const [rows, looked, dead, lines] = await Promise.all([
    target.warehouse.findEvent(eventId, range, { several, only }),
    lookup(keys),
    deadLetters(target, eventId, dlqLimit, only, several),
    target.logLines(eventId, since),
  ]);
  // A row may name a workspace this environment does not list (CIO_WORKSPACES unset or out of date
  // here): its key is looked under too, so the record is found wherever the handler put it.
  const named = [...new Set(rows.map((r) => r.workspace).filter((w): w is string => w !== null))];
  const extra = only === null ? named.filter((w) => !keys.includes(w)) : [];
  const allLooked = [...looked, ...(await lookup(extra))];
  const found = allLooked.filter((l): l is { workspace: string | null; record: DedupeRecordView } => l.record !== null);
  // With --workspace, another workspace's entries about an event with the same id are not this one's.
  const logs = only === null ? lines : lines.filter((l) => l.fields.workspace === undefined || l.fields.workspace === only);
  const published = rows.map((r) => r.publish_time).filter((t): t is string => t !== null).sort();
  const traceId = traceOfEvent(rows, logs);
  const keyed = several || named.length > 0;
  return {
    event_id: eventId,
    since: since.toISOString(),
    ...(several ? { workspace: only } : {}),
    trace_id: traceId,
    logs_url: traceId && !target.local ? logsExplorerUrl(target.project, traceId) : null,
    warehouse: {
      rows: rows.length,
      first_publish_time: published[0] ?? null,
      last_publish_time: published.at(-1) ?? null,
      subscriptions: [...new Set(rows.map((r) => r.subscription_name?.split('/').pop() ?? '?'))],
      ...(keyed ? { workspaces: named } : {}),
      row: rows[0] ?? null,
    },
    dedupe: found[0]?.record ?? null,
    ...(keyed ? { dedupe_lookup: { tried: allLooked.map((l) => l.workspace), found } } : {}),
    dead_letters: dead,
    logs,
  };
}

const keyName = (workspace: string | null) => (workspace === null ? 'the key without a workspace' : `workspace ${workspace}`);

/** "workspaces acme, beta and the key without a workspace" */
function keyList(keys: Array<string | null>): string {
  const names = keys.filter((k): k is string => k !== null);
  const parts = [...(names.length ? [`workspace${names.length > 1 ? 's' : ''} ${names.join(', ')}`] : []), ...(keys.includes(null) ? ['the key without a workspace'] : [])];
  return parts.join(' and ');
}

function recordLines(d: DedupeRecordView): string[] {
  const out = [`  ${d.status} after ${d.attempts} attempt(s), updated ${d.updated_at}${d.error ? `, last error: ${d.error}` : ''}`];
  if (d.status === 'processing') out.push(`  lease until ${d.lease_until}`);
  if (d.expire_at) out.push(`  expires ${d.expire_at}`);
  return out;
}

export function renderTrace(t: Trace): string {
  const out: string[] = [`event ${t.event_id}${t.workspace ? ` of workspace ${t.workspace}` : ''} (looked at since ${t.since})`];
  if (t.trace_id) out.push(`trace ${t.trace_id}${t.logs_url ? `\n  every log entry of its request and its handling: ${t.logs_url}` : ''}`);
  out.push('', 'warehouse');
  if (t.warehouse.rows === 0) out.push('  no row (not received, not written yet, or outside the window)');
  else {
    const r = t.warehouse.row!;
    out.push(
      `  ${t.warehouse.rows} row(s), written by ${t.warehouse.subscriptions.join(', ')}${t.warehouse.rows > 1 ? ' (duplicates: events_unique keeps one)' : ''}`,
      ...(t.warehouse.workspaces?.length ? [`  workspace ${t.warehouse.workspaces.join(', ')}${t.warehouse.workspaces.length > 1 ? ' (the same id in several workspaces: different events)' : ''}`] : []),
      `  published ${t.warehouse.first_publish_time}${t.warehouse.rows > 1 ? ` … ${t.warehouse.last_publish_time}` : ''}`,
      `  ${r.object_type}/${r.metric}, event time ${r.event_timestamp ?? '(none)'}, received ${r.received_at}`,
      `  customer_id=${r.customer_id ?? '-'} cio_id=${r.cio_id ?? '-'} delivery_id=${r.delivery_id ?? '-'}`,
    );
  }
  out.push('', 'dedupe record');
  const none = '  none (no action for this metric, not handled yet, or expired after DEDUPE_TTL_DAYS)';
  if (t.dedupe_lookup) {
    const { tried, found } = t.dedupe_lookup;
    const under = keyList(tried);
    if (found.length === 0) out.push(`${none}; looked under ${under}`);
    for (const f of found) out.push(`  found under ${keyName(f.workspace)} (looked under ${under})`, ...recordLines(f.record));
  } else if (!t.dedupe) out.push(none);
  else out.push(...recordLines(t.dedupe));
  out.push('', 'dead letters');
  if (t.dead_letters.length === 0) out.push('  none');
  for (const d of t.dead_letters) out.push(`  message ${d.message_id}${d.workspace ? ` of workspace ${d.workspace}` : ''} from ${d.source ?? '?'} after ${d.delivery_attempts ?? '?'} attempt(s)${d.error ? `: ${d.error}` : ''}`);
  out.push('', 'logs');
  if (t.logs.length === 0) out.push('  none (the receiver logs accepted events at DEBUG only)');
  for (const l of t.logs) {
    const skipped = ['event_id', 'object_type', 'metric', ...Object.values(TRACE_LOG_FIELDS)];
    const fields = Object.entries(l.fields).filter(([k]) => !skipped.includes(k)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    out.push(`  ${l.timestamp ? `${l.timestamp} ` : ''}${l.component} ${l.severity} ${l.message} ${fields.join(' ')}`.trimEnd());
  }
  return `${out.join('\n')}\n`;
}

/** What `trace --trace-id` found: the events the request's trace brought, each traced. */
export interface TraceByRequest {
  trace_id: string;
  /** The rows looked at were received since then. */
  since: string;
  /** Deployed: the Logs Explorer showing every entry of that trace. */
  logs_url: string | null;
  events: Trace[];
}

const TRACE_ID = /^[0-9a-f]{32}$/;

/** A trace id as Cloud Trace shows it, or the request log's `projects/P/traces/ID`; a usage error otherwise. */
export function parseTraceId(value: string): string {
  const id = /^projects\/[^/]+\/traces\/([^/]+)$/.exec(value)?.[1] ?? value;
  if (!TRACE_ID.test(id) || /^0+$/.test(id)) {
    throw new UsageError(`--trace-id must be a trace id, 32 lower-case hex characters not all zero, as in Cloud Run's request log or Cloud Trace (got ${JSON.stringify(value)})`);
  }
  return id;
}

export async function traceRequest(target: Target, traceId: string, options: TraceOptions): Promise<TraceByRequest> {
  const { since, workspaces, only } = options;
  const several = workspaces !== null;
  const logsUrl = target.local ? null : logsExplorerUrl(target.project, traceId);
  const matches = await target.warehouse.findByTrace(traceId, { from: since, to: new Date(Date.now() + 86_400_000) }, { several, only });
  if (matches.length === 0) {
    throw new CommandFailed(
      `no warehouse row carries trace ${traceId} among the rows received since ${since.toISOString()}: not written yet, received before --since, or not accepted (the request log says)${logsUrl ? `; every log entry of the request: ${logsUrl}` : ''}`,
    );
  }
  const events: Trace[] = [];
  for (const match of matches) {
    // The event may have happened before --since (a late delivery): its own rows' time is looked at.
    const eventSince = match.event_timestamp !== null && Date.parse(match.event_timestamp) < since.getTime() ? new Date(match.event_timestamp) : since;
    // The request came to one workspace's URL: its row says which.
    const workspace = only ?? (several ? match.workspace : null);
    events.push(await traceEvent(target, match.event_id, { ...options, since: eventSince, only: workspace }));
  }
  return { trace_id: traceId, since: since.toISOString(), logs_url: logsUrl, events };
}

export function renderTraceRequest(t: TraceByRequest): string {
  const head = `request trace ${t.trace_id}: ${t.events.length} event(s) in the warehouse (rows received since ${t.since})${t.logs_url ? `\n  every log entry of the request and its handling: ${t.logs_url}` : ''}\n`;
  return [head, ...t.events.map(renderTrace)].join('\n');
}

export async function trace(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...TARGET_OPTIONS, ...WORKSPACE_OPTION, 'trace-id': { type: 'string' }, since: { type: 'string' }, 'dlq-limit': { type: 'string' }, json: { type: 'boolean' } }, true);
  if (values.help) return void process.stdout.write(`${TRACE_HELP}\n`), 0;
  const [eventId, ...extra] = positionals;
  const traceId = values['trace-id'] === undefined ? null : parseTraceId(values['trace-id']);
  if (traceId !== null && positionals.length > 0) throw new UsageError('trace takes an EVENT_ID or --trace-id, not both');
  if (traceId === null && (!eventId || extra.length > 0)) throw new UsageError('trace needs exactly one EVENT_ID (or --trace-id TRACE_ID)');
  const since = parseTime('since', values.since ?? '7d');
  const dlqLimit = positiveInt('dlq-limit', values['dlq-limit'], 1000);
  const workspaces = deploymentWorkspaces(values);
  const only = chooseWorkspace(values.workspace, workspaces, Boolean(values.local));
  const target = await resolveTarget(values);
  try {
    const options = { since, dlqLimit, workspaces, only };
    if (traceId !== null) {
      const result = await traceRequest(target, traceId, options);
      process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : renderTraceRequest(result));
      return 0;
    }
    const result = await traceEvent(target, eventId!, options);
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : renderTrace(result));
    return 0;
  } finally {
    await target.close();
  }
}
