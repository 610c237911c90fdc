/**
 * Functions Framework entry point for every target (`receiver`, `handler`, `guard`). Only the
 * selected target's code and configuration are loaded — the receiver never loads Firestore or the
 * Customer.io client, only the guard loads BigQuery's — and the configuration is validated at start-up: a bad value ends the process with one
 * line naming the variable instead of failing on the first request.
 */
// Express prints stack traces in its error pages (e.g. the framework's 400 for malformed JSON)
// unless NODE_ENV is production. The app is created after this module loads, so this reaches it.
process.env.NODE_ENV = 'production';

import * as functions from '@google-cloud/functions-framework';
import { ConfigError } from '../shared/config.js';
import { createLogger } from '../shared/log.js';
import { routeFrameworkBodyErrors } from './framework-errors.js';
import { guardFrameworkServer } from './framework-guard.js';

/** Node's own bound on a request's headers; the whole request gets the guard's body timeout plus this. */
const HEADERS_TIMEOUT_MS = 10_000;
/**
 * Node checks those timeouts every 30 s by default, so a socket that never sends its headers lives
 * up to 40 s (measured: 20,000 idle sockets held the process's file descriptors for ~35 s). Checked
 * every second, it lives at most 11 s.
 */
const CONNECTIONS_CHECK_MS = 1_000;
/**
 * Cloud Run sends an instance at most 80 requests at once (the receiver's concurrency); its front
 * end's idle keep-alive connections come on top. A thousand leaves room for both and keeps the
 * process far from its file-descriptor limit when something other than the front end connects.
 */
const MAX_CONNECTIONS = 1_000;

const TARGETS = ['receiver', 'handler', 'guard'] as const;

function selectedTarget(): string | undefined {
  const fromArgs = process.argv.findIndex((arg) => arg === '--target' || arg.startsWith('--target='));
  if (fromArgs >= 0) {
    const arg = process.argv[fromArgs]!;
    return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : process.argv[fromArgs + 1];
  }
  return process.env.FUNCTION_TARGET;
}

const target = selectedTarget();
routeFrameworkBodyErrors(createLogger({ base: { component: target ?? 'functions' } }));
try {
  // Top-level await: the framework awaits this module before it starts serving.
  if (target === 'receiver') {
    const { receiver, guard, logger, config } = (await import('./receiver-wiring.js')).buildReceiver(process.env);
    // Before the framework builds its server (it does after this module loads): the guard answers
    // what the headers decide and reads bodies within bounds, ahead of the framework's parsers.
    guardFrameworkServer(guard, {
      logger,
      requestTimeoutMs: config.bodyTimeoutMs + HEADERS_TIMEOUT_MS,
      headersTimeoutMs: HEADERS_TIMEOUT_MS,
      connectionsCheckingIntervalMs: CONNECTIONS_CHECK_MS,
      maxConnections: MAX_CONNECTIONS,
    });
    functions.http('receiver', receiver);
  } else if (target === 'handler') functions.http('handler', (await import('./handler-wiring.js')).buildHandler(process.env));
  else if (target === 'guard') functions.http('guard', (await import('./guard-wiring.js')).buildGuard(process.env));
  else throw new ConfigError('FUNCTION_TARGET', `must be one of ${TARGETS.join(', ')} (got ${JSON.stringify(target ?? '')})`);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${JSON.stringify({ severity: 'ERROR', message: `configuration error: ${error.message}` })}\n`);
  process.exit(1);
}
