/**
 * Cloud Run Admin API v2, the part the receiver's access needs: read a service (services.get), turn
 * its invoker IAM check off (services.patch with `updateMask=invokerIamDisabled`, which answers a
 * long-running Operation, then operations.get until it is done), read its IAM policy
 * (services.getIamPolicy). Shapes as in the v2 REST reference. Cloud Functions owns the receiver's
 * service and may deploy it again (provider issue #23360), so the deploy turns the check off after
 * every update of the function, and `ops doctor` reports a service whose check came back on.
 */
import type { GoogleApi } from './google-api.js';
import { GoogleApiError } from './google-api.js';

/** run v2 projects.locations.services (the fields used here). */
export interface RunService {
  name?: string;
  uri?: string;
  invokerIamDisabled?: boolean;
  /** True while the service is being changed (by Cloud Functions, say); a patch then may conflict. */
  reconciling?: boolean;
  updateTime?: string;
}

/** google.longrunning.Operation as run v2 returns it. */
export interface RunOperation {
  name?: string;
  done?: boolean;
  error?: { code?: number; message?: string };
}

/** run v2 services.getIamPolicy */
export interface RunIamPolicy {
  bindings?: Array<{ role?: string; members?: string[] }>;
}

export const SERVICE_NAME = /^projects\/[a-z0-9-]+\/locations\/[a-z0-9-]+\/services\/[a-z0-9-]+$/;

export function serviceName(project: string, region: string, service: string): string {
  return `projects/${project}/locations/${region}/services/${service}`;
}

export interface InvokerCheckOptions {
  /** Overall bound: waiting for the service to settle, the patch, its operation. */
  timeoutMs: number;
  pollMs: number;
  /** Bound on each call. */
  callTimeoutMs: number;
  log: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function getService(api: GoogleApi, name: string, timeoutMs: number): Promise<RunService | null> {
  try {
    return await api.call<RunService>('run', `v2/${name}`, { timeoutMs });
  } catch (error) {
    if (error instanceof GoogleApiError && error.status === 404) return null;
    throw error;
  }
}

/**
 * Turns the invoker check off on `name` and confirms it: nothing to do when it is off already; a
 * service still being changed is waited for; a patch refused with 409 (a concurrent change) is tried
 * again. Throws with the reason when the check is not off by the end.
 */
export async function turnInvokerCheckOff(api: GoogleApi, name: string, options: InvokerCheckOptions): Promise<'already-off' | 'turned-off'> {
  const { timeoutMs, pollMs, callTimeoutMs, log, sleep = defaultSleep } = options;
  const deadline = Date.now() + timeoutMs;
  const timeLeft = (what: string) => {
    if (Date.now() > deadline) throw new Error(`${what} after ${Math.round(timeoutMs / 1000)} s: the invoker check on ${name} may still be on`);
  };
  for (;;) {
    const service = await getService(api, name, callTimeoutMs);
    if (!service) throw new Error(`${name} does not exist`);
    if (service.invokerIamDisabled === true) return 'already-off';
    if (service.reconciling) {
      timeLeft('still being changed');
      log(`${name} is being changed; waiting for it to settle`);
      await sleep(pollMs);
      continue;
    }
    let operation: RunOperation;
    try {
      operation = await api.call<RunOperation>('run', `v2/${name}?updateMask=invokerIamDisabled`, { method: 'PATCH', body: { invokerIamDisabled: true }, timeoutMs: callTimeoutMs });
    } catch (error) {
      if (!(error instanceof GoogleApiError && error.status === 409)) throw error;
      timeLeft('patch refused with 409 (a concurrent change)');
      log(`${name}: ${error.message}; trying again`);
      await sleep(pollMs);
      continue;
    }
    while (!operation.done) {
      timeLeft(`operation ${operation.name} not done`);
      await sleep(pollMs);
      if (!operation.name) throw new Error('the patch answered an operation without a name');
      operation = await api.call<RunOperation>('run', `v2/${operation.name}`, { timeoutMs: callTimeoutMs });
    }
    if (operation.error) throw new Error(`turning the invoker check off on ${name} failed: ${operation.error.code ?? ''} ${operation.error.message ?? ''}`.trim());
    const after = await getService(api, name, callTimeoutMs);
    if (after?.invokerIamDisabled !== true) throw new Error(`${name} still has the invoker check on after the update`);
    return 'turned-off';
  }
}
