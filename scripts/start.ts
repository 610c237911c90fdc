/**
 * `npm start`: the whole pipeline on this machine (see scripts/local/local-stack.ts). Ctrl-C or
 * SIGTERM stops every child process and emulator.
 */
import { createServer } from 'node:net';
import { shownPath as shown } from '../ops/cli.js';
import { DELIVERABILITY_SETTINGS, formatPpm } from '../shared/deliverability.js';
import { freePort } from './local/emulators.js';
import { startLocalStack } from './local/local-stack.js';
import { formatLogLine } from './local/log-format.js';

const PASSED_THROUGH = ['CIO_SITE_ID', 'CIO_TRACK_API_KEY', 'CIO_REGION', 'CIO_TRACK_URL', 'CIO_SUPPRESS_ON', 'CIO_ACTIONS', 'LOG_LEVEL'];

async function preferredPort(): Promise<number> {
  const wanted = Number(process.env.PORT ?? 8080);
  // Take the usual port when it is free (handy for tunnels); any free port otherwise.
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer().once('error', () => resolve(false)).listen(wanted, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  return free ? wanted : freePort();
}

async function main() {
  process.stdout.write('starting the local pipeline (Pub/Sub and Firestore emulators take a few seconds)…\n');
  const handlerEnv = Object.fromEntries(PASSED_THROUGH.filter((k) => process.env[k]).map((k) => [k, process.env[k]!]));
  const stack = await startLocalStack({
    pubsubHost: process.env.PUBSUB_EMULATOR_HOST,
    firestoreHost: process.env.FIRESTORE_EMULATOR_HOST,
    receiverPort: await preferredPort(),
    signingKey: process.env.CIO_WEBHOOK_SIGNING_KEYS,
    handlerEnv,
    // The guard judges with the deploy's variables when they are set here.
    deliverability: { env: Object.fromEntries(Object.values(DELIVERABILITY_SETTINGS).map((s) => [s.name, process.env[s.name]])) },
    echo: process.env.LOCAL_ECHO_LOGS === '0' ? undefined : process.stdout,
    // A compact line per entry for a person; LOCAL_LOG_FORMAT=json for the JSON the cloud gets.
    echoFormat: process.env.LOCAL_LOG_FORMAT === 'json' ? undefined : (line, target) => formatLogLine(line, target),
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the receiver, handler, warehouse sink and emulators…\n`);
    await stack.stop();
    process.stdout.write(`stopped (${stack.sink.stats.written} rows written to the warehouse this run)\n`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  process.stdout.write(`
  receiver       ${stack.receiverUrl}
  signing key    ${stack.signingKey}
  handler        ${stack.handlerUrl}  (${stack.dryRun ? 'dry run: Customer.io calls are logged, not made' : 'calling the Customer.io Track API'})
  Pub/Sub        ${stack.pubsubHost}  topics ${stack.names.topic}, ${stack.names.replayTopic}, ${stack.names.deadLetterTopic}; subscriptions ${stack.names.pushSubscription}, ${stack.names.replaySubscription}, ${stack.warehouseSubscription}, ${stack.names.deadLetterSubscription}
  Firestore      ${stack.firestoreHost}  database ${stack.dedupeDatabase}
  warehouse      ${shown(stack.warehousePath)}  (DuckDB: table events, views events_unique, daily_funnel,
                 table functions events_unique_between, funnel_between, deliverability_between;
                 the same in schema analytics, pseudonymized)
  guard          every minute: complaint rate ≥ ${formatPpm(stack.deliverability.thresholds.complaint.warning)} / ${formatPpm(stack.deliverability.thresholds.complaint.critical)} from ${stack.deliverability.thresholds.complaint.minVolume} delivered, bounce rate ≥ ${formatPpm(stack.deliverability.thresholds.bounce.warning)} / ${formatPpm(stack.deliverability.thresholds.bounce.critical)} from ${stack.deliverability.thresholds.bounce.minVolume} sent, last ${stack.deliverability.windowHours} h
  logs           ${shown(stack.logFiles.receiver)}, ${shown(stack.logFiles.handler)}, ${shown(stack.logFiles.guard)}

  send samples:  npm run send -- --duplicates 5
  then look:     npm run ops -- stats --local
                 npm run ops -- deliverability --local
  stop:          Ctrl-C
`);
}

main().catch((error) => {
  process.stderr.write(`npm start failed: ${(error as Error).message}\n`);
  process.exit(1);
});
