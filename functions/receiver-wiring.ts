/**
 * Builds the receiver from its configuration and one long-lived Pub/Sub client per process, and the
 * request guard that runs in front of the framework's parsers (functions/request-guard.ts).
 */
import { PubSub } from '@google-cloud/pubsub';
import { SETTINGS, loadReceiverConfig, type Env, type ReceiverConfig, type Sourced } from '../shared/config.js';
import { createLogger, type Logger } from '../shared/log.js';
import { workspaceVariable } from '../shared/workspaces.js';
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

/** One set of keys in force: given directly, or the newest version of the secret, read again every refresh interval. */
function keySource(given: Sourced<string[]>, variable: string, config: ReceiverConfig, logger: Logger, reader: () => SecretReader): () => Promise<readonly string[]> {
  if (given.kind === 'value') return async () => given.value;
  const secret = createRefreshingSecret({
    secret: given.secret,
    variable,
    reader: reader(),
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

/**
 * The keys in force for a request's workspace (null: the single-workspace mode, every path). With
 * several workspaces each has its own source (its own secret, refreshed on its own), and a
 * workspace's keys verify its requests only.
 */
export function signingKeySource(config: ReceiverConfig, logger: Logger, reader?: SecretReader): (workspace: string | null) => Promise<readonly string[]> {
  let shared: SecretReader | undefined = reader;
  const secrets = () => (shared ??= createSecretManagerReader({ endpoint: config.secrets.endpoint, timeoutMs: SECRET_READ_TIMEOUT_MS }));
  if (!config.workspaces) {
    const keys = keySource(config.signingKeys, SETTINGS.signingKeysSecret.name, config, logger, secrets);
    return () => keys();
  }
  const byWorkspace = new Map(
    config.workspaces.map((w) => [w.name, keySource(w.signingKeys, workspaceVariable(SETTINGS.signingKeysSecret.name, w.name), config, logger.child({ workspace: w.name }), secrets)]),
  );
  return async (workspace) => (workspace === null ? [] : ((await byWorkspace.get(workspace)?.()) ?? []));
}

export function buildReceiver(env: Env) {
  const config = loadReceiverConfig(env);
  const logger = createLogger({ level: config.logLevel, base: { component: 'receiver' } });
  const pubsub = new PubSub({ projectId: config.project });
  const publisher = createTopicPublisher({ pubsub, topic: config.topic, timeoutMs: config.publishTimeoutMs });
  const signingKeys = signingKeySource(config, logger);
  // Each workspace (or the one) with where its keys come from.
  const keySets = config.workspaces
    ? config.workspaces.map((w) => ({ workspace: w.name, given: w.signingKeys, variable: workspaceVariable(SETTINGS.signingKeys.name, w.name) }))
    : [{ workspace: null, given: config.signingKeys, variable: SETTINGS.signingKeys.name }];
  for (const { workspace, given, variable } of keySets) {
    if (given.kind === 'value' && given.value.length === 0) {
      logger.error(`${variable} holds the deploy placeholder: every webhook${workspace ? ` to /${workspace}` : ''} gets 503 until a real key is added`, workspace ? { workspace } : {});
    }
    // Read the secret while the instance starts, before the first request asks for it.
    if (given.kind === 'secret') void signingKeys(workspace);
  }
  const described = (given: Sourced<string[]>) => (given.kind === 'value' ? given.value.length : given.secret);
  logger.info('receiver configured', {
    topic: config.topic,
    ...(config.workspaces
      ? { workspaces: Object.fromEntries(config.workspaces.map((w) => [w.name, { path: `/${w.name}`, signing_keys: described(w.signingKeys) }])) }
      : { signing_keys: described(config.signingKeys) }),
    max_age_seconds: config.maxAgeSeconds,
    emulator: env.PUBSUB_EMULATOR_HOST ?? null,
  });
  const guard = createRequestGuard({
    maxBodyBytes: config.maxBodyBytes,
    pool: createBufferPool(config.maxBufferedBytes),
    maxAgeSeconds: config.maxAgeSeconds,
    bodyTimeoutMs: config.bodyTimeoutMs,
    workspaces: config.workspaces ?? null,
    logger,
    project: config.project,
  });
  // Processing a body copies it several times outside the pool (functions/byte-gate.ts): large
  // bodies in processing add up to at most one body of the largest size.
  const processing = createByteGate(config.maxBodyBytes);
  return { receiver: createReceiver({ config, publisher, logger, signingKeys, processing }), guard, logger, config };
}
