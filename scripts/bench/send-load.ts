/**
 * Load generator for the soak run, in its own process so its timings are not distorted by the
 * warehouse sink and the fake Track API sharing the soak's event loop.
 * argv: <receiver url> <signing key> <bodies.jsonl> <rate per second> <concurrency> [retry attempts]
 * With retry attempts > 1 it behaves like Customer.io under faults: a 4-second timeout, and whatever
 * was not accepted (non-2xx, connection error, timeout) is sent again, after 1, 2, 4… s (at most 8).
 * Prints one JSON line: statuses, the indexes of the bodies answered 2xx (and of those given up on),
 * retries, and sorted latencies of every request.
 */
import { readFileSync } from 'node:fs';
import { sendBodies } from '../local/sender.js';

const [url, key, file, rate, concurrency, attemptsArg] = process.argv.slice(2);
const bodies = readFileSync(file!, 'utf8').split('\n').filter(Boolean);
const attempts = Number(attemptsArg ?? 1);
const result = await sendBodies({
  url: url!,
  key: key!,
  bodies,
  rate: Number(rate),
  concurrency: Number(concurrency),
  ...(attempts > 1 ? { timeoutMs: 4000, retry: { attempts, delayMs: (attempt: number) => Math.min(8000, 1000 * 2 ** (attempt - 1)) } } : {}),
});
const index = new Map(bodies.map((b, i) => [b, i]));
process.stdout.write(
  `${JSON.stringify({
    sent: result.sent,
    seconds: result.seconds,
    statuses: result.statuses,
    accepted: [...new Set(result.accepted.map((b) => index.get(b)!))],
    acceptedCount: result.accepted.length,
    gaveUp: result.gaveUp.map((b) => index.get(b)!),
    retries: result.retries,
    latenciesMs: [...result.latenciesMs].sort((a, b) => a - b).map((ms) => Math.round(ms * 10) / 10),
  })}\n`,
);
