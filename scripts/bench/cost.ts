/**
 * `npm run cost` — what a month of Customer.io events costs to run, per component, from this
 * project's own measured figures and Google's list prices (prices.ts). Measured here, with the
 * project's code: the size of the Pub/Sub message the receiver publishes and of the BigQuery row it
 * becomes, for every sample event; the bytes of the log line the handler writes per push (the real
 * handler, run in this process). Taken from bench:handler: Firestore operations per event. The rest
 * are stated assumptions, each a variable:
 *
 *   COST_EVENTS                  events a month                                   (1,000,000)
 *   COST_ACTIONABLE_SHARE        share the push filter lets through to the handler  (0.25)
 *   COST_DUPLICATE_SHARE         extra deliveries: Customer.io retries, redeliveries (0.02)
 *   COST_RECEIVER_BILLED_MS      billable instance time per webhook                 (100)
 *   COST_HANDLER_BILLED_MS       billable instance time per push                    (300)
 *   COST_RETENTION_DAYS          topic retention for replay (RETENTION_DAYS)        (7)
 *   COST_LOG_ENTRY_OVERHEAD      bytes Cloud Logging adds around a line             (700)
 *   COST_REQUEST_LOG_BYTES       bytes of one Cloud Run request log entry           (1200)
 *   COST_RECEIVER_MIN_INSTANCES  warm receiver instances (RECEIVER_MIN_INSTANCES)   (1)
 *   COST_IDLE_RATE               USD per vCPU-second and per GiB-second idle        (0.0000025)
 *   COST_GUARD_BILLED_MS         billable instance time per deliverability guard run (3000)
 *   COST_INSTANCE_STARTS         instances each function starts a month, at most    (720)
 *
 * The deliverability guard runs as deployed: every DELIVERABILITY_GUARD_INTERVAL_MINUTES over the
 * last DELIVERABILITY_WINDOW_HOURS (read and checked as the stack reads them). Its query reads the
 * columns its SQL names (infra/sql/deliverability_between.sql and the dedupe window under it) from
 * the window's day partitions, and BigQuery bills at least 10 MB for the table it references.
 *
 * Secret Manager as deployed too: the workspaces CIO_WORKSPACES names (read and checked as the stack
 * reads it; unset is one), each with its three secrets, and the pseudonym key; the functions re-read
 * theirs every SECRET_REFRESH_SECONDS, the value the stack deploys (infra/constructs/functions.ts).
 */
import { createHash } from 'node:crypto';
import type { Request, Response } from '@google-cloud/functions-framework';
import { runGuard } from '../../functions/guard.js';
import { createHandler } from '../../functions/handler.js';
import type { DedupeStore } from '../../functions/dedupe-store.js';
import { createLogger } from '../../shared/log.js';
import { normalizeWebhook } from '../../shared/normalize.js';
import { DEFAULT_POLICY, decideActions } from '../../shared/policy.js';
import { encodePushEnvelope } from '../../shared/push-envelope.js';
import { DELIVERABILITY_FUNCTION, DELIVERABILITY_SETTINGS, GUARD_SETTINGS, loadDeliverabilityConfig, parseSetting, type SettingProblem } from '../../shared/deliverability.js';
import { TABLE_COLUMNS, attributesOf, type EventRow } from '../../shared/row.js';
import type { TraceContext } from '../../shared/trace-context.js';
import { analyticsEventsSql } from '../../infra/privacy.js';
import { DERIVED_OBJECTS, bigqueryNames, derivedSql, duckdbNames } from '../../infra/sql.js';
import { workspaceSecretIds } from '../../infra/names.js';
import { SETTINGS } from '../../shared/config.js';
import { WORKSPACES_VARIABLE, WorkspacesError, parseWorkspaces } from '../../shared/workspaces.js';
import { allSamples } from '../local/samples.js';
import { FREE_TIERS, PRICES } from './prices.js';

const num = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
};
/** The assumptions, read when the script runs so a bad value gets the one-line error. */
function readAssumptions() {
  return {
    EVENTS: num('COST_EVENTS', 1_000_000),
    ACTIONABLE: num('COST_ACTIONABLE_SHARE', 0.25),
    DUPLICATES: num('COST_DUPLICATE_SHARE', 0.02),
    RECEIVER_MS: num('COST_RECEIVER_BILLED_MS', 100),
    HANDLER_MS: num('COST_HANDLER_BILLED_MS', 300),
    RETENTION_DAYS: num('COST_RETENTION_DAYS', 7),
    LOG_OVERHEAD: num('COST_LOG_ENTRY_OVERHEAD', 700),
    REQUEST_LOG_BYTES: num('COST_REQUEST_LOG_BYTES', 1200),
    MIN_INSTANCES: num('COST_RECEIVER_MIN_INSTANCES', 1),
    IDLE_RATE: num('COST_IDLE_RATE', 0.0000025),
    GUARD_MS: num('COST_GUARD_BILLED_MS', 3000),
    INSTANCE_STARTS: num('COST_INSTANCE_STARTS', 720),
    ...guardSchedule(),
    WORKSPACES: workspaceCount(),
  };
}

/** How many Customer.io workspaces the stack serves: CIO_WORKSPACES, parsed as the stack parses it. */
function workspaceCount(): number {
  try {
    return parseWorkspaces(process.env[WORKSPACES_VARIABLE])?.length ?? 1;
  } catch (error) {
    if (error instanceof WorkspacesError) throw new Error(`${WORKSPACES_VARIABLE}: ${error.message}`);
    throw error;
  }
}

/** The guard's interval and window, from the variables the deploy reads, checked as it checks them. */
function guardSchedule() {
  const problems: SettingProblem[] = [];
  const read = (name: string) => process.env[name];
  const interval = parseSetting(read, GUARD_SETTINGS.intervalMinutes, problems);
  const windowHours = parseSetting(read, DELIVERABILITY_SETTINGS.windowHours, problems);
  if (problems.length > 0) throw new Error(`${problems[0]!.variable}: ${problems[0]!.message}`);
  return { GUARD_INTERVAL: interval, GUARD_WINDOW_HOURS: windowHours };
}

/**
 * The tables the guard's query references: it reads the analysts' dataset, whose events view reads
 * the raw events table and joins what else its SQL names (the pseudonym key's table). BigQuery bills
 * at least 10 MB for each, however little it reads of it.
 */
export function guardQueryTables(): string[] {
  const sql = analyticsEventsSql('bigquery', bigqueryNames('p', 'raw'));
  return [...new Set([...sql.matchAll(/`p\.raw\.(\w+)`/g)].map((m) => m[1]!))];
}

/**
 * The table columns the guard's query reads: those its SQL names, down to the events table (BigQuery
 * reads only the columns a query references, through views and table functions).
 */
export function guardQueryColumns(): string[] {
  const texts: string[] = [];
  const follow = (name: keyof typeof DERIVED_OBJECTS) => {
    texts.push(derivedSql(name, duckdbNames()).replace(/--.*$/gm, ''));
    for (const read of Object.values(DERIVED_OBJECTS[name].reads as Record<string, { object: string }>)) if (read.object in DERIVED_OBJECTS) follow(read.object as keyof typeof DERIVED_OBJECTS);
  };
  follow(DELIVERABILITY_FUNCTION);
  return TABLE_COLUMNS.map((c) => c.name).filter((name) => texts.some((t) => new RegExp(`\\b${name}\\b`).test(t)));
}
/** Both functions run with 1 vCPU and 512 MiB (infra/constructs/functions.ts). */
const VCPU = 1;
const GIB = 0.5;
const TIB = 2 ** 40;
const GIB_BYTES = 2 ** 30;
const SECONDS_A_MONTH = 30 * 86_400;
/** Pub/Sub message ids are decimal strings of about 16 digits. */
const MESSAGE_ID_BYTES = 16;
/** bench:handler: a new event costs a create and a done-write, a duplicate a rejected create and a read. */
const FIRESTORE = { newEvent: { writes: 2, reads: 0, deletes: 1 }, duplicate: { writes: 1, reads: 1, deletes: 0 } };
/** The stack deploys the functions with SECRET_REFRESH_SECONDS at its default (infra/constructs/functions.ts). */
const SECRET_REFRESH_SECONDS = SETTINGS.secretRefreshSeconds.parse(SETTINGS.secretRefreshSeconds.default);
/** Each workspace's operator-filled secrets (infra/names.ts); the stack adds the pseudonym key. */
const SECRETS_PER_WORKSPACE = Object.keys(workspaceSecretIds('cio', null)).length;

/**
 * Secret Manager access operations of one function a month. Each instance reads each of its secrets
 * as it starts (functions/receiver-wiring.ts, handler-wiring.ts; Cloud Run itself reads a secret
 * environment variable then), and again on the first request for the secret's workspace once
 * SECRET_REFRESH_SECONDS have passed (functions/refreshing-secret.ts): at most once an interval per
 * instance and secret, and never more often than requests come. The instances up through the month
 * are at least the warm minimum, at least one while requests come, or the billed instance-seconds
 * spread over the month when they come to more (each request counted as if alone on an instance,
 * which counts more instances than concurrency needs). A workspace's secret is refreshed by its own
 * requests: the model splits the requests evenly between the workspaces.
 */
function secretAccesses(f: { requests: number; busySeconds: number; minInstances: number; refreshedPerWorkspace: number; readAtStartOnly: number; workspaces: number; starts: number }) {
  const instancesUp = Math.max(f.minInstances, 1, f.busySeconds / SECONDS_A_MONTH);
  const intervals = SECONDS_A_MONTH / SECRET_REFRESH_SECONDS;
  const refreshes = f.refreshedPerWorkspace * f.workspaces * Math.min(f.requests / f.workspaces, instancesUp * intervals);
  // An instance starts only for a request (or to keep the minimum warm, once per deploy).
  const atStart = Math.min(f.requests, f.starts) * (f.refreshedPerWorkspace * f.workspaces + f.readAtStartOnly);
  return refreshes + atStart;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** BigQuery's logical size of a value (its "data size calculation"): STRING 2 + UTF-8 bytes, INT64/TIMESTAMP 8, BOOL 1, NULL 0. */
function bigqueryRowBytes(row: Record<string, unknown>, columns: readonly string[] = TABLE_COLUMNS.map((c) => c.name)): number {
  let bytes = 0;
  for (const column of TABLE_COLUMNS.filter((c) => columns.includes(c.name))) {
    const value = row[column.name];
    if (value === null || value === undefined) continue;
    if (column.type === 'STRING') bytes += 2 + Buffer.byteLength(String(value));
    else if (column.type === 'BOOL') bytes += 1;
    else bytes += 8;
  }
  return bytes;
}

/** Every message carries its request's trace, and every handler entry the trace's fields. */
const PROJECT_ID = 'acme-prod-1';
const TRACE: TraceContext = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), sampled: false };

/**
 * Runs the real handler on one push of `row` and returns the bytes of what it logged at INFO. The
 * line's latency is this process's, a millisecond or two; deployed, a push takes about its billed
 * time, so the line is counted with that latency (and the figure does not move with this machine's load).
 */
async function handlerLogBytes(row: EventRow, latencyMs: number): Promise<number> {
  let bytes = 0;
  const write = (line: string) => (bytes += Buffer.byteLength(line.replace(/"latency_ms":\d+/, `"latency_ms":${Math.round(latencyMs)}`)) + 1);
  const logger = createLogger({ level: 'info', write });
  const dedupe: DedupeStore = { claim: async () => ({ kind: 'claimed', attempt: 1 }), finish: async () => undefined };
  const handler = createHandler({ policy: DEFAULT_POLICY, dedupe, cio: { execute: async () => undefined }, logger, project: PROJECT_ID, pseudonymKey: Buffer.alloc(32, 1) });
  const body = encodePushEnvelope(row, {
    trace: TRACE,
    messageId: '1'.repeat(MESSAGE_ID_BYTES),
    subscription: 'projects/acme-prod-1/subscriptions/cio-events-push',
    publishTime: new Date().toISOString(),
    deliveryAttempt: 1,
  });
  const res = { status: () => res, json: () => res, end: () => res, set: () => res } as unknown as Response;
  await handler({ method: 'POST', headers: {}, body } as Request, res);
  return bytes;
}

/** Runs the real guard once on a window without breaches and returns the bytes it logged. */
async function guardLogBytes(): Promise<number> {
  let bytes = 0;
  const logger = createLogger({ level: 'info', base: { component: 'guard' }, write: (line) => (bytes += Buffer.byteLength(line) + 1) });
  await runGuard({ config: loadDeliverabilityConfig({}), logger, read: async () => ({ rows: [], bytesBilled: 10 * 2 ** 20 }) });
  return bytes;
}

async function measure(handlerLatencyMs: number) {
  const samples = allSamples({ seq: 1 });
  const rows = samples.map((sample) => normalizeWebhook({ body: Buffer.from(JSON.stringify(sample)), receivedAt: new Date() }));
  const messageBytes = rows.map((row) => {
    const attributes = Object.entries(attributesOf(row, TRACE)).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    return Buffer.byteLength(JSON.stringify(row)) + attributes + 20 + MESSAGE_ID_BYTES;
  });
  const written = rows.map((row) => ({ ...row, subscription_name: 'projects/acme-prod-1/subscriptions/cio-events-bigquery', message_id: '1'.repeat(MESSAGE_ID_BYTES), publish_time: 'x', attributes: JSON.stringify(attributesOf(row, TRACE)) }));
  const tableRows = written.map((row) => bigqueryRowBytes(row));
  const guardColumns = guardQueryColumns();
  const actionable = rows.filter((row) => decideActions(row, DEFAULT_POLICY).kind === 'act');
  const logLines = await Promise.all(actionable.map((row) => handlerLogBytes(row, handlerLatencyMs)));
  return {
    samples: samples.length,
    bodyBytes: mean(samples.map((s) => Buffer.byteLength(JSON.stringify(s)))),
    messageBytes: mean(messageBytes),
    smallestMessageBytes: Math.min(...messageBytes),
    rowBytes: mean(tableRows),
    sampleActionableShare: actionable.length / rows.length,
    handlerLineBytes: mean(logLines),
    guardColumns,
    guardTables: guardQueryTables(),
    guardRowBytes: mean(written.map((row) => bigqueryRowBytes(row, guardColumns))),
    guardLineBytes: await guardLogBytes(),
    digest: createHash('sha256').update(JSON.stringify(samples.map((s) => s.object_type + s.metric))).digest('hex').slice(0, 8),
  };
}

interface Line {
  component: string;
  quantity: string;
  usd: number;
}

async function main() {
  const { EVENTS, ACTIONABLE, DUPLICATES, RECEIVER_MS, HANDLER_MS, RETENTION_DAYS, LOG_OVERHEAD, REQUEST_LOG_BYTES, MIN_INSTANCES, IDLE_RATE, GUARD_MS, INSTANCE_STARTS, GUARD_INTERVAL, GUARD_WINDOW_HOURS, WORKSPACES } = readAssumptions();
  const m = await measure(HANDLER_MS);
  const deliveries = EVENTS * (1 + DUPLICATES);
  const pushes = deliveries * ACTIONABLE;
  const newActionable = EVENTS * ACTIONABLE;
  const billed = (bytes: number) => Math.max(PRICES.pubsubMinimumBytesPerRequest.usd, bytes);
  const lines: Line[] = [];
  const add = (component: string, quantity: string, usd: number) => lines.push({ component, quantity, usd });
  const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

  add('Cloud Run receiver: requests', `${fmt(deliveries)} requests`, (deliveries / 1e6) * PRICES.runRequestsPerMillion.usd);
  const receiverSeconds = (deliveries * RECEIVER_MS) / 1000;
  add('Cloud Run receiver: CPU + memory', `${fmt(receiverSeconds)} instance-s × ${VCPU} vCPU, ${GIB} GiB`, receiverSeconds * (VCPU * PRICES.runCpuPerVcpuSecond.usd + GIB * PRICES.runMemoryPerGiBSecond.usd));
  add('Cloud Run receiver: warm minimum instance', `${MIN_INSTANCES} × ${fmt(SECONDS_A_MONTH)} idle s`, MIN_INSTANCES * SECONDS_A_MONTH * (VCPU + GIB) * IDLE_RATE);
  add('Cloud Run handler: requests', `${fmt(pushes)} pushes`, (pushes / 1e6) * PRICES.runRequestsPerMillion.usd);
  const handlerSeconds = (pushes * HANDLER_MS) / 1000;
  add('Cloud Run handler: CPU + memory', `${fmt(handlerSeconds)} instance-s`, handlerSeconds * (VCPU * PRICES.runCpuPerVcpuSecond.usd + GIB * PRICES.runMemoryPerGiBSecond.usd));
  const publishBytes = deliveries * billed(m.messageBytes);
  add('Pub/Sub: publish (1 message per request)', `${fmt(publishBytes / GIB_BYTES, 2)} GiB billed`, (publishBytes / TIB) * PRICES.pubsubThroughputPerTiB.usd);
  const pushBytes = pushes * billed(m.messageBytes);
  add('Pub/Sub: push delivery to the handler', `${fmt(pushBytes / GIB_BYTES, 2)} GiB billed`, (pushBytes / TIB) * PRICES.pubsubThroughputPerTiB.usd);
  const bigqueryBytes = deliveries * m.messageBytes;
  add('Pub/Sub: BigQuery subscription writes', `${fmt(bigqueryBytes / GIB_BYTES, 2)} GiB`, (bigqueryBytes / TIB) * PRICES.bigquerySubscriptionPerTiB.usd);
  const retainedGiB = (deliveries * m.messageBytes * (RETENTION_DAYS / 30)) / GIB_BYTES;
  add(`Pub/Sub: topic retention (${RETENTION_DAYS} days, for replay)`, `${fmt(retainedGiB, 2)} GiB-month`, retainedGiB * PRICES.pubsubStoragePerGiBMonth.usd);
  const storedGiB = (deliveries * m.rowBytes) / GIB_BYTES;
  add('BigQuery: storage added each month', `${fmt(storedGiB, 2)} GiB (active, logical)`, storedGiB * PRICES.bigqueryActiveStoragePerGiBMonth.usd);
  const duplicatePushes = pushes - newActionable;
  const writes = newActionable * FIRESTORE.newEvent.writes + duplicatePushes * FIRESTORE.duplicate.writes;
  const reads = duplicatePushes * FIRESTORE.duplicate.reads;
  const deletes = newActionable * FIRESTORE.newEvent.deletes;
  add('Firestore: dedupe claims, done-writes, TTL deletes', `${fmt(writes)} writes, ${fmt(reads)} reads, ${fmt(deletes)} deletes`,
    (writes / 1e5) * PRICES.firestoreWritesPer100k.usd + (reads / 1e5) * PRICES.firestoreReadsPer100k.usd + (deletes / 1e5) * PRICES.firestoreDeletesPer100k.usd);
  const logBytes = deliveries * REQUEST_LOG_BYTES + pushes * (REQUEST_LOG_BYTES + m.handlerLineBytes + LOG_OVERHEAD);
  add('Cloud Logging: request logs + the handler\'s line per push', `${fmt(logBytes / GIB_BYTES, 2)} GiB`, (logBytes / GIB_BYTES) * PRICES.loggingPerGiB.usd);
  // The newest version of each secret (older ones you keep, enabled or disabled, cost the same).
  const secrets = WORKSPACES * SECRETS_PER_WORKSPACE + 1;
  // The receiver refreshes its workspaces' signing keys; the handler their site id and Track API key,
  // and has the pseudonym key (pinned to a version) from Cloud Run at start.
  const accesses =
    secretAccesses({ requests: deliveries, busySeconds: receiverSeconds, minInstances: MIN_INSTANCES, refreshedPerWorkspace: 1, readAtStartOnly: 0, workspaces: WORKSPACES, starts: INSTANCE_STARTS }) +
    secretAccesses({ requests: pushes, busySeconds: handlerSeconds, minInstances: 0, refreshedPerWorkspace: 2, readAtStartOnly: 1, workspaces: WORKSPACES, starts: INSTANCE_STARTS });
  add('Secret Manager: versions and access operations', `${secrets} active versions, ${fmt(accesses)} accesses`,
    secrets * PRICES.secretVersionPerMonth.usd + (accesses / 1e4) * PRICES.secretAccessesPer10k.usd);
  const runs = SECONDS_A_MONTH / 60 / GUARD_INTERVAL;
  // A window not starting at midnight touches one day partition more than its length in days.
  const daysRead = Math.ceil(GUARD_WINDOW_HOURS / 24) + 1;
  const scannedPerRun = (deliveries / 30) * daysRead * m.guardRowBytes;
  // The events table bills what the run reads (10 MB at least); every other table referenced, 10 MB.
  const billedPerRun = Math.max(PRICES.bigqueryMinimumBytesPerTable.usd, scannedPerRun) + (m.guardTables.length - 1) * PRICES.bigqueryMinimumBytesPerTable.usd;
  const MIB = 2 ** 20;
  add('Deliverability guard: BigQuery queries', `${fmt(runs)} runs × ${fmt(billedPerRun / MIB, 1)} MiB billed (reads ${fmt(scannedPerRun / MIB, 1)} MiB)`, ((runs * billedPerRun) / TIB) * PRICES.bigqueryOnDemandPerTiB.usd);
  const guardSeconds = (runs * GUARD_MS) / 1000;
  const guardLogs = runs * (REQUEST_LOG_BYTES + m.guardLineBytes + LOG_OVERHEAD);
  add('Deliverability guard: Cloud Run runs and their logs', `${fmt(runs)} runs, ${fmt(guardSeconds)} instance-s`,
    (runs / 1e6) * PRICES.runRequestsPerMillion.usd + guardSeconds * (VCPU * PRICES.runCpuPerVcpuSecond.usd + GIB * PRICES.runMemoryPerGiBSecond.usd) + (guardLogs / GIB_BYTES) * PRICES.loggingPerGiB.usd);
  add('Deliverability guard: Cloud Scheduler job', '1 job', PRICES.schedulerJobPerMonth.usd);

  const total = lines.reduce((n, l) => n + l.usd, 0);
  const out = (s = '') => process.stdout.write(`${s}\n`);
  out(`measured on the ${m.samples} sample events (every object type and metric, samples ${m.digest}):`);
  out(`  webhook body                      ${fmt(m.bodyBytes)} bytes on average`);
  out(`  Pub/Sub message                   ${fmt(m.messageBytes)} bytes on average (data + attributes + timestamp + id), the smallest ${fmt(m.smallestMessageBytes)}`);
  out(`                                    → billed as ${fmt(billed(m.messageBytes))} per request (Pub/Sub bills at least ${fmt(PRICES.pubsubMinimumBytesPerRequest.usd)})`);
  out(`  BigQuery row (logical bytes)      ${fmt(m.rowBytes)} bytes`);
  out(`  handler's log line per push       ${fmt(m.handlerLineBytes)} bytes (+ ${LOG_OVERHEAD} Cloud Logging adds, assumed)`);
  out(`  actionable share of the samples   ${fmt(m.sampleActionableShare * 100, 1)}% (the model uses COST_ACTIONABLE_SHARE = ${ACTIONABLE})`);
  out(`  deliverability guard's query      ${fmt(m.guardRowBytes)} bytes per row read (${m.guardColumns.length} columns: ${m.guardColumns.join(', ')})`);
  out(`                                    every ${GUARD_INTERVAL} minutes over ${GUARD_WINDOW_HOURS} hours: ${daysRead} day partitions at most; its log line per run ${fmt(m.guardLineBytes)} bytes`);
  out(`                                    tables it references: ${m.guardTables.join(', ')} (BigQuery bills at least 10 MB for each)`);
  out(`  Secret Manager (as deployed)      ${secrets} secrets: ${SECRETS_PER_WORKSPACE} for each of ${WORKSPACES} workspace${WORKSPACES === 1 ? '' : 's'} (${WORKSPACES_VARIABLE}) and the pseudonym key;`);
  out(`                                    each instance reads its own as it starts, then again every ${SECRET_REFRESH_SECONDS} s while serving (SECRET_REFRESH_SECONDS)`);
  out();
  out(`${fmt(EVENTS)} events a month, ${DUPLICATES * 100}% extra deliveries, ${ACTIONABLE * 100}% pushed to the handler; list prices, no free tier subtracted`);
  out();
  const width = Math.max(...lines.map((l) => l.component.length)) + 2;
  out(`${'component'.padEnd(width)}${'quantity'.padEnd(52)}${'USD'.padStart(9)}`);
  for (const l of lines) out(`${l.component.padEnd(width)}${l.quantity.padEnd(52)}${fmt(l.usd, 2).padStart(9)}`);
  out(`${'total'.padEnd(width)}${''.padEnd(52)}${fmt(total, 2).padStart(9)}`);
  out(`${'per million events'.padEnd(width)}${''.padEnd(52)}${fmt((total / EVENTS) * 1e6, 2).padStart(9)}`);
  out();
  out('free allowances (subtract what your billing account and project have left):');
  for (const tier of FREE_TIERS) out(`  - ${tier}`);
}

main().catch((error) => {
  process.stderr.write(`cost: ${(error as Error).message}\n`);
  process.exit(1);
});
