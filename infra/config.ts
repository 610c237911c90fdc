/**
 * Stack configuration from the environment or cdktf context (`-c key=value` is not available without
 * the CLI, so cdktf.json "context" works too), validated up front with every problem reported at
 * once, as aws-solutions-constructs' CheckProps does.
 */
import { loadPolicyConfig, type PolicyConfig } from '../shared/config.js';

export interface StackConfig {
  project: string;
  region: string;
  /** Prefix of every resource name: "cio" gives topic cio-events, dataset cio_webhooks. */
  prefix: string;
  cioRegion: 'us' | 'eu';
  receiverMinInstances: number;
  receiverMaxInstances: number;
  handlerMaxInstances: number;
  handlerConcurrency: number;
  /** Customer.io Track API request rate the handler must stay under (req/s). */
  cioMaxRequestRate: number;
  /** Days the topic and the subscriptions keep messages for replay (seek). */
  retentionDays: number;
  alertEmail: string | null;
  stateBucket: string | null;
  firestoreLocation: string;
  /** Protects the events table (and its dataset's contents) from `cdktf destroy`. */
  deletionProtection: boolean;
  policy: PolicyConfig;
  /** Directory holding the built function bundle (npm run build). */
  bundleDir: string;
}

export class StackConfigError extends Error {
  override readonly name = 'StackConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid stack configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

type Source = (name: string) => string | undefined;

/** The fastest a Track API call completes (s): with it, in-flight calls bound the request rate. */
export const MIN_CIO_CALL_SECONDS = 0.1;

export const STACK_VARIABLES = {
  project: 'GOOGLE_CLOUD_PROJECT',
  region: 'PIPELINE_REGION',
  prefix: 'PIPELINE_PREFIX',
  cioRegion: 'CIO_REGION',
  receiverMinInstances: 'RECEIVER_MIN_INSTANCES',
  receiverMaxInstances: 'RECEIVER_MAX_INSTANCES',
  handlerMaxInstances: 'HANDLER_MAX_INSTANCES',
  handlerConcurrency: 'HANDLER_CONCURRENCY',
  cioMaxRequestRate: 'CIO_MAX_REQUEST_RATE',
  retentionDays: 'RETENTION_DAYS',
  alertEmail: 'ALERT_EMAIL',
  stateBucket: 'TF_STATE_BUCKET',
  firestoreLocation: 'FIRESTORE_LOCATION',
  deletionProtection: 'DELETION_PROTECTION',
} as const;

export function loadStackConfig(env: Record<string, string | undefined>, context: Source = () => undefined, bundleDir = 'build/bundle'): StackConfig {
  const problems: string[] = [];
  const get = (key: keyof typeof STACK_VARIABLES) => {
    const value = env[STACK_VARIABLES[key]]?.trim() || context(key)?.trim();
    return value === '' ? undefined : value;
  };
  const integer = (key: keyof typeof STACK_VARIABLES, fallback: number, min: number, max: number) => {
    const raw = get(key);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${STACK_VARIABLES[key]} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return n;
  };

  const project = get('project') ?? '';
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(project)) {
    problems.push(`${STACK_VARIABLES.project} must be a Google Cloud project id (got ${JSON.stringify(project)})`);
  }
  const region = get('region') ?? 'us-central1';
  if (!/^[a-z]+-[a-z]+\d+$/.test(region)) problems.push(`${STACK_VARIABLES.region} must be a region such as us-central1 (got ${JSON.stringify(region)})`);
  const prefix = get('prefix') ?? 'cio';
  if (!/^[a-z][a-z0-9]{1,11}$/.test(prefix)) problems.push(`${STACK_VARIABLES.prefix} must be 2–12 lowercase letters or digits (got ${JSON.stringify(prefix)})`);
  const cioRegion = get('cioRegion') ?? 'us';
  if (cioRegion !== 'us' && cioRegion !== 'eu') problems.push(`${STACK_VARIABLES.cioRegion} must be us or eu (got ${JSON.stringify(cioRegion)})`);
  const alertEmail = get('alertEmail') ?? null;
  if (alertEmail !== null && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alertEmail)) problems.push(`${STACK_VARIABLES.alertEmail} must be an email address`);
  const stateBucket = get('stateBucket') ?? null;
  if (stateBucket !== null && !/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(stateBucket)) problems.push(`${STACK_VARIABLES.stateBucket} must be a bucket name`);

  const receiverMinInstances = integer('receiverMinInstances', 1, 0, 100);
  const receiverMaxInstances = integer('receiverMaxInstances', 20, 1, 1000);
  if (receiverMinInstances > receiverMaxInstances) problems.push(`${STACK_VARIABLES.receiverMinInstances} must not exceed ${STACK_VARIABLES.receiverMaxInstances}`);
  const handlerMaxInstances = integer('handlerMaxInstances', 2, 1, 100);
  const handlerConcurrency = integer('handlerConcurrency', 5, 1, 1000);
  const cioMaxRequestRate = integer('cioMaxRequestRate', 100, 1, 1000);
  // Push has no flow control: instances × concurrency is the only throttle on Customer.io.
  const ceiling = (handlerMaxInstances * handlerConcurrency) / MIN_CIO_CALL_SECONDS;
  if (ceiling > cioMaxRequestRate) {
    problems.push(
      `${STACK_VARIABLES.handlerMaxInstances} × ${STACK_VARIABLES.handlerConcurrency} = ${handlerMaxInstances * handlerConcurrency} calls in flight ` +
        `could reach ${ceiling} req/s, over ${STACK_VARIABLES.cioMaxRequestRate} (${cioMaxRequestRate})`,
    );
  }
  const retentionDays = integer('retentionDays', 7, 1, 31);
  const protection = get('deletionProtection') ?? '1';
  if (protection !== '0' && protection !== '1') problems.push(`${STACK_VARIABLES.deletionProtection} must be 1 or 0 (got ${JSON.stringify(protection)})`);

  let policy: PolicyConfig = { actions: [], suppressOn: [] };
  try {
    policy = loadPolicyConfig(env);
  } catch (error) {
    problems.push((error as Error).message);
  }

  if (problems.length > 0) throw new StackConfigError(problems);
  return {
    project,
    region,
    prefix,
    cioRegion: cioRegion as 'us' | 'eu',
    receiverMinInstances,
    receiverMaxInstances,
    handlerMaxInstances,
    handlerConcurrency,
    cioMaxRequestRate,
    retentionDays,
    alertEmail,
    stateBucket,
    firestoreLocation: get('firestoreLocation') ?? region,
    deletionProtection: protection !== '0',
    policy,
    bundleDir,
  };
}
