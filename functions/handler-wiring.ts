/** Builds the handler from its configuration and long-lived Firestore and Customer.io clients. */
import { Firestore } from '@google-cloud/firestore';
import { SECRET_PLACEHOLDER, SETTINGS, isPlaceholderCredentials, loadHandlerConfig, type CioCredentials, type Env, type HandlerConfig, type Sourced } from '../shared/config.js';
import { createLogger, type Logger } from '../shared/log.js';
import { workspaceVariable, type CioRegion } from '../shared/workspaces.js';
import { createCurrentCredentialsExecutor } from './current-credentials.js';
import { createDryRunExecutor, createTrackExecutor, createTrackLimiter, createUnconfiguredExecutor, type CioExecutor } from './customerio.js';
import { createFirestoreDedupeStore } from './dedupe-store.js';
import { createHandler, type HandlerDeps } from './handler.js';
import { createRefreshingSecret } from './refreshing-secret.js';
import { createSecretManagerReader, type SecretReader } from './secret-manager.js';

/** Bound on one read of a credentials secret, and how long an event waits for a due refresh. */
const SECRET_READ_TIMEOUT_MS = 5_000;
const STALE_CREDENTIALS_WAIT_MS = 2_000;

/** A credentials secret's text: any non-empty value; the deploy placeholder stands for none. */
function credentialText(text: string): string | null {
  if (text === '') throw new Error('it is empty');
  return text === SECRET_PLACEHOLDER ? null : text;
}

/** What one executor is built from: the single-workspace settings, or one workspace's. */
interface ExecutorSettings {
  dryRun: boolean;
  credentials: HandlerConfig['credentials'];
  region: CioRegion;
  trackUrl: string | null;
  /** The variables naming the credentials' secrets, for the logs. */
  variables: { siteId: string; trackApiKey: string };
}

function buildExecutor(settings: ExecutorSettings, config: HandlerConfig, logger: Logger, secrets: () => SecretReader): CioExecutor {
  if (settings.dryRun || settings.credentials === null) return createDryRunExecutor(logger, config.pseudonymKey);
  // One rate gate per instance (per workspace with several), whichever credentials are in force.
  const limiter = createTrackLimiter(config.cioRequestsPerSecond);
  const track = (credentials: CioCredentials) =>
    createTrackExecutor({ credentials, region: settings.region, trackUrl: settings.trackUrl, deadlineMs: config.cioDeadlineSeconds * 1000, limiter });
  const { siteId, trackApiKey } = settings.credentials;
  if (siteId.kind === 'value' && trackApiKey.kind === 'value') {
    const credentials = { siteId: siteId.value, trackApiKey: trackApiKey.value };
    if (isPlaceholderCredentials(credentials)) {
      logger.error('Customer.io credentials hold the deploy placeholder: actionable events are nacked until real ones are added');
      return createUnconfiguredExecutor();
    }
    return track(credentials);
  }
  const source = (sourced: Sourced<string>, variable: string) => {
    if (sourced.kind === 'value') return async () => sourced.value;
    const secret = createRefreshingSecret({
      secret: sourced.secret,
      variable,
      reader: secrets(),
      parse: credentialText,
      refreshMs: config.secrets.refreshSeconds * 1000,
      staleWaitMs: STALE_CREDENTIALS_WAIT_MS,
      logger,
    });
    return () => secret.get();
  };
  const currentSiteId = source(siteId, settings.variables.siteId);
  const currentApiKey = source(trackApiKey, settings.variables.trackApiKey);
  // Read the secrets while the instance starts, before the first event asks for them.
  void Promise.all([currentSiteId(), currentApiKey()]);
  return createCurrentCredentialsExecutor({
    credentials: async () => {
      const [site, key] = await Promise.all([currentSiteId(), currentApiKey()]);
      return site !== null && key !== null ? { siteId: site, trackApiKey: key } : null;
    },
    build: track,
  });
}

/**
 * The executor that acts on events (one workspace), or each workspace's (several, chosen by the
 * row's workspace): its own credentials (refreshing secrets), its region's Track API and its own
 * rate gate, so one workspace's backlog never spends another's rate budget.
 */
export function selectExecutor(config: HandlerConfig, logger: Logger, reader?: SecretReader): HandlerDeps['cio'] {
  let shared: SecretReader | undefined = reader;
  const secrets = () => (shared ??= createSecretManagerReader({ endpoint: config.secrets.endpoint, timeoutMs: SECRET_READ_TIMEOUT_MS }));
  if (!config.workspaces) {
    const variables = { siteId: SETTINGS.siteIdSecret.name, trackApiKey: SETTINGS.trackApiKeySecret.name };
    return buildExecutor({ dryRun: config.dryRun, credentials: config.credentials, region: config.region, trackUrl: config.trackUrl, variables }, config, logger, secrets);
  }
  return new Map(
    config.workspaces.map((w) => {
      const variables = { siteId: workspaceVariable(SETTINGS.siteIdSecret.name, w.name), trackApiKey: workspaceVariable(SETTINGS.trackApiKeySecret.name, w.name) };
      return [w.name, buildExecutor({ ...w, variables }, config, logger.child({ workspace: w.name }), secrets)];
    }),
  );
}

export function buildHandler(env: Env) {
  const config = loadHandlerConfig(env);
  const logger = createLogger({ level: config.logLevel, base: { component: 'handler' } });
  const firestore = new Firestore({ projectId: config.project, databaseId: config.dedupeDatabase });
  const dedupe = createFirestoreDedupeStore({
    firestore,
    collection: config.dedupeCollection,
    leaseSeconds: config.leaseSeconds,
    ttlDays: config.ttlDays,
    deadlineMs: config.dedupeDeadlineSeconds * 1000,
  });
  const cio = selectExecutor(config, logger);
  logger.info('handler configured', {
    ...(config.workspaces
      ? { workspaces: Object.fromEntries(config.workspaces.map((w) => [w.name, { region: w.region, track_url: w.trackUrl, dry_run: w.dryRun || w.credentials === null }])) }
      : { dry_run: config.dryRun, region: config.region, track_url: config.trackUrl }),
    actions: config.actions,
    suppress_on: config.suppressOn,
    requests_per_second: config.cioRequestsPerSecond,
    dedupe_database: config.dedupeDatabase,
    emulator: env.FIRESTORE_EMULATOR_HOST ?? null,
  });
  return createHandler({ policy: config, dedupe, cio, logger, project: config.project, pseudonymKey: config.pseudonymKey });
}
