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
  /** Requests per second at most; unlimited when absent. */
  rate?: number;
  concurrency?: number;
  timeoutMs?: number;
}

export interface SendResult {
  sent: number;
  statuses: Record<string, number>;
  /** Bodies answered 2xx, in answer order. */
  accepted: string[];
  latenciesMs: number[];
  seconds: number;
}

export async function sendBodies({ url, key, bodies, rate, concurrency = 16, timeoutMs = 10_000 }: SendOptions): Promise<SendResult> {
  const statuses: Record<string, number> = {};
  const accepted: string[] = [];
  const latenciesMs: number[] = [];
  const started = performance.now();
  let next = 0;
  const interval = rate ? 1000 / rate : 0;

  await Promise.all(
    Array.from({ length: Math.min(concurrency, bodies.length) }, async () => {
      for (;;) {
        const index = next++;
        if (index >= bodies.length) return;
        // Pace by schedule, not by sleeping after each request, so the rate holds under latency.
        const due = started + index * interval;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const body = bodies[index]!;
        const t0 = performance.now();
        let status: string;
        try {
          const response = await fetch(url, { method: 'POST', headers: signedRequestHeaders(key, body), body, signal: AbortSignal.timeout(timeoutMs) });
          await response.arrayBuffer();
          status = String(response.status);
          if (response.ok) accepted.push(body);
        } catch (error) {
          status = (error as Error).name === 'TimeoutError' ? 'timeout' : 'network-error';
        }
        latenciesMs.push(performance.now() - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  return { sent: bodies.length, statuses, accepted, latenciesMs, seconds: (performance.now() - started) / 1000 };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
