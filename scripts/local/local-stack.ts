/**
 * The whole pipeline on one machine: Pub/Sub and Firestore emulators (unless their variables are
 * set), the deployed topology (topic, dead-letter topic and subscription, push subscription to the
 * handler, and a pull subscription standing in for the BigQuery subscription), both functions as
 * real Functions Framework processes, the DuckDB warehouse sink, and the deliverability guard on a
 * timer. Used by `npm start`, the end-to-end tests and the soak run.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { createLogger, type Logger } from '../../shared/log.js';
import { renderPushFilter } from '../../shared/policy.js';
import { HANDLER_VARIABLES, RECEIVER_VARIABLES, SETTINGS, loadPolicyConfig, readWorkspaces, workspaceVariables } from '../../shared/config.js';
import { readDeliverabilityConfig } from '../../shared/deliverability.js';
import { WORKSPACES_VARIABLE, formatWorkspaces, workspaceVariable, type Workspace } from '../../shared/workspaces.js';
import { DEDUPE_COLLECTION, DEFAULT_PREFIX, pipelineNames } from '../../infra/names.js';
import { TIMING } from '../../infra/timing.js';
import { startFirestoreEmulator, startPubSubEmulator, type Emulator } from './emulators.js';
import { DEFAULT_BIND_HOST, startFunction, type FunctionProcess, type FunctionProcessOptions } from './function-process.js';
import { startLocalGuard, type LocalGuard } from './local-guard.js';
import { ensureWarehouse } from './local-warehouse.js';
import { SNAPSHOT_ORIGINS_FILE } from './snapshot-origins.js';
import { DEFAULT_STATE_DIR, type LocalStackInfo, type LocalWorkspace } from './stack-file.js';
import { StackLock } from './stack-lock.js';
import { WarehouseSink } from './warehouse-sink.js';

export { DEFAULT_STATE_DIR, STACK_FILE, type LocalStackInfo } from './stack-file.js';
export { StackAlreadyRunning } from './stack-lock.js';
/** Pub/Sub's minimum; the emulator retries a nack about every second, so dead-lettering takes seconds. */
export const LOCAL_MAX_DELIVERY_ATTEMPTS = 5;

/**
 * The functions' variables the local stack sets itself, whatever the environment says: they name
 * its topology (project, topic, dedupe database) or are generated per start (the dev signing key
 * and the pseudonym key, which npm start takes as options instead).
 */
export const STACK_SETS = [SETTINGS.project, SETTINGS.topic, SETTINGS.dedupeDatabase, SETTINGS.signingKeys, SETTINGS.pseudonymKey].map((s) => s.name);

/**
 * Read by the functions but not set by a deploy, so not in RECEIVER_VARIABLES / HANDLER_VARIABLES:
 * the credentials given as values (locally there is no secret to name) and a Secret Manager stand-in.
 */
const LOCAL_VARIABLES = {
  receiver: [SETTINGS.secretManagerEndpoint.name],
  handler: [SETTINGS.siteId.name, SETTINGS.trackApiKey.name, SETTINGS.secretManagerEndpoint.name],
};

/**
 * What of `env` each function gets: every variable it reads (shared/config.ts's lists, and with
 * CIO_WORKSPACES each workspace's), except those the stack sets. A bad value is then refused by the
 * function's own start-up check, with one line naming the variable, as deployed.
 */
export function forwardedEnv(env: Readonly<Record<string, string | undefined>>): { receiver: Record<string, string>; handler: Record<string, string> } {
  let workspaces: Workspace[] | null = null;
  try {
    workspaces = readWorkspaces(env);
  } catch {
    // npm start refuses it before it gets here; nothing per workspace to forward.
  }
  // With several, the stack passes the workspaces itself, each with its dev key (npm start takes a
  // fixed one as an option); the one-workspace key is passed on, for the receiver to refuse it.
  const stackSets = workspaces
    ? [...STACK_SETS.filter((name) => name !== SETTINGS.signingKeys.name), WORKSPACES_VARIABLE, ...workspaces.map((w) => workspaceVariable(SETTINGS.signingKeys.name, w.name))]
    : STACK_SETS;
  const pick = (names: readonly string[]) =>
    Object.fromEntries(names.filter((name) => !stackSets.includes(name) && env[name] !== undefined && env[name] !== '').map((name) => [name, env[name]!]));
  const perWorkspace = (target: 'receiver' | 'handler') => (workspaces ? workspaceVariables(target, workspaces) : []);
  return {
    receiver: pick([...RECEIVER_VARIABLES, ...LOCAL_VARIABLES.receiver, SETTINGS.signingKeys.name, ...perWorkspace('receiver')]),
    handler: pick([...HANDLER_VARIABLES, ...LOCAL_VARIABLES.handler, ...perWorkspace('handler')]),
  };
}

export interface LocalStackOptions {
  project?: string;
  prefix?: string;
  stateDir?: string;
  /** Existing emulators (host:port); started here when absent. */
  pubsubHost?: string;
  firestoreHost?: string;
  /**
   * Where the functions reach the emulators, when not directly (the chaos soak's fault proxies). The
   * stack's own clients (topology, warehouse sink) always go direct: those stand for managed parts.
   */
  functionHosts?: { pubsub?: string; firestore?: string };
  receiverPort?: number;
  /** Where the receiver and the handler listen (default 127.0.0.1: this machine only). */
  bindHost?: string;
  signingKey?: string;
  /**
   * Several workspaces (CIO_WORKSPACES): the receiver serves each at /<name>, the handler acts for
   * each (dry run unless it has credentials). Null or absent: one, as before.
   */
  workspaces?: readonly Workspace[] | null;
  /** A workspace's dev signing key (random per start otherwise), by name. */
  workspaceKeys?: Record<string, string>;
  /** Hex key of the keyed hash in the handler's logs and the analytics views; random per start when absent. */
  pseudonymKey?: string;
  /** Extra handler environment: credentials (otherwise dry run), CIO_TRACK_URL, DEDUPE_COLLECTION, … */
  handlerEnv?: Record<string, string>;
  /** Extra receiver environment: LOG_LEVEL, RECEIVER_MAX_BODY_BYTES, … */
  receiverEnv?: Record<string, string>;
  /** Told when the state directory held a stale stack file, and what was done about it. */
  onRecovered?: (message: string) => void;
  /** Delivery attempts before dead-lettering (default LOCAL_MAX_DELIVERY_ATTEMPTS). */
  maxDeliveryAttempts?: number;
  /** The guard's DELIVERABILITY_* settings (defaults otherwise) and how often it runs (default once a minute). */
  deliverability?: { env?: Record<string, string | undefined>; intervalMs?: number };
  echo?: NodeJS.WritableStream;
  /** How echoed lines look (default: JSON, prefixed with the function). */
  echoFormat?: (line: string, target: string) => string;
  logger?: Logger;
}


export interface LocalStack extends LocalStackInfo {
  pubsub: PubSub;
  /** Creates the topics and subscriptions again (after a Pub/Sub emulator restart, which keeps nothing). */
  createTopology(): Promise<void>;
  sink: WarehouseSink;
  guard: LocalGuard;
  /** The emulators this stack started (none when their hosts were given). */
  emulators: Emulator[];
  /** The current processes (a restart replaces them). */
  readonly receiver: FunctionProcess;
  readonly handler: FunctionProcess;
  /**
   * Kills a function (SIGKILL by default, as a crashed instance) and starts it again on the same port
   * with the same settings and log file after `downMs`; resolves when it answers again.
   */
  restart(target: 'receiver' | 'handler', options?: { signal?: NodeJS.Signals; downMs?: number }): Promise<FunctionProcess>;
  stop(): Promise<void>;
}

async function recreateSubscription(pubsub: PubSub, name: string, topic: string, options: Parameters<PubSub['createSubscription']>[2]) {
  // A leftover subscription (external emulator, earlier run) may push to a dead port: start clean.
  await pubsub.subscription(name).delete().catch(() => undefined);
  await pubsub.createSubscription(topic, name, options);
}

async function ensureTopic(pubsub: PubSub, name: string) {
  const [exists] = await pubsub.topic(name).exists();
  if (!exists) await pubsub.createTopic(name);
}

/**
 * Dry run unless the handler has Track API credentials, or as CIO_DRY_RUN says when it is set (and
 * valid). For one of several workspaces: its own CIO_DRY_RUN__<WS>, else CIO_DRY_RUN, else whether
 * it has its own credentials.
 */
function dryRunOf(handlerEnv: Record<string, string>, workspace: Workspace | null = null): boolean {
  const named = (name: string) => (workspace ? workspaceVariable(name, workspace.name) : name);
  for (const name of workspace ? [named(SETTINGS.dryRun.name), SETTINGS.dryRun.name] : [SETTINGS.dryRun.name]) {
    const setting = handlerEnv[name];
    if (setting === undefined || setting.trim() === '') continue;
    try {
      return SETTINGS.dryRun.parse(setting.trim());
    } catch {
      // The handler refuses it at start-up, naming the variable.
    }
  }
  return !(handlerEnv[named(SETTINGS.siteId.name)] && handlerEnv[named(SETTINGS.trackApiKey.name)]);
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const project = options.project ?? 'local-project';
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const names = pipelineNames(prefix);
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const logger = options.logger ?? createLogger({ base: { component: 'local-stack' } });
  const bindHost = options.bindHost ?? DEFAULT_BIND_HOST;
  const guardEnv = options.deliverability?.env ?? {};
  const { config: deliverability, problems } = readDeliverabilityConfig((name) => guardEnv[name]);
  if (problems.length > 0) throw new Error(problems.map((p) => `${p.variable}: ${p.message}`).join('; '));
  mkdirSync(stateDir, { recursive: true });
  // Every Google client here talks to an emulator: none may look for a metadata server.
  process.env.METADATA_SERVER_DETECTION = 'none';
  // One stack per state directory; refused (StackAlreadyRunning) while another holds it.
  const lock = await StackLock.acquire(stateDir, options.onRecovered ?? ((message) => logger.info(message)));

  const started: Emulator[] = [];
  const cleanup: Array<() => Promise<unknown>> = [];
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      try {
        lock.update({ state: 'stopping' });
      } catch {
        // taken over: stop all the same
      }
      for (const step of cleanup.reverse()) await step().catch(() => undefined);
      for (const emulator of started) await emulator.stop();
      lock.release();
    })());
  const emulatorStarted = (emulator: Emulator) => {
    started.push(emulator);
    lock.update({ group: { name: emulator.name, pid: emulator.pid, startTime: emulator.startTime } });
    return emulator.host;
  };

  try {
    // A new emulator holds no snapshots: forget the origins recorded for the last one's.
    if (!options.pubsubHost) rmSync(join(stateDir, SNAPSHOT_ORIGINS_FILE), { force: true });
    const [pubsubHost, firestoreHost] = await Promise.all([
      options.pubsubHost ?? startPubSubEmulator({ project, logDir: stateDir }).then(emulatorStarted),
      options.firestoreHost ?? startFirestoreEmulator({ logDir: stateDir }).then(emulatorStarted),
    ]);
    const emulatorEnv = {
      GOOGLE_CLOUD_PROJECT: project,
      PUBSUB_EMULATOR_HOST: options.functionHosts?.pubsub ?? pubsubHost,
      FIRESTORE_EMULATOR_HOST: options.functionHosts?.firestore ?? firestoreHost,
    };
    const pubsub = new PubSub({ projectId: project, apiEndpoint: pubsubHost });
    cleanup.push(() => pubsub.close());

    const pseudonymKey = options.pseudonymKey ?? randomBytes(32).toString('hex');
    const logDir = join(stateDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const logFiles = { receiver: join(logDir, 'receiver.log'), handler: join(logDir, 'handler.log'), guard: join(logDir, 'guard.log') };
    // The deployed topology's named database: the emulator creates it on first use.
    const handlerEnv: Record<string, string> = { ...emulatorEnv, DEDUPE_DATABASE: names.dedupeDatabase, PSEUDONYM_KEY: pseudonymKey, ...options.handlerEnv };
    const workspaces = options.workspaces ?? null;
    const workspaceDryRun = new Map((workspaces ?? []).map((w) => [w.name, dryRunOf(handlerEnv, w)]));
    const dryRun = workspaces ? [...workspaceDryRun.values()].every(Boolean) : dryRunOf(handlerEnv);
    if (workspaces) {
      handlerEnv[WORKSPACES_VARIABLE] = formatWorkspaces(workspaces);
      // Each workspace said outright, so the handler acts for those with credentials only.
      for (const w of workspaces) handlerEnv[workspaceVariable(SETTINGS.dryRun.name, w.name)] = workspaceDryRun.get(w.name) ? '1' : '0';
    }
    const processes = {} as Record<'receiver' | 'handler', { options: FunctionProcessOptions; current: FunctionProcess }>;
    const launch = async (target: 'receiver' | 'handler', launchOptions: FunctionProcessOptions) => {
      processes[target] = { options: launchOptions, current: await startFunction(launchOptions) };
      cleanup.push(() => processes[target].current.stop());
      return processes[target].current;
    };
    const handler = await launch('handler', {
      target: 'handler',
      env: { CIO_DRY_RUN: dryRun ? '1' : '0', CIO_DEADLINE_SECONDS: String(TIMING.cioDeadlineSeconds), ...handlerEnv },
      host: bindHost,
      echo: options.echo,
      echoFormat: options.echoFormat,
      logFile: logFiles.handler,
    });

    const warehouseSubscription = `${prefix}-events-warehouse`;
    const createTopology = async () => {
      for (const topic of [names.topic, names.deadLetterTopic, names.replayTopic]) await ensureTopic(pubsub, topic);
      const deadLetterPolicy = { deadLetterTopic: pubsub.topic(names.deadLetterTopic).name, maxDeliveryAttempts: options.maxDeliveryAttempts ?? LOCAL_MAX_DELIVERY_ATTEMPTS };
      // The emulator keeps no topic retention, so acknowledged messages are retained on the
      // subscriptions instead for seek; deployed, the topics keep them (see infra EventBus).
      const retainAckedMessages = true;
      await recreateSubscription(pubsub, names.deadLetterSubscription, names.deadLetterTopic, { ackDeadlineSeconds: 60, retainAckedMessages });
      const push = {
        pushConfig: { pushEndpoint: handler.url },
        // The emulator stores the filter but ignores it: the handler acks what it has no action for.
        filter: renderPushFilter(loadPolicyConfig(handlerEnv)),
        ackDeadlineSeconds: TIMING.pushAckDeadlineSeconds,
        deadLetterPolicy,
        retainAckedMessages,
      };
      await recreateSubscription(pubsub, names.pushSubscription, names.topic, push);
      await recreateSubscription(pubsub, names.replaySubscription, names.replayTopic, push);
      await recreateSubscription(pubsub, warehouseSubscription, names.topic, { ackDeadlineSeconds: 60, deadLetterPolicy, retainAckedMessages });
    };
    await createTopology();

    const warehousePath = join(stateDir, `${prefix}-warehouse.duckdb`);
    await ensureWarehouse(warehousePath, Buffer.from(pseudonymKey, 'hex'));
    const sink = new WarehouseSink({ pubsub, subscription: warehouseSubscription, path: warehousePath, logger });
    sink.start();
    cleanup.push(() => sink.stop());
    // In this process, so its reads take turns with the sink's writes (local-warehouse.ts).
    const guard = startLocalGuard({
      warehousePath,
      config: deliverability,
      intervalMs: options.deliverability?.intervalMs,
      logFile: logFiles.guard,
      echo: options.echo,
      echoFormat: options.echoFormat,
    });
    cleanup.push(() => guard.stop());

    const signingKey = workspaces ? '' : (options.signingKey ?? `dev-${randomBytes(16).toString('hex')}`);
    const workspaceKeys = new Map((workspaces ?? []).map((w) => [w.name, options.workspaceKeys?.[w.name] ?? `dev-${w.name}-${randomBytes(12).toString('hex')}`]));
    const keysEnv: Record<string, string> = workspaces
      ? { [WORKSPACES_VARIABLE]: formatWorkspaces(workspaces), ...Object.fromEntries(workspaces.map((w) => [workspaceVariable(SETTINGS.signingKeys.name, w.name), workspaceKeys.get(w.name)!])) }
      : { [SETTINGS.signingKeys.name]: signingKey };
    const receiver = await launch('receiver', {
      target: 'receiver',
      port: options.receiverPort,
      host: bindHost,
      env: { ...emulatorEnv, ...options.receiverEnv, PUBSUB_TOPIC: names.topic, ...keysEnv },
      echo: options.echo,
      echoFormat: options.echoFormat,
      logFile: logFiles.receiver,
    });

    const served: LocalWorkspace[] | null = workspaces
      ? workspaces.map((w) => ({ name: w.name, region: w.region, receiverUrl: `${receiver.url}${w.name}`, signingKey: workspaceKeys.get(w.name)!, dryRun: workspaceDryRun.get(w.name)! }))
      : null;
    const info: LocalStackInfo = {
      project, prefix, pubsubHost, firestoreHost, receiverUrl: receiver.url, handlerUrl: handler.url, signingKey, workspaces: served,
      warehousePath, warehouseSubscription, names, dryRun,
      dedupeDatabase: handlerEnv.DEDUPE_DATABASE!, dedupeCollection: handlerEnv.DEDUPE_COLLECTION ?? DEDUPE_COLLECTION, logFiles,
      deliverability,
    };
    lock.running(info);

    const restart: LocalStack['restart'] = async (target, { signal = 'SIGKILL', downMs = 0 } = {}) => {
      const entry = processes[target];
      await entry.current.stop(signal);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      entry.current = await startFunction({ ...entry.options, port: entry.current.port });
      return entry.current;
    };
    return {
      ...info,
      pubsub,
      createTopology,
      sink,
      guard,
      emulators: started,
      get receiver() {
        return processes.receiver.current;
      },
      get handler() {
        return processes.handler.current;
      },
      restart,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
