/**
 * Builds the receiver from its configuration and one long-lived Pub/Sub client per process, and the
 * request guard that runs in front of the framework's parsers (functions/request-guard.ts).
 */
import { PubSub } from '@google-cloud/pubsub';
import { SETTINGS, loadReceiverConfig, type Env, type ReceiverConfig } from '../shared/config.js';
import { createLogger, type Logger } from '../shared/log.js';
import { createBufferPool } from './buffer-pool.js';
import { createByteGate } from './byte-gate.js';
import { createTopicPublisher } from './pubsub-publisher.js';
import { createReceiver } from './receiver.js';
import { createRefreshingSecret } from './refreshing-secret.js';
import { createRequestGuard } from './request-guard.js';
import { createSecretManagerReader, type SecretReader } from './secret-manager.js';

/** Customer.io waits 4 s: a request waits at most this for a refresh of keys it already has. */
const STALE_KEYS_WAIT_MS = 500;
/** Bound on one read of the secret (the first request after a cold start waits for it). */
const SECRET_READ_TIMEOUT_MS = 3_000;

/** The keys in force: given directly, or the newest version of the secret, read again every refresh interval. */
export function signingKeySource(config: ReceiverConfig, logger: Logger, reader?: SecretReader): () => Promise<readonly string[]> {
  const given = config.signingKeys;
  if (given.kind === 'value') return async () => given.value;
  const secret = createRefreshingSecret({
    secret: given.secret,
    variable: SETTINGS.signingKeysSecret.name,
    reader: reader ?? createSecretManagerReader({ endpoint: config.secrets.endpoint, timeoutMs: SECRET_READ_TIMEOUT_MS }),
    // The secret holds what CIO_WEBHOOK_SIGNING_KEYS would: `new,old` while rotating.
    parse: (text) => {
      const keys = SETTINGS.signingKeys.parse(text);
      return keys.length > 0 ? keys : null;
    },
    refreshMs: config.secrets.refreshSeconds * 1000,
    staleWaitMs: STALE_KEYS_WAIT_MS,
    logger,
  });
  return async () => (await secret.get()) ?? [];
}

export function buildReceiver(env: Env) {
  const config = loadReceiverConfig(env);
  const logger = createLogger({ level: config.logLevel, base: { component: 'receiver' } });
  const pubsub = new PubSub({ projectId: config.project });
  const publisher = createTopicPublisher({ pubsub, topic: config.topic, timeoutMs: config.publishTimeoutMs });
  const signingKeys = signingKeySource(config, logger);
  if (config.signingKeys.kind === 'value' && config.signingKeys.value.length === 0) {
    logger.error('CIO_WEBHOOK_SIGNING_KEYS holds the deploy placeholder: every webhook gets 503 until a real key is added');
  }
  // Read the secret while the instance starts, before the first request asks for it.
  if (config.signingKeys.kind === 'secret') void signingKeys();
  logger.info('receiver configured', {
    topic: config.topic,
    signing_keys: config.signingKeys.kind === 'value' ? config.signingKeys.value.length : config.signingKeys.secret,
    max_age_seconds: config.maxAgeSeconds,
    emulator: env.PUBSUB_EMULATOR_HOST ?? null,
  });
  const guard = createRequestGuard({
    maxBodyBytes: config.maxBodyBytes,
    pool: createBufferPool(config.maxBufferedBytes),
    maxAgeSeconds: config.maxAgeSeconds,
    bodyTimeoutMs: config.bodyTimeoutMs,
    logger,
    project: config.project,
  });
  // Processing a body copies it several times outside the pool (functions/byte-gate.ts): large
  // bodies in processing add up to at most one body of the largest size.
  const processing = createByteGate(config.maxBodyBytes);
  return { receiver: createReceiver({ config, publisher, logger, signingKeys, processing }), guard, logger, config };
}
