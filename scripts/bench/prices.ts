/**
 * Google Cloud list prices the cost model (cost.ts, docs/cost.md) uses: USD, Tier 1 regions such as
 * us-central1, no committed-use discounts, each with where and when it was read. Free tiers are
 * listed apart: they are per billing account or per project and shared with everything else there.
 * Re-read them before relying on a figure; change them here and `npm run cost` follows.
 */
export interface Price {
  usd: number;
  per: string;
  source: string;
  /** When the figure was read at the source (ISO date). */
  read: string;
}

const PUBSUB = 'https://cloud.google.com/pubsub/pricing';
const RUN = 'https://cloud.google.com/run/pricing';
const FIRESTORE = 'https://cloud.google.com/firestore/pricing';
const OBSERVABILITY = 'https://cloud.google.com/stackdriver/pricing';
const SECRETS = 'https://cloud.google.com/secret-manager/pricing';
const BIGQUERY = 'https://cloud.google.com/bigquery/pricing';
const SCHEDULER = 'https://cloud.google.com/scheduler/pricing';

export const PRICES = {
  pubsubThroughputPerTiB: { usd: 40, per: 'TiB published or delivered (pull, push)', source: PUBSUB, read: '2026-09-20' },
  pubsubMinimumBytesPerRequest: { usd: 1000, per: 'bytes billed at least per publish, push or pull request', source: PUBSUB, read: '2026-09-20' },
  bigquerySubscriptionPerTiB: { usd: 50, per: 'TiB written by a BigQuery subscription', source: PUBSUB, read: '2026-09-20' },
  pubsubStoragePerGiBMonth: { usd: 0.27, per: 'GiB-month of messages retained by a topic', source: PUBSUB, read: '2026-09-20' },
  runCpuPerVcpuSecond: { usd: 0.000024, per: 'vCPU-second, request-based billing', source: RUN, read: '2026-11-29' },
  runMemoryPerGiBSecond: { usd: 0.0000025, per: 'GiB-second, request-based billing', source: RUN, read: '2026-11-29' },
  runRequestsPerMillion: { usd: 0.4, per: 'million requests', source: RUN, read: '2026-11-29' },
  firestoreWritesPer100k: { usd: 0.09, per: '100,000 document writes (US regional location)', source: FIRESTORE, read: '2026-11-29' },
  firestoreReadsPer100k: { usd: 0.03, per: '100,000 document reads (US regional location)', source: FIRESTORE, read: '2026-11-29' },
  firestoreDeletesPer100k: { usd: 0.01, per: '100,000 document deletes, TTL deletes included (US regional location)', source: FIRESTORE, read: '2026-11-29' },
  loggingPerGiB: { usd: 0.5, per: 'GiB of logs stored (ingested), 30 days included', source: OBSERVABILITY, read: '2026-11-29' },
  secretAccessesPer10k: { usd: 0.03, per: '10,000 secret access operations', source: SECRETS, read: '2026-11-29' },
  secretVersionPerMonth: { usd: 0.06, per: 'active secret version per location per month', source: SECRETS, read: '2026-11-29' },
  bigqueryActiveStoragePerGiBMonth: { usd: 0.02, per: 'GiB-month of active logical storage', source: BIGQUERY, read: '2026-11-29' },
  bigqueryOnDemandPerTiB: { usd: 6.25, per: 'TiB processed by on-demand queries', source: BIGQUERY, read: '2026-12-01' },
  bigqueryMinimumBytesPerTable: { usd: 10 * 2 ** 20, per: 'bytes billed at least per table a query references (10 MB)', source: BIGQUERY, read: '2026-12-01' },
  schedulerJobPerMonth: { usd: 0.1, per: 'Cloud Scheduler job per 31 days, however often it runs', source: SCHEDULER, read: '2026-12-01' },
} as const satisfies Record<string, Price>;

/** Monthly free allowances, for the reader to subtract: most are shared with the project's other workloads. */
export const FREE_TIERS = [
  'Pub/Sub: first 10 GiB of throughput per billing account (not for BigQuery subscriptions)',
  'Cloud Run: 180,000 vCPU-seconds, 360,000 GiB-seconds and 2 million requests per billing account',
  'Cloud Logging: first 50 GiB per project',
  'Secret Manager: 6 active versions and 10,000 access operations per billing account',
  'BigQuery: first 10 GiB of storage and first 1 TiB of on-demand queries',
  'Cloud Scheduler: 3 jobs per billing account',
  'Firestore: none for a named database such as this stack\'s (the free quota is the (default) database\'s only)',
] as const;
