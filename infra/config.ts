/**
 * Stack configuration from the environment or cdktf context (`-c key=value` is not available without
 * the CLI, so cdktf.json "context" works too), validated up front with every problem reported at
 * once, as aws-solutions-constructs' CheckProps does.
 */
import { SETTINGS, loadPolicyConfig, replayWindowProblem, type PolicyConfig } from '../shared/config.js';
import { DELIVERABILITY_SETTINGS, GUARD_SETTINGS, parseSetting, readDeliverabilityConfig, type DeliverabilityConfig, type SettingProblem } from '../shared/deliverability.js';
import { WORKSPACES_VARIABLE, WorkspacesError, parseWorkspaces, type Workspace } from '../shared/workspaces.js';
import { FIRESTORE_LOCATIONS, FIRESTORE_MULTI_REGIONS, FUNCTIONS_REGIONS, regionsLike } from './locations.js';

/** How Customer.io, which holds no Google credentials, gets through to the public receiver. */
export const RECEIVER_ACCESS_MODES = ['all-users', 'no-invoker-check'] as const;
export type ReceiverAccess = (typeof RECEIVER_ACCESS_MODES)[number];

export interface StackConfig {
  project: string;
  region: string;
  /** Prefix of every resource name: "cio" gives topic cio-events, dataset cio_webhooks. */
  prefix: string;
  cioRegion: 'us' | 'eu';
  /**
   * The Customer.io workspaces this deployment serves, each with its region (CIO_WORKSPACES; a name
   * alone takes CIO_REGION's); null is the single-workspace mode, exactly as before.
   */
  workspaces: Workspace[] | null;
  receiverMinInstances: number;
  receiverMaxInstances: number;
  handlerMaxInstances: number;
  handlerConcurrency: number;
  /** Customer.io Track API request rate the handler must stay under (req/s), each workspace's own with several. */
  cioMaxRequestRate: number;
  /** Each handler instance's token-bucket rate (per workspace): the total divided by HANDLER_MAX_INSTANCES. */
  cioRequestsPerInstance: number;
  /**
   * `all-users`: an allUsers invoker binding. `no-invoker-check`: no binding, Cloud Run's invoker
   * check turned off instead, for organizations whose Domain Restricted Sharing refuses allUsers.
   */
  receiverAccess: ReceiverAccess;
  /** The receiver's X-CIO-Timestamp window (s), or 'off'. */
  signatureMaxAgeSeconds: number | 'off';
  dedupeTtlDays: number;
  /** Partition expiration of the events table in days; null keeps rows forever. */
  eventsRetentionDays: number | null;
  /** BigQuery time travel: how long changed or deleted rows (an erasure too) stay recoverable. */
  timeTravelHours: number;
  /** IAM members (user:, group:, serviceAccount:, domain:) who read the pseudonymized analytics dataset. */
  warehouseReaders: string[];
  /** IAM members who read the raw dataset: email addresses, recipients and whole payloads. */
  warehouseRawReaders: string[];
  /** Days the topic keeps every message (acknowledged or not) for replay by seek; 31 at most. */
  retentionDays: number;
  alertEmail: string | null;
  stateBucket: string | null;
  firestoreLocation: string;
  /** Protects the events table (and its dataset's contents) from `cdktf destroy`. */
  deletionProtection: boolean;
  policy: PolicyConfig;
  /** What the deliverability guard judges, and how (DELIVERABILITY_*). */
  deliverability: DeliverabilityConfig;
  /** The guard's schedule (minutes between runs) and its query's byte cap (GB of 2^30 bytes). */
  guard: { intervalMinutes: number; maxGb: number };
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

export const STACK_VARIABLES = {
  project: 'GOOGLE_CLOUD_PROJECT',
  region: 'PIPELINE_REGION',
  prefix: 'PIPELINE_PREFIX',
  cioRegion: 'CIO_REGION',
  workspaces: WORKSPACES_VARIABLE,
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
  receiverAccess: 'RECEIVER_ACCESS',
  signatureMaxAgeSeconds: SETTINGS.maxAgeSeconds.name,
  dedupeTtlDays: SETTINGS.ttlDays.name,
  eventsRetentionDays: 'EVENTS_RETENTION_DAYS',
  timeTravelHours: 'BIGQUERY_TIME_TRAVEL_HOURS',
  warehouseReaders: 'WAREHOUSE_READERS',
  warehouseRawReaders: 'WAREHOUSE_RAW_READERS',
  complaintWarning: DELIVERABILITY_SETTINGS.complaintWarning.name,
  complaintCritical: DELIVERABILITY_SETTINGS.complaintCritical.name,
  bounceWarning: DELIVERABILITY_SETTINGS.bounceWarning.name,
  bounceCritical: DELIVERABILITY_SETTINGS.bounceCritical.name,
  minDelivered: DELIVERABILITY_SETTINGS.minDelivered.name,
  minSent: DELIVERABILITY_SETTINGS.minSent.name,
  deliverabilityWindowHours: DELIVERABILITY_SETTINGS.windowHours.name,
  deliverabilityChannels: DELIVERABILITY_SETTINGS.channels.name,
  guardIntervalMinutes: GUARD_SETTINGS.intervalMinutes.name,
  guardMaxGb: GUARD_SETTINGS.maxGb.name,
  actions: SETTINGS.actions.name,
  suppressOn: SETTINGS.suppressOn.name,
} as const;

/** Customer.io retries for 7 days: a retention shorter than that could expire a partition still being written. */
export const MIN_EVENTS_RETENTION_DAYS = 8;

const MEMBER = /^(user|group|serviceAccount):[^@\s,]+@[^@\s,]+\.[^@\s,]+$|^domain:[a-z0-9.-]+\.[a-z]{2,}$/;

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
  // Checked against the regions Google documents (infra/locations.ts): a typo fails here, not mid-apply.
  if (!(FUNCTIONS_REGIONS as readonly string[]).includes(region)) {
    const like = regionsLike(region, FUNCTIONS_REGIONS);
    problems.push(`${STACK_VARIABLES.region} must be a region Cloud Run functions runs in, such as us-central1 (got ${JSON.stringify(region)}${like.length ? `; in that area: ${like.join(', ')}` : ''})`);
  }
  const firestoreLocation = get('firestoreLocation') ?? region;
  if (firestoreLocation !== region && !FIRESTORE_LOCATIONS.includes(firestoreLocation)) {
    problems.push(`${STACK_VARIABLES.firestoreLocation} must be a Firestore location: a multi-region (${FIRESTORE_MULTI_REGIONS.join(', ')}) or a region such as us-central1 (got ${JSON.stringify(firestoreLocation)})`);
  }
  const prefix = get('prefix') ?? 'cio';
  if (!/^[a-z][a-z0-9]{1,11}$/.test(prefix)) problems.push(`${STACK_VARIABLES.prefix} must be 2–12 lowercase letters or digits (got ${JSON.stringify(prefix)})`);
  const cioRegion = get('cioRegion') ?? 'us';
  if (cioRegion !== 'us' && cioRegion !== 'eu') problems.push(`${STACK_VARIABLES.cioRegion} must be us or eu (got ${JSON.stringify(cioRegion)})`);
  let workspaces: Workspace[] | null = null;
  try {
    workspaces = parseWorkspaces(get('workspaces'), cioRegion === 'eu' ? 'eu' : 'us');
  } catch (error) {
    if (!(error instanceof WorkspacesError)) throw error;
    problems.push(`${STACK_VARIABLES.workspaces}: ${error.message}`);
  }
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
  // Each instance runs a token bucket at its share of the total, so instances × share ≤ the total.
  // With several workspaces the handler keeps one bucket per workspace: the total is each workspace's.
  const cioRequestsPerInstance = Math.floor(cioMaxRequestRate / handlerMaxInstances);
  if (cioRequestsPerInstance < 1) {
    problems.push(`${STACK_VARIABLES.cioMaxRequestRate} (${cioMaxRequestRate}) must be at least ${STACK_VARIABLES.handlerMaxInstances} (${handlerMaxInstances}): each instance needs 1 request/s or more`);
  }
  const retentionDays = integer('retentionDays', 7, 1, 31);
  const protection = get('deletionProtection') ?? '1';
  if (protection !== '0' && protection !== '1') problems.push(`${STACK_VARIABLES.deletionProtection} must be 1 or 0 (got ${JSON.stringify(protection)})`);

  const receiverAccess = get('receiverAccess') ?? 'all-users';
  if (!(RECEIVER_ACCESS_MODES as readonly string[]).includes(receiverAccess)) {
    problems.push(`${STACK_VARIABLES.receiverAccess} must be one of ${RECEIVER_ACCESS_MODES.join(', ')} (got ${JSON.stringify(receiverAccess)})`);
  }
  const setting = <T>(key: 'signatureMaxAgeSeconds' | 'dedupeTtlDays', parse: (raw: string) => T, fallback: string): T => {
    try {
      return parse(get(key) ?? fallback);
    } catch (error) {
      problems.push(`${STACK_VARIABLES[key]}: ${(error as Error).message}`);
      return parse(fallback);
    }
  };
  const signatureMaxAgeSeconds = setting('signatureMaxAgeSeconds', SETTINGS.maxAgeSeconds.parse, SETTINGS.maxAgeSeconds.default);
  const dedupeTtlDays = setting('dedupeTtlDays', SETTINGS.ttlDays.parse, SETTINGS.ttlDays.default);
  const windowProblem = replayWindowProblem(signatureMaxAgeSeconds, dedupeTtlDays);
  if (windowProblem) problems.push(`${STACK_VARIABLES.dedupeTtlDays} ${windowProblem}`);
  const retention = get('eventsRetentionDays');
  const eventsRetentionDays = retention === undefined || retention === '0' ? null : integer('eventsRetentionDays', 0, MIN_EVENTS_RETENTION_DAYS, 36_500);
  const timeTravelHours = integer('timeTravelHours', 48, 48, 168);
  if (timeTravelHours % 24 !== 0) problems.push(`${STACK_VARIABLES.timeTravelHours} must be a multiple of 24 (BigQuery takes whole days)`);
  const members = (key: 'warehouseReaders' | 'warehouseRawReaders') => {
    const list = (get(key) ?? '').split(',').map((m) => m.trim()).filter(Boolean);
    for (const member of list) {
      if (!MEMBER.test(member)) problems.push(`${STACK_VARIABLES[key]}: ${JSON.stringify(member)} is not user:, group:, serviceAccount: or domain: followed by an address or domain`);
    }
    // Addresses and domains in lower case: the provider compares a dataset's access entries as the
    // API returns them, without folding case, so "Ana@Acme.com" would plan a change on every apply.
    return list.map((member) => `${member.slice(0, member.indexOf(':'))}:${member.slice(member.indexOf(':') + 1).toLowerCase()}`);
  };
  const warehouseReaders = members('warehouseReaders');
  const warehouseRawReaders = members('warehouseRawReaders');

  // The deliverability settings are declared (and checked) in shared/, like the functions' own.
  const keyOf = Object.fromEntries(Object.entries(STACK_VARIABLES).map(([key, name]) => [name, key])) as Record<string, keyof typeof STACK_VARIABLES>;
  const byName = (name: string) => get(keyOf[name]!);
  const guardProblems: SettingProblem[] = [];
  const { config: deliverability, problems: deliverabilityProblems } = readDeliverabilityConfig(byName);
  const guard = {
    intervalMinutes: parseSetting(byName, GUARD_SETTINGS.intervalMinutes, guardProblems),
    maxGb: parseSetting(byName, GUARD_SETTINGS.maxGb, guardProblems),
  };
  for (const p of [...deliverabilityProblems, ...guardProblems]) problems.push(`${p.variable}: ${p.message}`);

  let policy: PolicyConfig = { actions: [], suppressOn: [] };
  try {
    // From the environment or the context, like every other setting of the stack.
    policy = loadPolicyConfig({ [SETTINGS.actions.name]: get('actions'), [SETTINGS.suppressOn.name]: get('suppressOn') });
  } catch (error) {
    problems.push((error as Error).message);
  }

  if (problems.length > 0) throw new StackConfigError(problems);
  return {
    project,
    region,
    prefix,
    cioRegion: cioRegion as 'us' | 'eu',
    workspaces,
    receiverMinInstances,
    receiverMaxInstances,
    handlerMaxInstances,
    handlerConcurrency,
    cioMaxRequestRate,
    cioRequestsPerInstance,
    receiverAccess: receiverAccess as ReceiverAccess,
    signatureMaxAgeSeconds,
    dedupeTtlDays,
    eventsRetentionDays: eventsRetentionDays === 0 ? null : eventsRetentionDays,
    timeTravelHours,
    warehouseReaders,
    warehouseRawReaders,
    retentionDays,
    alertEmail,
    stateBucket,
    firestoreLocation,
    deletionProtection: protection !== '0',
    policy,
    deliverability,
    guard,
    bundleDir,
  };
}
