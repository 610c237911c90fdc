/** Builds each function from its configuration and long-lived clients (one per process). */
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { loadHandlerConfig, loadReceiverConfig, type Env } from '../shared/config.js';
import { createLogger } from '../shared/log.js';
import { createDryRunExecutor, createTrackExecutor } from './customerio.js';
import { createFirestoreDedupeStore } from './dedupe-store.js';
import { createHandler } from './handler.js';
import { createTopicPublisher } from './pubsub-publisher.js';
import { createReceiver } from './receiver.js';

export function buildReceiver(env: Env) {
  const config = loadReceiverConfig(env);
  const logger = createLogger({ level: config.logLevel, base: { component: 'receiver' } });
  const pubsub = new PubSub({ projectId: config.project });
  const publisher = createTopicPublisher({ pubsub, topic: config.topic, timeoutMs: config.publishTimeoutMs });
  logger.info('receiver configured', {
    topic: config.topic,
    signing_keys: config.signingKeys.length,
    max_age_seconds: config.maxAgeSeconds,
    emulator: env.PUBSUB_EMULATOR_HOST ?? null,
  });
  return createReceiver({ config, publisher, logger });
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
  });
  const cio =
    config.dryRun || config.credentials === null
      ? createDryRunExecutor(logger)
      : createTrackExecutor({
          credentials: config.credentials,
          region: config.region,
          trackUrl: config.trackUrl,
          deadlineMs: config.cioDeadlineSeconds * 1000,
        });
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
