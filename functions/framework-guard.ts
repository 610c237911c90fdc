/**
 * Puts a request guard in front of the Functions Framework's own Express app. The framework offers
 * no hook before its body parsers: it builds its app and calls `http.createServer(app)` inside
 * `getServer`, after loading the function's module. That call is the one seam it leaves, so the
 * function's module (loaded first) wraps `http.createServer` for the next call only: the server the
 * framework creates runs the guard first and the framework's app only for requests the guard let
 * through. It is also where Node's own connection bounds are set: the request and header timeouts,
 * how often they are checked, and how many connections the process holds at once.
 *
 * If a framework upgrade stops creating its server this way, the guard would be silently bypassed:
 * so if no server has been created through it shortly after start-up, the process stops with an
 * error instead of serving unguarded (and the entry-point test fails).
 */
import http from 'node:http';
import type { Logger } from '../shared/log.js';
import type { GuardedRequest, RequestGuard } from './request-guard.js';

export interface FrameworkGuardOptions {
  logger: Logger;
  /** Node's bound on receiving a whole request, and on its headers. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** How often Node looks for requests past those timeouts (its default is 30 s). */
  connectionsCheckingIntervalMs: number;
  /** Connections beyond this are closed as they arrive (file descriptors are finite). */
  maxConnections: number;
  /** How long after start-up the framework has to create its server. */
  installWithinMs?: number;
  onNotInstalled?: () => void;
}

export function guardFrameworkServer(guard: RequestGuard, options: FrameworkGuardOptions): void {
  const original = http.createServer;
  const watchdog = setTimeout(() => {
    http.createServer = original;
    options.logger.error('request guard not installed: the Functions Framework did not create its server through http.createServer; refusing to serve unguarded');
    (options.onNotInstalled ?? (() => process.exit(1)))();
  }, options.installWithinMs ?? 10_000);
  watchdog.unref();

  const wrapped = (...args: unknown[]): http.Server => {
    http.createServer = original;
    clearTimeout(watchdog);
    const app = args.find((arg): arg is http.RequestListener => typeof arg === 'function');
    if (!app) throw new Error('request guard: http.createServer was called without a request listener');
    // The checking interval is an option of the server's creation only.
    const server = original({ connectionsCheckingInterval: options.connectionsCheckingIntervalMs }, (req, res) => guard(req as GuardedRequest, res, () => app(req, res)));
    server.requestTimeout = options.requestTimeoutMs;
    server.headersTimeout = options.headersTimeoutMs;
    server.maxConnections = options.maxConnections;
    options.logger.debug('request guard installed in front of the Functions Framework');
    return server;
  };
  http.createServer = wrapped as typeof http.createServer;
}
