/**
 * Adapter: carry out policy actions with the Customer.io Track API (customerio-node 5), or in dry
 * run log the exact calls instead. Failures surface as CioCallError with the HTTP status, which the
 * handler classifies (shared/cio-errors.ts).
 */
import { CustomerIORequestError, RegionEU, RegionUS, TrackClient } from 'customerio-node';
import type { CioCredentials } from '../shared/config.js';
import { DeadlineExceededError, withDeadline } from '../shared/deadline.js';
import type { Logger } from '../shared/log.js';
import type { CioAction } from '../shared/policy.js';

export class CioCallError extends Error {
  override readonly name = 'CioCallError';
  constructor(
    message: string,
    /** HTTP status, or null for network errors and timeouts. */
    readonly status: number | null,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

export interface CioExecutor {
  execute(actions: readonly CioAction[]): Promise<void>;
}

/** The HTTP request an action becomes: what dry run logs and what the Track API receives. */
export function describeCall(action: CioAction): { method: string; path: string; body?: unknown } {
  const path = `/customers/${encodeURIComponent(action.identifier)}`;
  return action.kind === 'identify'
    ? { method: 'PUT', path, body: action.attributes }
    : { method: 'POST', path: `${path}/suppress` };
}

export function createDryRunExecutor(logger: Logger): CioExecutor {
  return {
    async execute(actions) {
      for (const action of actions) logger.info('dry run: Customer.io call not made', { cio_call: describeCall(action) });
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
}

function retryAfterOf(error: CustomerIORequestError): number | null {
  const header = error.response?.headers?.['retry-after'];
  const seconds = header === undefined ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

export function createTrackExecutor({ credentials, region, trackUrl, deadlineMs }: TrackExecutorOptions): CioExecutor {
  // Budget: up to three attempts of a quarter each, and a quarter for backoff sleeps (Retry-After
  // included); past that the error is returned and Pub/Sub redelivers later.
  const quarter = Math.max(100, Math.floor(deadlineMs / 4));
  const client = new TrackClient(credentials.siteId, credentials.trackApiKey, {
    region: region === 'eu' ? RegionEU : RegionUS,
    ...(trackUrl ? { url: trackUrl } : {}),
    timeout: quarter,
    retry: { maxRetries: 2, maxTotalBackoffMs: quarter, retryAfterMaxSeconds: Math.ceil(quarter / 1000) },
  });

  async function call(action: CioAction): Promise<void> {
    try {
      if (action.kind === 'identify') await client.identify(action.identifier, action.attributes);
      else await client.suppress(action.identifier);
    } catch (error) {
      if (error instanceof CustomerIORequestError) {
        throw new CioCallError(`Customer.io answered ${error.statusCode}: ${error.message}`, error.statusCode, retryAfterOf(error));
      }
      throw new CioCallError(`Customer.io unreachable: ${(error as Error).message}`, null);
    }
  }

  return {
    async execute(actions) {
      try {
        await withDeadline(
          (async () => {
            for (const action of actions) await call(action);
          })(),
          deadlineMs,
          'Customer.io calls',
        );
      } catch (error) {
        if (error instanceof DeadlineExceededError) throw new CioCallError(error.message, null);
        throw error;
      }
    },
  };
}
