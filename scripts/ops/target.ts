/**
 * Where an ops command points: the running local stack (`--local`: emulators and the DuckDB
 * warehouse from .local/stack.json) or a real project (`--project` or GOOGLE_CLOUD_PROJECT; BigQuery).
 * Commands are the same either way.
 */
import { BigQuery } from '@google-cloud/bigquery';
import { PubSub, v1 } from '@google-cloud/pubsub';
import { DEFAULT_PREFIX, pipelineNames } from '../../infra/names.js';
import { UsageError, requireLocalStack } from '../lib/cli.js';
import { queryWarehouse } from '../lib/local-warehouse.js';

export interface Counts {
  object_type: string | null;
  metric: string | null;
  rows: number;
  events: number;
}

/** The questions the ops commands ask the warehouse, answered by BigQuery or the local DuckDB file. */
export interface WarehouseReader {
  describe: string;
  countsSince(since: Date): Promise<Counts[]>;
  /** Rows for the event, with their publish time. */
  findEvent(eventId: string): Promise<Array<{ publish_time: string | null }>>;
  rowsPublishedSince(since: Date, subscription: string): Promise<number>;
}

export interface Target {
  project: string;
  names: ReturnType<typeof pipelineNames>;
  /** Subscription the warehouse is written from (BigQuery subscription, or the local sink's). */
  warehouseSubscription: string;
  pubsub: PubSub;
  subscriber: v1.SubscriberClient;
  warehouse: WarehouseReader;
  local: boolean;
  close(): Promise<void>;
}

export interface TargetFlags {
  local?: boolean;
  project?: string;
  prefix?: string;
  table?: string;
}

function duckdbReader(path: string): WarehouseReader {
  return {
    describe: `local warehouse ${path}`,
    async countsSince(since) {
      const rows = await queryWarehouse(
        path,
        'SELECT object_type, metric, COUNT(*) AS rows, COUNT(DISTINCT event_id) AS events FROM events WHERE publish_time >= $1 GROUP BY ALL ORDER BY rows DESC, object_type, metric',
        [since.toISOString()],
      );
      return rows.map((r) => ({ object_type: r.object_type as string | null, metric: r.metric as string | null, rows: Number(r.rows), events: Number(r.events) }));
    },
    async findEvent(eventId) {
      return (await queryWarehouse(path, 'SELECT CAST(publish_time AS VARCHAR) AS publish_time FROM events WHERE event_id = $1', [eventId])) as Array<{ publish_time: string | null }>;
    },
    async rowsPublishedSince(since, subscription) {
      const [row] = await queryWarehouse(path, 'SELECT COUNT(*) AS n FROM events WHERE publish_time >= $1 AND subscription_name LIKE $2', [since.toISOString(), `%/${subscription}`]);
      return Number(row?.n ?? 0);
    },
  };
}

function bigqueryReader(project: string, table: string): WarehouseReader {
  const bigquery = new BigQuery({ projectId: project });
  const run = async (query: string, params: Record<string, unknown>) => (await bigquery.query({ query, params }))[0] as Array<Record<string, unknown>>;
  return {
    describe: `BigQuery table ${table}`,
    async countsSince(since) {
      const rows = await run(
        `SELECT object_type, metric, COUNT(*) AS rows, COUNT(DISTINCT event_id) AS events FROM \`${table}\` WHERE publish_time >= @since GROUP BY object_type, metric ORDER BY rows DESC, object_type, metric`,
        { since },
      );
      return rows.map((r) => ({ object_type: r.object_type as string | null, metric: r.metric as string | null, rows: Number(r.rows), events: Number(r.events) }));
    },
    async findEvent(eventId) {
      const rows = await run(`SELECT CAST(publish_time AS STRING) AS publish_time FROM \`${table}\` WHERE event_id = @eventId`, { eventId });
      return rows as Array<{ publish_time: string | null }>;
    },
    async rowsPublishedSince(since, subscription) {
      const [row] = await run(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE publish_time >= @since AND ENDS_WITH(subscription_name, @suffix)`, { since, suffix: `/${subscription}` });
      return Number(row?.n ?? 0);
    },
  };
}

export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Target {
  if (flags.local) {
    const stack = requireLocalStack();
    const pubsub = new PubSub({ projectId: stack.project, apiEndpoint: stack.pubsubHost });
    const subscriber = new v1.SubscriberClient({ ...pubsub.options });
    return {
      project: stack.project,
      names: stack.names,
      warehouseSubscription: stack.warehouseSubscription,
      pubsub,
      subscriber,
      warehouse: duckdbReader(stack.warehousePath),
      local: true,
      close: async () => {
        await subscriber.close();
        await pubsub.close();
      },
    };
  }
  const project = flags.project ?? env.GOOGLE_CLOUD_PROJECT;
  if (!project) throw new UsageError('name the project with --project or GOOGLE_CLOUD_PROJECT, or use --local');
  const prefix = flags.prefix ?? DEFAULT_PREFIX;
  const names = pipelineNames(prefix);
  const pubsub = new PubSub({ projectId: project });
  const subscriber = new v1.SubscriberClient({ ...pubsub.options });
  return {
    project,
    names,
    warehouseSubscription: names.bigquerySubscription,
    pubsub,
    subscriber,
    warehouse: bigqueryReader(project, flags.table ?? `${project}.${names.dataset}.events`),
    local: false,
    close: async () => {
      await subscriber.close();
      await pubsub.close();
    },
  };
}

export const TARGET_HELP = `target (every command):
  --local              the running npm start stack (emulators, DuckDB warehouse)
  --project ID         a deployed project (default: GOOGLE_CLOUD_PROJECT)
  --prefix P           resource name prefix used at deploy (default: cio)
  --table P.D.T        the events table (default: <project>.<prefix>_webhooks.events)`;

export const TARGET_OPTIONS = {
  local: { type: 'boolean' },
  project: { type: 'string' },
  prefix: { type: 'string' },
  table: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
