/**
 * Where an ops command points: the running local stack (`--local`: the emulators, the DuckDB
 * warehouse and the functions' log files from .local/stack.json) or a deployed project
 * (`--project` or GOOGLE_CLOUD_PROJECT: Pub/Sub, BigQuery, Firestore, Cloud Logging). Commands are
 * the same either way; only what answers them differs.
 */
import { readFileSync } from 'node:fs';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub, v1 } from '@google-cloud/pubsub';
import type { AuthClient } from 'google-auth-library';
import { SETTINGS } from '../shared/config.js';
import { dedupeDocumentId } from '../shared/dedupe.js';
import { TRACE_LOG_FIELDS } from '../shared/trace-context.js';
import { DEDUPE_COLLECTION, DEFAULT_PREFIX, pipelineNames, type PipelineNames } from '../infra/names.js';
import { DEFAULT_STATE_DIR } from '../scripts/local/stack-file.js';
import { localSnapshotOrigins, type SnapshotOrigins } from '../scripts/local/snapshot-origins.js';
import { UsageError, requireLocalStack } from './cli.js';
import { resolveCredentials } from './credentials.js';
import { createGoogleApi, type GoogleApi } from './google-api.js';
import { DEFAULT_MAX_BYTES } from './warehouse/bigquery-queries.js';
import type { WarehouseReader } from './warehouse/reader.js';

export interface DedupeRecordView {
  status: string | null;
  attempts: number | null;
  error: string | null;
  lease_until: string | null;
  expire_at: string | null;
  created_at: string | null;
  updated_at: string | null;
}

/** One log entry about an event, from either function. */
export interface LogLine {
  timestamp: string | null;
  component: string;
  severity: string;
  message: string;
  fields: Record<string, unknown>;
}

export interface Target {
  project: string;
  names: PipelineNames;
  /** Subscription the warehouse is written from (BigQuery subscription, or the local sink's). */
  warehouseSubscription: string;
  pubsub: PubSub;
  subscriber: v1.SubscriberClient;
  warehouse: WarehouseReader;
  /**
   * The event's dedupe record, or null when there is none (a metric without actions, or expired):
   * keyed by the event id alone with one workspace (workspace null), by the workspace and the id with several.
   */
  dedupeRecord(eventId: string, workspace?: string | null): Promise<DedupeRecordView | null>;
  /** What the receiver and the handler logged about the event since `since`. */
  logLines(eventId: string, since: Date): Promise<LogLine[]>;
  /** Google's REST APIs with the caller's credentials (deployed only). */
  api: GoogleApi | null;
  /** Where snapshot origins are kept besides the snapshots' labels (local: the emulator drops labels). */
  snapshotOrigins: SnapshotOrigins | null;
  local: boolean;
  close(): Promise<void>;
}

export interface TargetFlags {
  local?: boolean;
  project?: string;
  prefix?: string;
  'max-gb'?: string;
}

const timestampText = (value: unknown): string | null =>
  value && typeof value === 'object' && 'toDate' in value ? (value as { toDate(): Date }).toDate().toISOString() : null;

async function readDedupeRecord(firestore: Firestore, collection: string, eventId: string, workspace: string | null = null): Promise<DedupeRecordView | null> {
  const snapshot = await firestore.collection(collection).doc(dedupeDocumentId(eventId, workspace)).get();
  if (!snapshot.exists) return null;
  const data = snapshot.data() ?? {};
  return {
    status: typeof data.status === 'string' ? data.status : null,
    attempts: typeof data.attempts === 'number' ? data.attempts : null,
    error: typeof data.error === 'string' ? data.error : null,
    lease_until: timestampText(data.lease_until),
    expire_at: timestampText(data.expire_at),
    created_at: timestampText(data.created_at),
    updated_at: timestampText(data.updated_at),
  };
}

/** A structured log line (the functions' format) as a LogLine, when it mentions the event. */
export function logLineOf(entry: Record<string, unknown>, component: string, timestamp: string | null): LogLine {
  const { severity, message, component: logged, ...fields } = entry;
  return { timestamp, component: typeof logged === 'string' ? logged : component, severity: String(severity ?? 'DEFAULT'), message: String(message ?? ''), fields };
}

function localLogLines(files: Record<string, string>, eventId: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const [component, file] of Object.entries(files)) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.includes(eventId)) continue;
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.event_id === eventId) lines.push(logLineOf(entry, component, null));
      } catch {
        // not a structured line
      }
    }
  }
  return lines;
}

interface LogEntry {
  timestamp?: string;
  severity?: string;
  /** Cloud Logging moves the entry's `logging.googleapis.com/trace` field here. */
  trace?: string;
  jsonPayload?: Record<string, unknown>;
  resource?: { labels?: { service_name?: string } };
}

async function cloudLogLines(api: GoogleApi, project: string, names: PipelineNames, eventId: string, since: Date): Promise<LogLine[]> {
  const filter = [
    'resource.type = "cloud_run_revision"',
    `resource.labels.service_name = ("${names.receiver}" OR "${names.handler}")`,
    `jsonPayload.event_id = ${JSON.stringify(eventId)}`,
    `timestamp >= "${since.toISOString()}"`,
  ].join(' AND ');
  const body = await api.call<{ entries?: LogEntry[] }>('logging', 'v2/entries:list', {
    method: 'POST',
    body: { resourceNames: [`projects/${project}`], filter, orderBy: 'timestamp asc', pageSize: 200 },
  });
  return (body.entries ?? []).map((e) => logLineOf({ severity: e.severity, ...(e.jsonPayload ?? {}), ...(e.trace ? { [TRACE_LOG_FIELDS.trace]: e.trace } : {}) }, e.resource?.labels?.service_name ?? '?', e.timestamp ?? null));
}

/** The byte cap for this command's BigQuery queries (--max-gb, default 10). */
function maxBytes(flags: TargetFlags): number {
  if (flags['max-gb'] === undefined) return DEFAULT_MAX_BYTES;
  const gb = Number(flags['max-gb']);
  if (!Number.isFinite(gb) || gb <= 0) throw new UsageError(`--max-gb must be a positive number (got ${JSON.stringify(flags['max-gb'])})`);
  return Math.round(gb * 1024 ** 3);
}

/**
 * The clients every target holds (Pub/Sub at `pubsubEndpoint` when given; deployed, all with the
 * one credential resolved up front), and how to close them all.
 */
async function openClients(projectId: string, databaseId: string, { pubsubEndpoint, authClient }: { pubsubEndpoint?: string; authClient?: AuthClient }) {
  // Loaded here, not when the module is: they take over a second to load, and a command that stops
  // at its arguments or its credentials should answer at once.
  const [{ PubSub, v1 }, { Firestore }] = await Promise.all([import('@google-cloud/pubsub'), import('@google-cloud/firestore')]);
  const pubsub = new PubSub({ projectId, ...(pubsubEndpoint ? { apiEndpoint: pubsubEndpoint } : {}), ...(authClient ? { authClient } : {}) });
  const subscriber = new v1.SubscriberClient({ ...pubsub.options });
  const firestore = new Firestore({ projectId, databaseId, ...(authClient ? { authClient } : {}) });
  return {
    pubsub,
    subscriber,
    firestore,
    close: async () => {
      await subscriber.close();
      await pubsub.close();
      await firestore.terminate();
    },
  };
}

/** Flags that name two targets at once are refused, not one of them silently ignored. */
export function checkTargetFlags(flags: TargetFlags): void {
  if (flags.local && (flags.project !== undefined || flags.prefix !== undefined)) {
    throw new UsageError(`--local and --${flags.project !== undefined ? 'project' : 'prefix'} name two different targets: use one`);
  }
}

export async function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  checkTargetFlags(flags);
  if (flags.local) {
    const stack = requireLocalStack();
    // No metadata server on a laptop: without this, google-auth probes for one and prints
    // "MetadataLookupWarning … ENOTFOUND" before the command's own output.
    process.env.METADATA_SERVER_DETECTION = 'none';
    process.env.FIRESTORE_EMULATOR_HOST = stack.firestoreHost;
    const { firestore, ...clients } = await openClients(stack.project, stack.dedupeDatabase, { pubsubEndpoint: stack.pubsubHost });
    const { duckdbReader } = await import('./warehouse/duckdb.js');
    return {
      project: stack.project,
      names: stack.names,
      warehouseSubscription: stack.warehouseSubscription,
      ...clients,
      warehouse: duckdbReader(stack.warehousePath),
      dedupeRecord: (eventId, workspace) => readDedupeRecord(firestore, stack.dedupeCollection, eventId, workspace),
      logLines: async (eventId) => localLogLines(stack.logFiles, eventId),
      api: null,
      snapshotOrigins: localSnapshotOrigins(DEFAULT_STATE_DIR),
      local: true,
    };
  }
  const project = flags.project ?? env.GOOGLE_CLOUD_PROJECT;
  if (!project) throw new UsageError('name the project with --project or GOOGLE_CLOUD_PROJECT, or use --local');
  const names = pipelineNames(flags.prefix ?? DEFAULT_PREFIX);
  const cap = maxBytes(flags);
  // Before any client exists: no credentials is one line now, not a library's stack trace later.
  const credentials = await resolveCredentials(project, env);
  const { firestore, ...clients } = await openClients(project, names.dedupeDatabase, { authClient: credentials });
  const api = createGoogleApi(env, credentials);
  const { bigqueryReader } = await import('./warehouse/bigquery.js');
  return {
    project,
    names,
    warehouseSubscription: names.bigquerySubscription,
    ...clients,
    warehouse: bigqueryReader({ project, dataset: names.dataset, analyticsDataset: names.analyticsDataset }, cap, credentials),
    dedupeRecord: (eventId, workspace) => readDedupeRecord(firestore, env[SETTINGS.dedupeCollection.name] ?? DEDUPE_COLLECTION, eventId, workspace),
    logLines: (eventId, since) => cloudLogLines(api, project, names, eventId, since),
    api,
    snapshotOrigins: null,
    local: false,
  };
}

export const TARGET_HELP = `target (every command):
  --local              the running npm start stack (emulators, DuckDB warehouse, local logs)
  --project ID         a deployed project (default: GOOGLE_CLOUD_PROJECT)
  --prefix P           resource name prefix used at deploy (default: cio)
  --max-gb N           refuse a BigQuery query that would bill more than N GB (default 10)`;

export const TARGET_OPTIONS = {
  local: { type: 'boolean' },
  project: { type: 'string' },
  prefix: { type: 'string' },
  'max-gb': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
