/**
 * Load generator for the soak run, in its own process so its timings are not distorted by the
 * warehouse sink and the fake Track API sharing the soak's event loop.
 * argv: <receiver url> <signing key> <bodies.jsonl> <rate per second> <concurrency>
 * Prints one JSON line: statuses, the indexes of the bodies answered 2xx, and sorted latencies.
 */
import { readFileSync } from 'node:fs';
import { sendBodies } from '../local/sender.js';

const [url, key, file, rate, concurrency] = process.argv.slice(2);
const bodies = readFileSync(file!, 'utf8').split('\n').filter(Boolean);
const result = await sendBodies({ url: url!, key: key!, bodies, rate: Number(rate), concurrency: Number(concurrency) });
const index = new Map(bodies.map((b, i) => [b, i]));
process.stdout.write(
  `${JSON.stringify({
    sent: result.sent,
    seconds: result.seconds,
    statuses: result.statuses,
    accepted: [...new Set(result.accepted.map((b) => index.get(b)!))],
    acceptedCount: result.accepted.length,
    latenciesMs: [...result.latenciesMs].sort((a, b) => a - b).map((ms) => Math.round(ms * 10) / 10),
  })}\n`,
);
