/** Builds the handler from its configuration and long-lived Firestore and Customer.io clients. */
import { Firestore } from '@google-cloud/firestore';
import { isPlaceholderCredentials, loadHandlerConfig, type Env, type HandlerConfig } from '../shared/config.js';
import { createLogger, type Logger } from '../shared/log.js';
import { createDryRunExecutor, createTrackExecutor, createTrackLimiter, createUnconfiguredExecutor, type CioExecutor } from './customerio.js';
import { createFirestoreDedupeStore } from './dedupe-store.js';
import { createHandler } from './handler.js';

export function selectExecutor(config: HandlerConfig, logger: Logger): CioExecutor {
  if (config.dryRun || config.credentials === null) return createDryRunExecutor(logger, config.pseudonymKey);
  if (isPlaceholderCredentials(config.credentials)) {
    logger.error('Customer.io credentials hold the deploy placeholder: actionable events are nacked until real ones are added');
    return createUnconfiguredExecutor();
  }
  return createTrackExecutor({
    credentials: config.credentials,
    region: config.region,
    trackUrl: config.trackUrl,
    deadlineMs: config.cioDeadlineSeconds * 1000,
    limiter: createTrackLimiter(config.cioRequestsPerSecond),
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
  return createHandler({ policy: config, dedupe, cio, logger, pseudonymKey: config.pseudonymKey });
}
