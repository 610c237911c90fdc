/** Builds the handler from its configuration and long-lived Firestore and Customer.io clients. */
import { Firestore } from '@google-cloud/firestore';
import { SECRET_PLACEHOLDER, SETTINGS, isPlaceholderCredentials, loadHandlerConfig, type CioCredentials, type Env, type HandlerConfig, type Sourced } from '../shared/config.js';
import { createLogger, type Logger } from '../shared/log.js';
import { createCurrentCredentialsExecutor } from './current-credentials.js';
import { createDryRunExecutor, createTrackExecutor, createTrackLimiter, createUnconfiguredExecutor, type CioExecutor } from './customerio.js';
import { createFirestoreDedupeStore } from './dedupe-store.js';
import { createHandler } from './handler.js';
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

export function selectExecutor(config: HandlerConfig, logger: Logger, reader?: SecretReader): CioExecutor {
  if (config.dryRun || config.credentials === null) return createDryRunExecutor(logger, config.pseudonymKey);
  // One rate gate per instance, whichever credentials are in force.
  const limiter = createTrackLimiter(config.cioRequestsPerSecond);
  const track = (credentials: CioCredentials) =>
    createTrackExecutor({ credentials, region: config.region, trackUrl: config.trackUrl, deadlineMs: config.cioDeadlineSeconds * 1000, limiter });
  const { siteId, trackApiKey } = config.credentials;
  if (siteId.kind === 'value' && trackApiKey.kind === 'value') {
    const credentials = { siteId: siteId.value, trackApiKey: trackApiKey.value };
    if (isPlaceholderCredentials(credentials)) {
      logger.error('Customer.io credentials hold the deploy placeholder: actionable events are nacked until real ones are added');
      return createUnconfiguredExecutor();
    }
    return track(credentials);
  }
  const secrets = reader ?? createSecretManagerReader({ endpoint: config.secrets.endpoint, timeoutMs: SECRET_READ_TIMEOUT_MS });
  const source = (sourced: Sourced<string>, variable: string) => {
    if (sourced.kind === 'value') return async () => sourced.value;
    const secret = createRefreshingSecret({
      secret: sourced.secret,
      variable,
      reader: secrets,
      parse: credentialText,
      refreshMs: config.secrets.refreshSeconds * 1000,
      staleWaitMs: STALE_CREDENTIALS_WAIT_MS,
      logger,
    });
    return () => secret.get();
  };
  const currentSiteId = source(siteId, SETTINGS.siteIdSecret.name);
  const currentApiKey = source(trackApiKey, SETTINGS.trackApiKeySecret.name);
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
    dry_run: config.dryRun,
    actions: config.actions,
    suppress_on: config.suppressOn,
    region: config.region,
    track_url: config.trackUrl,
    requests_per_second: config.cioRequestsPerSecond,
    dedupe_database: config.dedupeDatabase,
    emulator: env.FIRESTORE_EMULATOR_HOST ?? null,
  });
  return createHandler({ policy: config, dedupe, cio, logger, project: config.project, pseudonymKey: config.pseudonymKey });
}
