/**
 * Load generator for bench:handler, run as its own process so it does not share the handler's event
 * loop: POSTs push envelopes from a JSON-lines file at a fixed concurrency and prints one JSON summary.
 * argv: <url> <envelopes.jsonl> <concurrency>
 */
import { readFileSync } from 'node:fs';
import { percentile } from '../local/sender.js';

const [url, file, concurrencyArg] = process.argv.slice(2);
const bodies = readFileSync(file!, 'utf8').split('\n').filter(Boolean);
const concurrency = Number(concurrencyArg ?? 20);
const latencies: number[] = [];
const statuses: Record<string, number> = {};
let next = 0;

const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const t0 = performance.now();
      const response = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await response.arrayBuffer();
      latencies.push(performance.now() - t0);
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ count: bodies.length, seconds, perSecond: bodies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1), statuses })}\n`);
