/**
 * Adapter: carry out policy actions with the Customer.io Track API (customerio-node 5), or in dry
 * run log the exact calls instead. Failures surface as CioCallError with the HTTP status, which the
 * handler classifies (shared/cio-errors.ts).
 */
import { CustomerIORequestError, RegionEU, RegionUS, TrackClient } from 'customerio-node';
import type { CioCredentials } from '../shared/config.js';
import { isTransientCioFailure } from '../shared/cio-errors.js';
import { DeadlineExceededError, withDeadline } from '../shared/deadline.js';
import type { Logger } from '../shared/log.js';
import { ID_ATTRIBUTES, type CioAction } from '../shared/policy.js';
import { loggableIdentifier } from '../shared/pseudonym.js';
import { redactText } from '../shared/redact.js';
import { createRateGate, type RateGate } from './rate-gate.js';

export class CioCallError extends Error {
  override readonly name: string = 'CioCallError';
  constructor(
    message: string,
    /** HTTP status, or null for network errors and timeouts. */
    readonly status: number | null,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/**
 * This instance's Track API rate budget would not come in time: no request was sent. Retryable
 * (429), so the handler nacks and Pub/Sub brings the event back later.
 */
export class CioRateLimitedError extends CioCallError {
  override readonly name = 'CioRateLimitedError';
  constructor(message: string) {
    super(message, 429);
  }
}

/**
 * The rate this instance may send at: at most two requests back to back after a quiet spell, then
 * one per interval. In any second the Track API sees at most the rate plus one (and the jitter of
 * the network between), however many events ask at once.
 */
export function createTrackLimiter(requestsPerSecond: number): RateGate {
  return createRateGate({ rate: requestsPerSecond, burst: 2 });
}

export interface CioExecutor {
  /**
   * Makes the calls. A Track executor sends every request, retries included, in turn with the
   * instance's rate. `logger`: the request's, for any entry about them (its trace, the event id).
   */
  execute(actions: readonly CioAction[], logger?: Logger): Promise<void>;
}

/** The HTTP request an action becomes: what dry run logs and what the Track API receives. */
export function describeCall(action: CioAction): { method: string; path: string; body?: unknown } {
  const path = `/customers/${encodeURIComponent(action.identifier)}`;
  return action.kind === 'identify'
    ? { method: 'PUT', path, body: action.attributes }
    : { method: 'POST', path: `${path}/suppress` };
}

/**
 * The request as a log line may show it: an identifier that is an address or a phone number as its
 * keyed hash, text attributes (a bounce reason quoting the recipient) redacted.
 */
export function loggableCall(action: CioAction, pseudonymKey: Uint8Array): ReturnType<typeof describeCall> {
  const safe: CioAction = { ...action, identifier: loggableIdentifier(action.identifier, pseudonymKey) };
  if (safe.kind === 'identify') {
    safe.attributes = Object.fromEntries(Object.entries(safe.attributes).map(([k, v]) => [k, typeof v === 'string' && !ID_ATTRIBUTES.has(k) ? redactText(v) : v])) as typeof safe.attributes;
  }
  return describeCall(safe);
}

/** Logs each call it would make, as loggableCall shows it, and calls nothing. */
export function createDryRunExecutor(logger: Logger, pseudonymKey: Uint8Array): CioExecutor {
  return {
    async execute(actions, requestLogger = logger) {
      for (const action of actions) requestLogger.info('dry run: Customer.io call not made', { cio_call: loggableCall(action, pseudonymKey) });
    },
  };
}

/** Stands in while the credentials secrets hold the placeholder: every call fails as retryable. */
export function createUnconfiguredExecutor(): CioExecutor {
  return {
    async execute() {
      throw new CioCallError('Customer.io credentials not configured: add versions to the site id and API key secrets', null);
    },
  };
}

export interface TrackExecutorOptions {
  credentials: CioCredentials;
  region: 'us' | 'eu';
  trackUrl: string | null;
  /** Overall budget for one event's calls, retries included. */
  deadlineMs: number;
  /** This instance's share of the Track API rate (CIO_REQUESTS_PER_SECOND); every request takes a token. */
  limiter: RateGate;
  /**
   * The longest a request waits in line for its token. An event that would wait longer fails with
   * CioRateLimitedError and nothing sent: the handler nacks it and Pub/Sub brings it back later.
   * Default: a third of the deadline, leaving the rest for the calls.
   */
  maxQueueMs?: number;
  /** Attempts per action, the first included. */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

function retryAfterOf(error: CustomerIORequestError): number | null {
  const header = error.response?.headers?.['retry-after'];
  const seconds = header === undefined ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

/** The fastest a request is worth starting: with less time left, a token would be spent on a timeout. */
const MIN_CALL_MS = 250;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Makes the calls with customerio-node, retrying here rather than inside the client: every attempt,
 * retries included, takes a token from the instance's rate gate right before it is sent, so
 * HANDLER_MAX_INSTANCES × the per-instance rate bounds every request sent, not only first attempts. A retry honours Retry-After,
 * backs off otherwise, and stays inside the event's deadline; past it the error goes back to the
 * handler, which nacks, and Pub/Sub delivers the event again later.
 */
export function createTrackExecutor({ credentials, region, trackUrl, deadlineMs, limiter, maxQueueMs = deadlineMs / 3, maxAttempts = 3, sleep = defaultSleep }: TrackExecutorOptions): CioExecutor {
  const attemptTimeoutMs = Math.max(MIN_CALL_MS, Math.floor(deadlineMs / maxAttempts));
  const client = new TrackClient(credentials.siteId, credentials.trackApiKey, {
    region: region === 'eu' ? RegionEU : RegionUS,
    ...(trackUrl ? { url: trackUrl } : {}),
    timeout: attemptTimeoutMs,
    retry: { maxRetries: 0 },
  });

  async function call(action: CioAction, timeoutMs: number): Promise<void> {
    try {
      const request = action.kind === 'identify' ? client.identify(action.identifier, action.attributes) : client.suppress(action.identifier);
      await withDeadline(request, timeoutMs, 'Customer.io call');
    } catch (error) {
      if (error instanceof CustomerIORequestError) {
        throw new CioCallError(`Customer.io answered ${error.statusCode}: ${error.message}`, error.statusCode, retryAfterOf(error));
      }
      if (error instanceof DeadlineExceededError) throw new CioCallError(error.message, null);
      throw new CioCallError(`Customer.io unreachable: ${(error as Error).message}`, null);
    }
  }

  async function callWithRetries(action: CioAction, deadline: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // The token is taken right before the request, so the spacing the gate gives is the spacing the
      // Track API sees.
      const maxWaitMs = Math.min(maxQueueMs, deadline - performance.now() - MIN_CALL_MS);
      if (!(await limiter.pass(maxWaitMs))) {
        throw new CioRateLimitedError(`over the Track API rate budget: the request would wait more than ${Math.max(0, Math.round(maxWaitMs))} ms for its turn`);
      }
      const left = deadline - performance.now();
      try {
        await call(action, Math.min(attemptTimeoutMs, left));
        return;
      } catch (error) {
        const failure = error as CioCallError;
        if (!isTransientCioFailure(failure.status) || attempt >= maxAttempts) throw failure;
        const backoff = failure.retryAfterSeconds !== null ? failure.retryAfterSeconds * 1000 : 200 * 2 ** (attempt - 1) * (0.5 + Math.random());
        if (performance.now() + backoff + MIN_CALL_MS >= deadline) throw failure;
        await sleep(backoff);
      }
    }
  }

  return {
    async execute(actions) {
      const deadline = performance.now() + deadlineMs;
      for (const action of actions) await callWithRetries(action, deadline);
    },
  };
}
