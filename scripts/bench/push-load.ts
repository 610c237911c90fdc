/**
 * Load generator for bench:handler, run as its own process so it does not share the handler's event
 * loop: POSTs push envelopes from a JSON-lines file at a fixed concurrency and prints one JSON summary.
 * With `redeliver`, an envelope answered with anything but 2xx is sent again after `redeliverMs`, the
 * way Pub/Sub redelivers a nacked message, until it is acknowledged.
 * argv: <url> <envelopes.jsonl> <concurrency> [redeliver] [redeliverMs]
 */
import { readFileSync } from 'node:fs';
import { percentile } from '../local/sender.js';

const [url, file, concurrencyArg, mode, redeliverMsArg] = process.argv.slice(2);
const bodies = readFileSync(file!, 'utf8').split('\n').filter(Boolean);
const concurrency = Number(concurrencyArg ?? 20);
const redeliver = mode === 'redeliver';
const redeliverMs = Number(redeliverMsArg ?? 1000);
const latencies: number[] = [];
const statuses: Record<string, number> = {};
const queue = bodies.map((body, index) => ({ body, index }));
const redelivered = new Set<number>();
let inFlight = 0;

const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    for (;;) {
      const next = queue.shift();
      if (!next) {
        // Others may still put a nacked message back: wait for them before leaving.
        if (!redeliver || inFlight === 0) return;
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      inFlight += 1;
      const t0 = performance.now();
      const response = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: next.body });
      await response.arrayBuffer();
      latencies.push(performance.now() - t0);
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (redeliver && !response.ok) {
        redelivered.add(next.index);
        setTimeout(() => {
          queue.push(next);
          inFlight -= 1;
        }, redeliverMs);
      } else inFlight -= 1;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({ count: bodies.length, seconds, perSecond: bodies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1), statuses, redelivered: redelivered.size })}\n`,
);
