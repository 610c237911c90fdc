/**
 * `npm start`: the whole pipeline on this machine (see scripts/local/local-stack.ts). Ctrl-C,
 * SIGTERM or SIGHUP (the terminal closed) stops every child process and emulator; if this process
 * is killed outright, each child's watchdog stops it (scripts/local/watchdog.ts). One stack per
 * state directory: a second start while one runs is refused, saying where it runs.
 *
 * Exit status: 0 stopped by a signal, 1 did not start (one line on stderr saying why), 2 wrong
 * arguments (it takes none but --help: its settings are environment variables).
 */
import { createServer, isIP } from 'node:net';
import { SETTINGS, readWorkspaces } from '../shared/config.js';
import { DELIVERABILITY_SETTINGS, formatPpm } from '../shared/deliverability.js';
import { workspaceVariable } from '../shared/workspaces.js';
import { freePort } from './local/emulators.js';
import { DEFAULT_BIND_HOST } from './local/function-process.js';
import { forwardedEnv, startLocalStack } from './local/local-stack.js';
import { formatLogLine } from './local/log-format.js';
import { DEFAULT_STATE_DIR, shownPath } from './local/stack-file.js';
import { StackLock } from './local/stack-lock.js';

function bindHostSetting(env: NodeJS.ProcessEnv): string {
  const host = env.LOCAL_BIND_HOST?.trim() || DEFAULT_BIND_HOST;
  if (isIP(host) === 0) throw new Error(`LOCAL_BIND_HOST must be an IP address such as 127.0.0.1 (this machine only) or 0.0.0.0 (every interface) (got ${JSON.stringify(host)})`);
  return host;
}

function portSetting(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.PORT?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65_535) throw new Error(`PORT must be a port number from 1 to 65535 (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

/** PORT when given (refused if taken: the user chose it); else 8080 when free, any free port otherwise. */
async function receiverPort(wanted: number | undefined, host: string): Promise<number> {
  const port = wanted ?? 8080;
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer().once('error', () => resolve(false)).listen(port, host, () => server.close(() => resolve(true)));
  });
  if (free) return port;
  if (wanted !== undefined) throw new Error(`PORT ${wanted} is in use on ${host}: stop what holds it, or choose another PORT`);
  return freePort();
}

/** Writes to the terminal, which may be gone (SIGHUP): a closed terminal must not stop the clean-up. */
function say(text: string): void {
  try {
    process.stdout.write(text);
  } catch {
    // nobody is reading
  }
}

const USAGE = `usage: npm start   (no arguments: the settings are environment variables)

Runs the whole pipeline on this machine: the Pub/Sub and Firestore emulators, the receiver and the
handler as Functions Framework processes, the DuckDB warehouse and the deliverability guard.
Ctrl-C stops everything.

  PORT                           the receiver's port (default 8080 when free, else any free port)
  LOCAL_BIND_HOST                where the receiver and the handler listen (default 127.0.0.1)
  CIO_WORKSPACES                 several Customer.io workspaces, one URL and one dev key each
  CIO_SITE_ID, CIO_TRACK_API_KEY real Customer.io calls instead of the dry run
  PUBSUB_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST   emulators you already run
  CIO_LOCAL_STATE_DIR            the stack's state and logs (default .local)

Every variable the functions read (docs/configuration.md) reaches them. More: docs/development.md.
exit status: 0 stopped by a signal, 1 did not start, 2 wrong arguments
`;

/** npm start takes no arguments but --help; anything else is said in one line, exit 2. */
function readArguments(args: string[]): void {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (args.length > 0) {
    process.stderr.write(`npm start: takes no arguments (got ${JSON.stringify(args[0])}): its settings are environment variables; npm start -- --help lists them\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  readArguments(process.argv.slice(2));
  const env = process.env;
  const host = bindHostSetting(env);
  const wantedPort = portSetting(env);
  const workspaces = readWorkspaces(env);
  // A running stack is the first thing to say (its port is taken, too); startLocalStack takes the lock.
  StackLock.refuseIfHeld(DEFAULT_STATE_DIR);
  say('starting the local pipeline (Pub/Sub and Firestore emulators take a few seconds)…\n');
  // Every variable the functions read reaches them, and they check it as deployed.
  const forwarded = forwardedEnv(env);
  // Several workspaces: one URL and one dev key each (CIO_WEBHOOK_SIGNING_KEYS__<WS> fixes one).
  const workspaceKeys = Object.fromEntries(
    (workspaces ?? []).flatMap((w) => {
      const key = env[workspaceVariable(SETTINGS.signingKeys.name, w.name)]?.trim();
      return key ? [[w.name, key]] : [];
    }),
  );
  const stack = await startLocalStack({
    // Set and non-empty: emulators you already run; otherwise the stack starts its own.
    pubsubHost: env.PUBSUB_EMULATOR_HOST || undefined,
    firestoreHost: env.FIRESTORE_EMULATOR_HOST || undefined,
    receiverPort: await receiverPort(wantedPort, host),
    bindHost: host,
    signingKey: env.CIO_WEBHOOK_SIGNING_KEYS || undefined,
    workspaces,
    workspaceKeys,
    pseudonymKey: env.PSEUDONYM_KEY || undefined,
    handlerEnv: forwarded.handler,
    receiverEnv: forwarded.receiver,
    // The guard judges with the deploy's variables when they are set here.
    deliverability: { env: Object.fromEntries(Object.values(DELIVERABILITY_SETTINGS).map((s) => [s.name, env[s.name]])) },
    onRecovered: (message) => say(`note: ${message}\n`),
    echo: env.LOCAL_ECHO_LOGS === '0' ? undefined : process.stdout,
    // A compact line per entry for a person; LOCAL_LOG_FORMAT=json for the JSON the cloud gets.
    echoFormat: env.LOCAL_LOG_FORMAT === 'json' ? undefined : (line, target) => formatLogLine(line, target),
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping the receiver, handler, warehouse sink and emulators…\n`);
    await stack.stop();
    say(`stopped (${stack.sink.stats.written} rows written to the warehouse this run)\n`);
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));

  const wildcard = host === '0.0.0.0' || host === '::';
  const loopback = host.startsWith('127.') || host === '::1';
  const listening = wildcard
    ? `every interface (LOCAL_BIND_HOST=${host}): other machines can post to the receiver and the handler`
    : loopback
      ? `${host} only (LOCAL_BIND_HOST=0.0.0.0 opens the receiver and handler to other machines)`
      : `${host} only (LOCAL_BIND_HOST)`;
  const acting = (dryRun: boolean) => (dryRun ? 'dry run: Customer.io calls are logged, not made' : 'calling the Customer.io Track API');
  const served = stack.workspaces;
  const receiverLines = served
    ? `  workspaces     ${served.length} (CIO_WORKSPACES), each posting to its own URL, signed with its own key:\n` +
      served.map((w) => `    ${`${w.name} (${w.region})`.padEnd(13)}${w.receiverUrl}  signing key ${w.signingKey}`).join('\n')
    : `  receiver       ${stack.receiverUrl}\n  signing key    ${stack.signingKey}`;
  const handlerMode = served && new Set(served.map((w) => w.dryRun)).size > 1 ? served.map((w) => `${w.name}: ${w.dryRun ? 'dry run' : 'calling the Customer.io Track API'}`).join('; ') : acting(stack.dryRun);
  const sendHint = served ? `npm run send -- --workspace ${served[0]!.name} --duplicates 5` : 'npm run send -- --duplicates 5';
  say(`
${receiverLines}
  handler        ${stack.handlerUrl}  (${handlerMode})
  listening on   ${listening}
  Pub/Sub        ${stack.pubsubHost}  topics ${stack.names.topic}, ${stack.names.replayTopic}, ${stack.names.deadLetterTopic}; subscriptions ${stack.names.pushSubscription}, ${stack.names.replaySubscription}, ${stack.warehouseSubscription}, ${stack.names.deadLetterSubscription}
  Firestore      ${stack.firestoreHost}  database ${stack.dedupeDatabase}
  warehouse      ${shownPath(stack.warehousePath)}  (DuckDB: table events, views events_unique, daily_funnel,
                 table functions events_unique_between, funnel_between, deliverability_between;
                 the same in schema analytics, pseudonymized)
  guard          every minute: complaint rate ≥ ${formatPpm(stack.deliverability.thresholds.complaint.warning)} / ${formatPpm(stack.deliverability.thresholds.complaint.critical)} from ${stack.deliverability.thresholds.complaint.minVolume} delivered, bounce rate ≥ ${formatPpm(stack.deliverability.thresholds.bounce.warning)} / ${formatPpm(stack.deliverability.thresholds.bounce.critical)} from ${stack.deliverability.thresholds.bounce.minVolume} sent, last ${stack.deliverability.windowHours} h
  logs           ${shownPath(stack.logFiles.receiver)}, ${shownPath(stack.logFiles.handler)}, ${shownPath(stack.logFiles.guard)}

  send samples:  ${sendHint}
  then look:     npm run ops -- stats --local
                 npm run ops -- deliverability --local
  stop:          Ctrl-C (or kill ${process.pid})
`);
}

const fail = (error: unknown) => {
  process.stderr.write(`npm start: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}\n`);
  process.exit(1);
};
// A library's stray failure is one line too; the children's watchdogs stop what was started.
process.on('unhandledRejection', fail);
main().catch(fail);
