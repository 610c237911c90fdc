/**
 * Signs (v0 scheme) and posts webhook bodies to a receiver, at a chosen rate and concurrency, the way
 * Customer.io does. Used by `npm run send`, the smoke command, the benchmarks, the soak run and tests.
 */
import { computeSignature } from '../../shared/signature.js';

export function signedRequestHeaders(key: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const ts = String(timestamp);
  return { 'content-type': 'application/json', 'x-cio-timestamp': ts, 'x-cio-signature': computeSignature(key, ts, Buffer.from(body)) };
}

export interface SendOptions {
  url: string;
  key: string;
  bodies: string[];
  /** Requests per second at most (first attempts; retries come on top); unlimited when absent. */
  rate?: number;
  concurrency?: number;
  timeoutMs?: number;
  /**
   * Send again what was not accepted (non-2xx, connection error, timeout), the way Customer.io
   * retries, with the wait compressed: `delayMs(attempt)` after the attempt-th failure, up to
   * `attempts` tries in all. Absent: one try each.
   */
  retry?: { attempts: number; delayMs: (attempt: number) => number };
}

export interface SendResult {
  /** Requests made, retries included. */
  sent: number;
  statuses: Record<string, number>;
  /** Bodies answered 2xx, in answer order. */
  accepted: string[];
  /** Bodies still not accepted after every try. */
  gaveUp: string[];
  /** Requests that were retries. */
  retries: number;
  latenciesMs: number[];
  seconds: number;
}

export async function sendBodies({ url, key, bodies, rate, concurrency = 16, timeoutMs = 10_000, retry }: SendOptions): Promise<SendResult> {
  const statuses: Record<string, number> = {};
  const accepted: string[] = [];
  const gaveUp: string[] = [];
  const latenciesMs: number[] = [];
  const started = performance.now();
  let next = 0;
  let retries = 0;
  const interval = rate ? 1000 / rate : 0;
  /** Failed bodies waiting for their next try, and tries in flight that may add to them. */
  const again: Array<{ body: string; attempt: number; due: number }> = [];
  let inFlight = 0;

  async function post(body: string, attempt: number): Promise<void> {
    inFlight += 1;
    const t0 = performance.now();
    let status: string;
    try {
      const response = await fetch(url, { method: 'POST', headers: signedRequestHeaders(key, body), body, signal: AbortSignal.timeout(timeoutMs) });
      await response.arrayBuffer();
      status = String(response.status);
    } catch (error) {
      status = (error as Error).name === 'TimeoutError' ? 'timeout' : 'network-error';
    }
    latenciesMs.push(performance.now() - t0);
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status.startsWith('2')) accepted.push(body);
    else if (retry && attempt < retry.attempts) again.push({ body, attempt: attempt + 1, due: performance.now() + retry.delayMs(attempt) });
    else gaveUp.push(body);
    inFlight -= 1;
  }

  await Promise.all(
    Array.from({ length: Math.min(concurrency, bodies.length) }, async () => {
      for (;;) {
        const dueRetry = again.findIndex((r) => r.due <= performance.now());
        if (dueRetry >= 0) {
          const [{ body, attempt }] = again.splice(dueRetry, 1) as [(typeof again)[number]];
          retries += 1;
          await post(body, attempt);
          continue;
        }
        if (next >= bodies.length) {
          if (again.length === 0 && inFlight === 0) return;
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const index = next++;
        // Pace by schedule, not by sleeping after each request, so the rate holds under latency.
        const wait = started + index * interval - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await post(bodies[index]!, 1);
      }
    }),
  );
  return { sent: latenciesMs.length, statuses, accepted, gaveUp, retries, latenciesMs, seconds: (performance.now() - started) / 1000 };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
