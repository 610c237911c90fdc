/**
 * `npm start`: the whole pipeline on this machine (see scripts/local/local-stack.ts). Ctrl-C,
 * SIGTERM or SIGHUP (the terminal closed) stops every child process and emulator; if this process
 * is killed outright, each child's watchdog stops it (scripts/local/watchdog.ts). One stack per
 * state directory: a second start while one runs is refused, saying where it runs.
 *
 * Exit status: 0 stopped by a signal, 1 did not start (one line on stderr saying why).
 */
import { createServer, isIP } from 'node:net';
import { DELIVERABILITY_SETTINGS, formatPpm } from '../shared/deliverability.js';
import { freePort } from './local/emulators.js';
import { DEFAULT_BIND_HOST } from './local/function-process.js';
import { startLocalStack } from './local/local-stack.js';
import { formatLogLine } from './local/log-format.js';
import { shownPath } from './local/stack-file.js';

const PASSED_THROUGH = ['CIO_SITE_ID', 'CIO_TRACK_API_KEY', 'CIO_REGION', 'CIO_TRACK_URL', 'CIO_SUPPRESS_ON', 'CIO_ACTIONS', 'LOG_LEVEL'];

function bindHostSetting(env: NodeJS.ProcessEnv): string {
  const host = env.LOCAL_BIND_HOST?.trim() || DEFAULT_BIND_HOST;
  if (isIP(host) === 0) throw new Error(`LOCAL_BIND_HOST must be an IP address such as 127.0.0.1 (this machine only) or 0.0.0.0 (every interface) (got ${JSON.stringify(host)})`);
  return host;
}

async function preferredPort(host: string): Promise<number> {
  const wanted = Number(process.env.PORT ?? 8080);
  // Take the usual port when it is free (handy for tunnels); any free port otherwise.
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer().once('error', () => resolve(false)).listen(wanted, host, () => server.close(() => resolve(true)));
  });
  return free ? wanted : freePort();
}

/** Writes to the terminal, which may be gone (SIGHUP): a closed terminal must not stop the clean-up. */
function say(text: string): void {
  try {
    process.stdout.write(text);
  } catch {
    // nobody is reading
  }
}

async function main() {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const host = bindHostSetting(process.env);
  say('starting the local pipeline (Pub/Sub and Firestore emulators take a few seconds)…\n');
  const handlerEnv = Object.fromEntries(PASSED_THROUGH.filter((k) => process.env[k]).map((k) => [k, process.env[k]!]));
  const stack = await startLocalStack({
    // Set and non-empty: emulators you already run; otherwise the stack starts its own.
    pubsubHost: process.env.PUBSUB_EMULATOR_HOST || undefined,
    firestoreHost: process.env.FIRESTORE_EMULATOR_HOST || undefined,
    receiverPort: await preferredPort(host),
    bindHost: host,
    signingKey: process.env.CIO_WEBHOOK_SIGNING_KEYS,
    handlerEnv,
    // The guard judges with the deploy's variables when they are set here.
    deliverability: { env: Object.fromEntries(Object.values(DELIVERABILITY_SETTINGS).map((s) => [s.name, process.env[s.name]])) },
    onRecovered: (message) => say(`note: ${message}\n`),
    echo: process.env.LOCAL_ECHO_LOGS === '0' ? undefined : process.stdout,
    // A compact line per entry for a person; LOCAL_LOG_FORMAT=json for the JSON the cloud gets.
    echoFormat: process.env.LOCAL_LOG_FORMAT === 'json' ? undefined : (line, target) => formatLogLine(line, target),
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
      ? `${host} only: this machine (LOCAL_BIND_HOST=0.0.0.0 lets other machines in)`
      : `${host} only (LOCAL_BIND_HOST)`;
  say(`
  receiver       ${stack.receiverUrl}
  signing key    ${stack.signingKey}
  handler        ${stack.handlerUrl}  (${stack.dryRun ? 'dry run: Customer.io calls are logged, not made' : 'calling the Customer.io Track API'})
  listening on   ${listening}
  Pub/Sub        ${stack.pubsubHost}  topics ${stack.names.topic}, ${stack.names.replayTopic}, ${stack.names.deadLetterTopic}; subscriptions ${stack.names.pushSubscription}, ${stack.names.replaySubscription}, ${stack.warehouseSubscription}, ${stack.names.deadLetterSubscription}
  Firestore      ${stack.firestoreHost}  database ${stack.dedupeDatabase}
  warehouse      ${shownPath(stack.warehousePath)}  (DuckDB: table events, views events_unique, daily_funnel,
                 table functions events_unique_between, funnel_between, deliverability_between;
                 the same in schema analytics, pseudonymized)
  guard          every minute: complaint rate ≥ ${formatPpm(stack.deliverability.thresholds.complaint.warning)} / ${formatPpm(stack.deliverability.thresholds.complaint.critical)} from ${stack.deliverability.thresholds.complaint.minVolume} delivered, bounce rate ≥ ${formatPpm(stack.deliverability.thresholds.bounce.warning)} / ${formatPpm(stack.deliverability.thresholds.bounce.critical)} from ${stack.deliverability.thresholds.bounce.minVolume} sent, last ${stack.deliverability.windowHours} h
  logs           ${shownPath(stack.logFiles.receiver)}, ${shownPath(stack.logFiles.handler)}, ${shownPath(stack.logFiles.guard)}

  send samples:  npm run send -- --duplicates 5
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
