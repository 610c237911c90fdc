/** Builds each function from its configuration and long-lived clients (one per process). */
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { isPlaceholderCredentials, loadHandlerConfig, loadReceiverConfig, type Env, type HandlerConfig } from '../shared/config.js';
import { createLogger, type Logger } from '../shared/log.js';
import { createDryRunExecutor, createTrackExecutor, createUnconfiguredExecutor, type CioExecutor } from './customerio.js';
import { createFirestoreDedupeStore } from './dedupe-store.js';
import { createHandler } from './handler.js';
import { createTopicPublisher } from './pubsub-publisher.js';
import { createReceiver } from './receiver.js';

export function buildReceiver(env: Env) {
  const config = loadReceiverConfig(env);
  const logger = createLogger({ level: config.logLevel, base: { component: 'receiver' } });
  const pubsub = new PubSub({ projectId: config.project });
  const publisher = createTopicPublisher({ pubsub, topic: config.topic, timeoutMs: config.publishTimeoutMs });
  if (config.signingKeys.length === 0) logger.error('CIO_WEBHOOK_SIGNING_KEYS holds the deploy placeholder: every webhook gets 503 until a real key is added');
  logger.info('receiver configured', {
    topic: config.topic,
    signing_keys: config.signingKeys.length,
    max_age_seconds: config.maxAgeSeconds,
    emulator: env.PUBSUB_EMULATOR_HOST ?? null,
  });
  return createReceiver({ config, publisher, logger });
}

export function selectExecutor(config: HandlerConfig, logger: Logger): CioExecutor {
  if (config.dryRun || config.credentials === null) return createDryRunExecutor(logger);
  if (isPlaceholderCredentials(config.credentials)) {
    logger.error('Customer.io credentials hold the deploy placeholder: actionable events are nacked until real ones are added');
    return createUnconfiguredExecutor();
  }
  return createTrackExecutor({
    credentials: config.credentials,
    region: config.region,
    trackUrl: config.trackUrl,
    deadlineMs: config.cioDeadlineSeconds * 1000,
  });
}

export function buildHandler(env: Env) {
  const config = loadHandlerConfig(env);
  const logger = createLogger({ level: config.logLevel, base: { component: 'handler' } });
  const firestore = new Firestore({ projectId: config.project });
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
    emulator: env.FIRESTORE_EMULATOR_HOST ?? null,
  });
  return createHandler({ policy: config, dedupe, cio, logger });
}
