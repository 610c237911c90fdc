/**
 * Carries out a fault schedule (plan.ts) against the running stack: kills and restarts the function
 * processes, drives the fault proxies in front of the emulators, and scripts the fake Track API.
 * Kills of the same process are serialised (a restart in progress is not killed again).
 */
import type { FakeReply, FakeTrackApi } from '../../local/fake-track-api.js';
import type { FaultProxy } from '../../local/fault-proxy.js';
import { FAULT_KINDS, type Fault, type FaultKind } from './plan.js';

export interface ChaosTargets {
  restart(target: 'receiver' | 'handler', downMs: number): Promise<unknown>;
  proxies: { firestore: FaultProxy; pubsub: FaultProxy };
  trackApi: FakeTrackApi;
}

export interface InjectedTally {
  count: number;
  /** Process downtime (kill to answering again), stall or slowdown in ms; connections reset; Track API replies scripted. */
  amount: number;
}

export interface ChaosRun {
  injected: Record<FaultKind, InjectedTally>;
  /** Resolves when every fault has been injected and every restarted process answers again. */
  done: Promise<void>;
  /** Failures while injecting (a restart that did not come back), which fail the run. */
  errors: string[];
}

function burst(fault: Fault): FakeReply[] {
  const reply: FakeReply = fault.kind === 'track-429' ? { status: 429, retryAfterSeconds: 1 } : fault.kind === 'track-500' ? { status: 500 } : { hang: true };
  return Array.from({ length: fault.count }, () => reply);
}

export function injectFaults(plan: readonly Fault[], targets: ChaosTargets, onFault: (fault: Fault) => void = () => undefined): ChaosRun {
  const injected = Object.fromEntries(FAULT_KINDS.map((k) => [k, { count: 0, amount: 0 }])) as Record<FaultKind, InjectedTally>;
  const errors: string[] = [];
  const restarts: Record<'receiver' | 'handler', Promise<unknown>> = { receiver: Promise.resolve(), handler: Promise.resolve() };
  const pending: Array<Promise<unknown>> = [];
  /** The proxy in front of the emulator a fault kind names (firestore-… or pubsub-…). */
  const proxyFor = (kind: FaultKind) => targets.proxies[kind.startsWith('firestore-') ? 'firestore' : 'pubsub'];

  const apply = (fault: Fault): Promise<unknown> => {
    const tally = injected[fault.kind];
    tally.count += 1;
    onFault(fault);
    switch (fault.kind) {
      case 'handler-kill':
      case 'receiver-kill': {
        const target = fault.kind === 'handler-kill' ? 'handler' : 'receiver';
        // Downtime as callers saw it: from the kill until the new process answers (start-up included).
        restarts[target] = restarts[target]
          .then(async () => {
            const killed = performance.now();
            await targets.restart(target, fault.durationMs);
            tally.amount += performance.now() - killed;
          })
          .catch((error: Error) => errors.push(`${target} restart: ${error.message}`));
        return restarts[target];
      }
      case 'firestore-reset':
      case 'pubsub-reset':
        tally.amount += proxyFor(fault.kind).reset();
        return Promise.resolve();
      case 'firestore-stall':
      case 'pubsub-stall':
        tally.amount += fault.durationMs;
        proxyFor(fault.kind).stall(fault.durationMs);
        return Promise.resolve();
      case 'firestore-slow':
      case 'pubsub-slow':
        tally.amount += fault.durationMs;
        proxyFor(fault.kind).slow(fault.delayMs, fault.durationMs);
        return Promise.resolve();
      default:
        tally.amount += fault.count;
        targets.trackApi.script(...burst(fault));
        return Promise.resolve();
    }
  };

  const done = new Promise<void>((resolve) => {
    let left = plan.length;
    if (left === 0) resolve();
    for (const fault of plan) {
      setTimeout(() => {
        pending.push(apply(fault));
        if (--left === 0) void Promise.all(pending).then(() => resolve());
      }, fault.atMs);
    }
  });
  return { injected, done, errors };
}
