/**
 * Configuration: every environment variable the functions read, each declared once with its default
 * and validator, loaded and validated once at start-up. A bad value fails with one line naming the
 * variable (ConfigError), never on the first request.
 */
import { isKnownMetric } from './events.js';
import { ACTION_RULE_NAMES, type ActionRuleName, type Policy } from './policy.js';
import { TRACK_API_URLS, WORKSPACES_VARIABLE, WorkspacesError, parseWorkspaces, workspaceVariable, type CioRegion, type Workspace } from './workspaces.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`);
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

interface Setting<T> {
  name: string;
  /** Used when the variable is unset or empty; no default means required. */
  default?: string;
  parse(raw: string): T;
}

function read<T>(env: Env, setting: Setting<T>): T {
  const raw = env[setting.name]?.trim();
  const value = raw === undefined || raw === '' ? setting.default : raw;
  if (value === undefined) throw new ConfigError(setting.name, 'is required but not set');
  try {
    return setting.parse(value);
  } catch (error) {
    throw new ConfigError(setting.name, `${(error as Error).message} (got ${JSON.stringify(value)})`);
  }
}

export const integer = (min: number, max: number) => (raw: string) => {
  if (!/^\d+$/.test(raw)) throw new Error(`must be a whole number from ${min} to ${max}`);
  const n = Number(raw);
  if (n < min || n > max) throw new Error(`must be a whole number from ${min} to ${max}`);
  return n;
};

export const list = (raw: string) =>
  raw.split(',').map((item) => item.trim()).filter((item) => item !== '');

const boolean = (raw: string) => {
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new Error('must be 1 or 0');
};

const oneOf = <T extends string>(values: readonly T[]) => (raw: string): T => {
  if (!(values as readonly string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}`);
  return raw as T;
};

/** Firestore database ids: 4–63 lowercase letters, digits and hyphens, or "(default)". */
const databaseId = (raw: string) => {
  if (raw !== '(default)' && !/^[a-z][a-z0-9-]{2,61}[a-z0-9]$/.test(raw)) throw new Error('must be (default) or 4–63 lowercase letters, digits and hyphens');
  return raw;
};

/** A hex key of at least 16 bytes (the stack generates 32 random bytes). */
const hexKey = (raw: string) => {
  if (!/^(?:[0-9a-fA-F]{2}){16,64}$/.test(raw)) throw new Error('must be 32 to 128 hex digits');
  return Buffer.from(raw, 'hex');
};

const name = (raw: string) => {
  if (!/^[A-Za-z0-9_.~%+-]{1,255}$/.test(raw)) throw new Error('must be a plain resource name');
  return raw;
};

/** A Secret Manager secret's resource name; the functions read its newest version at run time. */
const secretName = (raw: string) => {
  if (!/^projects\/[a-z0-9][a-z0-9-]{0,62}\/secrets\/[A-Za-z0-9_-]{1,255}$/.test(raw)) throw new Error('must be a secret resource name, projects/PROJECT/secrets/SECRET');
  return raw;
};

const httpUrl = (example: string) => (raw: string): string | null => {
  if (raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`must be an http(s) URL such as ${example}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('must be an http(s) URL');
  return raw.replace(/\/+$/, '');
};

/**
 * The value stacks deployed before run-time secrets stored in each new secret until the operator
 * added the real one (and a value an operator may still store by hand). A function that reads it
 * works as if the secret had no version: the receiver answers 503 (Customer.io retries) and the
 * handler nacks actionable events, so nothing is lost.
 */
export const SECRET_PLACEHOLDER = 'placeholder:add-a-secret-version';

/** A setting given directly in the environment, or read at run time from a Secret Manager secret. */
export type Sourced<T> = { kind: 'value'; value: T } | { kind: 'secret'; secret: string };

export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const;

export const DAY_SECONDS = 86_400;
/** Customer.io's 7 days of retries plus one: see CIO_SIGNATURE_MAX_AGE_SECONDS. */
export const DEFAULT_SIGNATURE_MAX_AGE_SECONDS = 8 * DAY_SECONDS;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const SETTINGS = {
  project: { name: 'GOOGLE_CLOUD_PROJECT', parse: name },
  logLevel: { name: 'LOG_LEVEL', default: 'info', parse: oneOf(LOG_LEVELS) },
  topic: { name: 'PUBSUB_TOPIC', default: 'cio-events', parse: name },
  signingKeys: {
    name: 'CIO_WEBHOOK_SIGNING_KEYS',
    parse: (raw: string) => {
      const keys = list(raw).filter((key) => key !== SECRET_PLACEHOLDER);
      if (keys.length === 0 && raw !== SECRET_PLACEHOLDER) throw new Error('must list at least one signing key');
      return keys;
    },
  },
  /** Deployed: the secret holding the signing keys (same format), read at run time instead. */
  signingKeysSecret: { name: 'CIO_WEBHOOK_SIGNING_KEYS_SECRET', parse: secretName },
  maxAgeSeconds: {
    name: 'CIO_SIGNATURE_MAX_AGE_SECONDS',
    // Customer.io retries a failed delivery for 7 days; a window of 8 days accepts every genuine retry
    // and bounds how long a captured signed request can be replayed. 0 turns the check off.
    default: String(DEFAULT_SIGNATURE_MAX_AGE_SECONDS),
    parse: (raw: string): number | 'off' => {
      const seconds = integer(0, 31 * DAY_SECONDS)(raw);
      return seconds === 0 ? 'off' : seconds;
    },
  },
  maxBodyBytes: {
    name: 'RECEIVER_MAX_BODY_BYTES',
    default: String(8 * 1024 * 1024),
    // Pub/Sub caps a message at 10 MB and the row carries the body plus its parsed fields.
    parse: integer(1024, 9 * 1024 * 1024),
  },
  maxBufferedBytes: {
    name: 'RECEIVER_MAX_BUFFERED_BYTES',
    // Memory for bodies over 256 KiB across all requests, as a pool of reusable buffers (sizes in
    // powers of two): 80 concurrent 8 MiB bodies would otherwise be 640 MiB on a 512 MiB instance.
    default: String(64 * 1024 * 1024),
    parse: integer(1024 * 1024, 1024 * 1024 * 1024),
  },
  bodyTimeoutMs: {
    name: 'RECEIVER_BODY_TIMEOUT_MS',
    // A body still arriving after this is answered 408: a slow sender holds no buffer for long.
    // Customer.io gives up on a request after 4 s, so a genuine one is never this slow.
    default: '5000',
    parse: integer(500, 60_000),
  },
  publishTimeoutMs: {
    name: 'RECEIVER_PUBLISH_TIMEOUT_MS',
    default: '2000',
    // Customer.io gives up after 4 s; an answer must leave before that.
    parse: integer(100, 3500),
  },
  siteId: { name: 'CIO_SITE_ID', parse: (raw: string) => raw },
  trackApiKey: { name: 'CIO_TRACK_API_KEY', parse: (raw: string) => raw },
  siteIdSecret: { name: 'CIO_SITE_ID_SECRET', parse: secretName },
  trackApiKeySecret: { name: 'CIO_TRACK_API_KEY_SECRET', parse: secretName },
  /** How often a value read from Secret Manager is read again: a new version is in use within this. */
  secretRefreshSeconds: { name: 'SECRET_REFRESH_SECONDS', default: '60', parse: integer(1, 3600) },
  /** Tests and local runs: a Secret Manager stand-in (`https://secretmanager.googleapis.com` otherwise), called without credentials. */
  secretManagerEndpoint: { name: 'SECRET_MANAGER_ENDPOINT', default: '', parse: httpUrl('http://127.0.0.1:8085') },
  region: { name: 'CIO_REGION', default: 'us', parse: oneOf(['us', 'eu'] as const) },
  trackUrl: { name: 'CIO_TRACK_URL', default: '', parse: httpUrl('http://127.0.0.1:4010/api/v1') },
  dryRun: { name: 'CIO_DRY_RUN', default: '0', parse: boolean },
  suppressOn: {
    name: 'CIO_SUPPRESS_ON',
    default: '',
    parse: (raw: string) => {
      const metrics = list(raw);
      const unknown = metrics.filter((m) => !isKnownMetric(m));
      if (unknown.length > 0) throw new Error(`unknown metric ${unknown.join(', ')}`);
      return metrics;
    },
  },
  actions: {
    name: 'CIO_ACTIONS',
    default: ACTION_RULE_NAMES.join(','),
    parse: (raw: string): ActionRuleName[] => {
      const names = raw.toLowerCase() === 'none' ? [] : list(raw);
      for (const n of names) oneOf(ACTION_RULE_NAMES)(n);
      return names as ActionRuleName[];
    },
  },
  cioDeadlineSeconds: { name: 'CIO_DEADLINE_SECONDS', default: '30', parse: integer(1, 540) },
  dedupeCollection: { name: 'DEDUPE_COLLECTION', default: 'cio_webhook_events', parse: name },
  /** Deployed: a dedicated named database (never a project's shared "(default)"). */
  dedupeDatabase: { name: 'DEDUPE_DATABASE', default: '(default)', parse: databaseId },
  /** Key of the keyed hash that stands for an email address in logs and the analysts' views. */
  pseudonymKey: { name: 'PSEUDONYM_KEY', parse: hexKey },
  /** This instance's share of the Track API request rate (token bucket; the stack divides the total). */
  cioRequestsPerSecond: { name: 'CIO_REQUESTS_PER_SECOND', default: '50', parse: integer(1, 1000) },
  /** Bound on each dedupe-store call: an unreachable Firestore must become a nack, not a hung push. */
  dedupeDeadlineSeconds: { name: 'DEDUPE_DEADLINE_SECONDS', default: '5', parse: integer(1, 60) },
  leaseSeconds: { name: 'DEDUPE_LEASE_SECONDS', default: '120', parse: integer(10, 3600) },
  ttlDays: { name: 'DEDUPE_TTL_DAYS', default: '30', parse: integer(1, 3650) },
} satisfies Record<string, Setting<unknown>>;

interface ReceiverSettings {
  project: string;
  logLevel: LogLevel;
  topic: string;
  secrets: SecretAccessConfig;
  maxAgeSeconds: number | 'off';
  maxBodyBytes: number;
  maxBufferedBytes: number;
  bodyTimeoutMs: number;
  publishTimeoutMs: number;
}

/** A workspace as the receiver knows it (several-workspaces mode): its keys verify its path only. */
export interface ReceiverWorkspace extends Workspace {
  signingKeys: Sourced<string[]>;
}

export type ReceiverConfig = ReceiverSettings &
  (
    | {
        /** One workspace: given directly (empty only when it is SECRET_PLACEHOLDER), or the secret read at run time. */
        signingKeys: Sourced<string[]>;
        workspaces?: undefined;
      }
    | {
        /** Several (CIO_WORKSPACES): each one's keys, for POST /<workspace>. */
        workspaces: ReceiverWorkspace[];
        signingKeys?: undefined;
      }
  );

/** How the functions read the secrets named by *_SECRET variables. */
export interface SecretAccessConfig {
  refreshSeconds: number;
  /** null: Secret Manager itself, with the function's own credentials. */
  endpoint: string | null;
}

function loadSecretAccess(env: Env): SecretAccessConfig {
  return { refreshSeconds: read(env, SETTINGS.secretRefreshSeconds), endpoint: read(env, SETTINGS.secretManagerEndpoint) };
}

/** The value variable, or the variable naming the secret that holds it: one of the two, not both. */
function readSourced<T>(env: Env, value: Setting<T>, secret: Setting<string>): Sourced<T> {
  const given = (setting: Setting<unknown>) => Boolean(env[setting.name]?.trim());
  if (given(secret)) {
    if (given(value)) throw new ConfigError(secret.name, `set ${value.name} or ${secret.name}, not both`);
    return { kind: 'secret', secret: read(env, secret) };
  }
  if (!given(value)) throw new ConfigError(value.name, `is required but not set (or name the Secret Manager secret holding it in ${secret.name})`);
  return { kind: 'value', value: read(env, value) };
}

/** A setting's per-workspace variable (`CIO_SITE_ID__ACME`): the same default and validator, its own name. */
function forWorkspace<T>(setting: Setting<T>, workspace: Workspace): Setting<T> {
  return { ...setting, name: workspaceVariable(setting.name, workspace.name) };
}

/**
 * CIO_WORKSPACES as a list, or null for the single-workspace mode; names without a region take
 * CIO_REGION's. Both functions, the local stack and the sender read it this one way.
 */
export function readWorkspaces(env: Env): Workspace[] | null {
  const raw = env[WORKSPACES_VARIABLE];
  if (!raw?.trim()) return null;
  try {
    return parseWorkspaces(raw, read(env, SETTINGS.region));
  } catch (error) {
    if (!(error instanceof WorkspacesError)) throw error;
    throw new ConfigError(WORKSPACES_VARIABLE, error.message);
  }
}

/**
 * With several workspaces a variable without a workspace suffix could be meant for any of them (a
 * key or credentials of the wrong workspace): refused, naming the variables to set instead.
 */
function refuseUnsuffixed(env: Env, settings: readonly Setting<unknown>[], workspaces: readonly Workspace[]): void {
  for (const setting of settings) {
    if (!env[setting.name]?.trim()) continue;
    const instead = workspaces.map((w) => workspaceVariable(setting.name, w.name)).join(', ');
    throw new ConfigError(setting.name, `is not used with several workspaces (${WORKSPACES_VARIABLE}): set ${instead} instead`);
  }
}

export function loadReceiverConfig(env: Env): ReceiverConfig {
  const project = read(env, SETTINGS.project);
  const logLevel = read(env, SETTINGS.logLevel);
  const topic = read(env, SETTINGS.topic);
  const workspaces = readWorkspaces(env);
  if (workspaces !== null) refuseUnsuffixed(env, WORKSPACE_SETTINGS.receiver, workspaces);
  const keys =
    workspaces === null
      ? { signingKeys: readSourced(env, SETTINGS.signingKeys, SETTINGS.signingKeysSecret) }
      : {
          workspaces: workspaces.map((workspace) => ({
            ...workspace,
            signingKeys: readSourced(env, forWorkspace(SETTINGS.signingKeys, workspace), forWorkspace(SETTINGS.signingKeysSecret, workspace)),
          })),
        };
  const config: ReceiverConfig = {
    project,
    logLevel,
    topic,
    ...keys,
    secrets: loadSecretAccess(env),
    maxAgeSeconds: read(env, SETTINGS.maxAgeSeconds),
    maxBodyBytes: read(env, SETTINGS.maxBodyBytes),
    maxBufferedBytes: read(env, SETTINGS.maxBufferedBytes),
    bodyTimeoutMs: read(env, SETTINGS.bodyTimeoutMs),
    publishTimeoutMs: read(env, SETTINGS.publishTimeoutMs),
  };
  // The pool hands out buffers in powers of two: it must hold one for the largest body.
  const largest = 2 ** Math.ceil(Math.log2(config.maxBodyBytes));
  if (config.maxBufferedBytes < largest) {
    throw new ConfigError(SETTINGS.maxBufferedBytes.name, `(${config.maxBufferedBytes}) must hold at least one buffer for ${SETTINGS.maxBodyBytes.name} (${largest} bytes for ${config.maxBodyBytes})`);
  }
  return config;
}

export type PolicyConfig = Policy;

export type CioCredentials = { siteId: string; trackApiKey: string };

export function isPlaceholderCredentials(credentials: CioCredentials): boolean {
  return credentials.siteId === SECRET_PLACEHOLDER || credentials.trackApiKey === SECRET_PLACEHOLDER;
}

export interface HandlerConfig extends PolicyConfig {
  project: string;
  logLevel: LogLevel;
  /** Each given directly or as the secret read at run time; null in dry run without credentials. */
  credentials: { siteId: Sourced<string>; trackApiKey: Sourced<string> } | null;
  secrets: SecretAccessConfig;
  region: 'us' | 'eu';
  trackUrl: string | null;
  dryRun: boolean;
  cioDeadlineSeconds: number;
  dedupeCollection: string;
  dedupeDatabase: string;
  dedupeDeadlineSeconds: number;
  leaseSeconds: number;
  ttlDays: number;
  /** The receiver's replay window; the dedupe TTL must outlast it. */
  maxAgeSeconds: number | 'off';
  pseudonymKey: Buffer;
  cioRequestsPerSecond: number;
  /**
   * Several workspaces (CIO_WORKSPACES): each one's credentials, Track API and dry run; absent with
   * one. Then `credentials` is null, and `region`, `trackUrl` and `dryRun` are only the defaults.
   */
  workspaces?: HandlerWorkspace[];
}

/** A workspace as the handler knows it: it acts on that workspace's events with these. */
export interface HandlerWorkspace extends Workspace {
  /** Each given directly or as the secret read at run time; null in dry run without credentials. */
  credentials: { siteId: Sourced<string>; trackApiKey: Sourced<string> } | null;
  /** CIO_TRACK_URL__<WS>, else CIO_TRACK_URL, else the Track API of the workspace's region. */
  trackUrl: string;
  /** CIO_DRY_RUN__<WS>, else CIO_DRY_RUN. */
  dryRun: boolean;
}

export function loadPolicyConfig(env: Env): PolicyConfig {
  return { actions: read(env, SETTINGS.actions), suppressOn: read(env, SETTINGS.suppressOn) };
}

const SETTINGS_CREDENTIALS = { siteId: SETTINGS.siteId, trackApiKey: SETTINGS.trackApiKey, siteIdSecret: SETTINGS.siteIdSecret, trackApiKeySecret: SETTINGS.trackApiKeySecret };

/** Both credentials (each a value or a secret), or null in dry run when none of their variables is set. */
function readCredentials(env: Env, dryRun: boolean, settings: { siteId: Setting<string>; trackApiKey: Setting<string>; siteIdSecret: Setting<string>; trackApiKeySecret: Setting<string> }): HandlerConfig['credentials'] {
  const hasCredentials = Object.values(settings).some((setting) => Boolean(env[setting.name]?.trim()));
  return dryRun && !hasCredentials
    ? null
    : { siteId: readSourced(env, settings.siteId, settings.siteIdSecret), trackApiKey: readSourced(env, settings.trackApiKey, settings.trackApiKeySecret) };
}

function loadHandlerWorkspaces(env: Env, workspaces: readonly Workspace[], defaults: { dryRun: boolean; trackUrl: string | null }): HandlerWorkspace[] {
  refuseUnsuffixed(env, Object.values(SETTINGS_CREDENTIALS), workspaces);
  const loaded = workspaces.map((workspace): HandlerWorkspace => {
    const own = <T>(setting: Setting<T>) => forWorkspace(setting, workspace);
    const given = (setting: Setting<unknown>) => Boolean(env[own(setting).name]?.trim());
    const dryRun = given(SETTINGS.dryRun) ? read(env, own(SETTINGS.dryRun)) : defaults.dryRun;
    const trackUrl = (given(SETTINGS.trackUrl) ? read(env, own(SETTINGS.trackUrl)) : null) ?? defaults.trackUrl ?? TRACK_API_URLS[workspace.region];
    const credentials = readCredentials(env, dryRun, {
      siteId: own(SETTINGS_CREDENTIALS.siteId), trackApiKey: own(SETTINGS_CREDENTIALS.trackApiKey),
      siteIdSecret: own(SETTINGS_CREDENTIALS.siteIdSecret), trackApiKeySecret: own(SETTINGS_CREDENTIALS.trackApiKeySecret),
    });
    return { ...workspace, credentials, trackUrl, dryRun };
  });
  // CIO_TRACK_URL is one Track API for every workspace (a local fake, a test). A region's real one
  // would send another region's workspaces to the wrong data center, where their credentials fail.
  const region = (Object.keys(TRACK_API_URLS) as CioRegion[]).find((r) => TRACK_API_URLS[r] === defaults.trackUrl);
  const elsewhere = region && workspaces.find((w) => w.region !== region && !env[workspaceVariable(SETTINGS.trackUrl.name, w.name)]?.trim());
  if (elsewhere) {
    throw new ConfigError(SETTINGS.trackUrl.name, `is the ${region} Track API, but workspace ${elsewhere.name} is in ${elsewhere.region}: leave it unset (each workspace calls its region's) or set ${workspaceVariable(SETTINGS.trackUrl.name, elsewhere.name)}`);
  }
  return loaded;
}

export function loadHandlerConfig(env: Env): HandlerConfig {
  const dryRun = read(env, SETTINGS.dryRun);
  const workspaces = readWorkspaces(env);
  const trackUrl = read(env, SETTINGS.trackUrl);
  const config: HandlerConfig = {
    project: read(env, SETTINGS.project),
    logLevel: read(env, SETTINGS.logLevel),
    ...loadPolicyConfig(env),
    credentials: workspaces === null ? readCredentials(env, dryRun, SETTINGS_CREDENTIALS) : null,
    secrets: loadSecretAccess(env),
    region: read(env, SETTINGS.region),
    trackUrl,
    dryRun,
    cioDeadlineSeconds: read(env, SETTINGS.cioDeadlineSeconds),
    dedupeCollection: read(env, SETTINGS.dedupeCollection),
    dedupeDatabase: read(env, SETTINGS.dedupeDatabase),
    dedupeDeadlineSeconds: read(env, SETTINGS.dedupeDeadlineSeconds),
    leaseSeconds: read(env, SETTINGS.leaseSeconds),
    ttlDays: read(env, SETTINGS.ttlDays),
    maxAgeSeconds: read(env, SETTINGS.maxAgeSeconds),
    pseudonymKey: read(env, SETTINGS.pseudonymKey),
    cioRequestsPerSecond: read(env, SETTINGS.cioRequestsPerSecond),
    ...(workspaces === null ? {} : { workspaces: loadHandlerWorkspaces(env, workspaces, { dryRun, trackUrl }) }),
  };
  const ttlProblem = replayWindowProblem(config.maxAgeSeconds, config.ttlDays);
  if (ttlProblem) throw new ConfigError(SETTINGS.ttlDays.name, ttlProblem);
  // The lease must outlive an attempt (claim, calls, done-write), or a slow attempt and its
  // redelivery both call Customer.io.
  const attemptSeconds = config.cioDeadlineSeconds + 2 * config.dedupeDeadlineSeconds;
  if (attemptSeconds >= config.leaseSeconds) {
    throw new ConfigError(
      SETTINGS.cioDeadlineSeconds.name,
      `plus twice ${SETTINGS.dedupeDeadlineSeconds.name} (${attemptSeconds} s) must be below ${SETTINGS.leaseSeconds.name} (${config.leaseSeconds})`,
    );
  }
  return config;
}

/**
 * Every replay of a captured request must be either rejected (older than the signature window) or
 * deduplicated (its record still exists): the dedupe TTL has to outlast the window. Shared by the
 * handler's start-up check and the stack's synth check.
 */
export function replayWindowProblem(maxAgeSeconds: number | 'off', ttlDays: number): string | null {
  if (maxAgeSeconds === 'off') return null;
  if (ttlDays * DAY_SECONDS >= maxAgeSeconds) return null;
  return `(${ttlDays} days) must outlast ${SETTINGS.maxAgeSeconds.name} (${maxAgeSeconds} s = ${(maxAgeSeconds / DAY_SECONDS).toFixed(1)} days), or a replayed request acts again after its record expired`;
}

/**
 * The variables each function reads at start-up as deployed with one workspace (credentials as the
 * secrets that hold them); the infra sets every one of them. With several: receiverVariables and
 * handlerVariables.
 */
export const RECEIVER_VARIABLES = [
  SETTINGS.project, SETTINGS.logLevel, SETTINGS.topic, SETTINGS.signingKeysSecret, SETTINGS.secretRefreshSeconds, SETTINGS.maxAgeSeconds,
  SETTINGS.maxBodyBytes, SETTINGS.maxBufferedBytes, SETTINGS.bodyTimeoutMs, SETTINGS.publishTimeoutMs,
].map((s) => s.name);

export const HANDLER_VARIABLES = [
  SETTINGS.project, SETTINGS.logLevel, SETTINGS.actions, SETTINGS.suppressOn, SETTINGS.siteIdSecret,
  SETTINGS.trackApiKeySecret, SETTINGS.secretRefreshSeconds, SETTINGS.region, SETTINGS.trackUrl, SETTINGS.dryRun, SETTINGS.cioDeadlineSeconds,
  SETTINGS.dedupeCollection, SETTINGS.dedupeDatabase, SETTINGS.dedupeDeadlineSeconds, SETTINGS.leaseSeconds,
  SETTINGS.ttlDays, SETTINGS.maxAgeSeconds, SETTINGS.pseudonymKey, SETTINGS.cioRequestsPerSecond,
].map((s) => s.name);

/**
 * The settings each function reads once per workspace with several: the base name, `__`, the
 * workspace (shared/workspaces.ts's workspaceVariable). The unsuffixed credential and key variables
 * are then refused; CIO_TRACK_URL and CIO_DRY_RUN stay the defaults for every workspace.
 */
export const WORKSPACE_SETTINGS = {
  receiver: [SETTINGS.signingKeys, SETTINGS.signingKeysSecret],
  handler: [SETTINGS.siteId, SETTINGS.siteIdSecret, SETTINGS.trackApiKey, SETTINGS.trackApiKeySecret, SETTINGS.trackUrl, SETTINGS.dryRun],
} as const;

/** Every per-workspace variable `target` may read (local runs and tests set any of them). */
export function workspaceVariables(target: keyof typeof WORKSPACE_SETTINGS, workspaces: readonly Workspace[]): string[] {
  return workspaces.flatMap((w) => WORKSPACE_SETTINGS[target].map((s) => workspaceVariable(s.name, w.name)));
}

/**
 * What the deployed receiver reads with these workspaces (null: one, RECEIVER_VARIABLES): with
 * several, CIO_WORKSPACES and each workspace's signing-keys secret instead of the one secret.
 */
export function receiverVariables(workspaces: readonly Workspace[] | null): string[] {
  if (workspaces === null) return RECEIVER_VARIABLES;
  return [
    ...RECEIVER_VARIABLES.filter((name) => name !== SETTINGS.signingKeysSecret.name),
    WORKSPACES_VARIABLE,
    ...workspaces.map((w) => workspaceVariable(SETTINGS.signingKeysSecret.name, w.name)),
  ];
}

/**
 * What the deployed handler reads with these workspaces (null: one, HANDLER_VARIABLES): with
 * several, CIO_WORKSPACES and each workspace's site-id and API-key secrets instead of the two. Not
 * CIO_TRACK_URL: each workspace calls its own region's Track API (a regional CIO_TRACK_URL that
 * does not match a workspace's region is refused at start-up); nor CIO_REGION, as the stack spells
 * out every workspace's region in CIO_WORKSPACES.
 */
export function handlerVariables(workspaces: readonly Workspace[] | null): string[] {
  if (workspaces === null) return HANDLER_VARIABLES;
  const replaced: string[] = [SETTINGS.siteIdSecret.name, SETTINGS.trackApiKeySecret.name, SETTINGS.trackUrl.name, SETTINGS.region.name];
  return [
    ...HANDLER_VARIABLES.filter((name) => !replaced.includes(name)),
    WORKSPACES_VARIABLE,
    ...workspaces.flatMap((w) => [workspaceVariable(SETTINGS.siteIdSecret.name, w.name), workspaceVariable(SETTINGS.trackApiKeySecret.name, w.name)]),
  ];
}
