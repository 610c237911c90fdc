/**
 * Builds the receiver from its configuration and one long-lived Pub/Sub client per process, and the
 * request guard that runs in front of the framework's parsers (functions/request-guard.ts).
 */
import { PubSub } from '@google-cloud/pubsub';
import { loadReceiverConfig, type Env } from '../shared/config.js';
import { createLogger } from '../shared/log.js';
import { createBufferPool } from './buffer-pool.js';
import { createTopicPublisher } from './pubsub-publisher.js';
import { createReceiver } from './receiver.js';
import { createRequestGuard } from './request-guard.js';

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
  const guard = createRequestGuard({
    maxBodyBytes: config.maxBodyBytes,
    pool: createBufferPool(config.maxBufferedBytes),
    maxAgeSeconds: config.maxAgeSeconds,
    bodyTimeoutMs: config.bodyTimeoutMs,
    logger,
  });
  return { receiver: createReceiver({ config, publisher, logger }), guard, logger, config };
}

