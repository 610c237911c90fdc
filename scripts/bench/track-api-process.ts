/**
 * The fake Track API in a process of its own, for measurements: its clock then sees requests when
 * they arrive, not when a busy event loop it shares with the handler gets to them (which bunches
 * them up and makes a rate limit trip for no reason). Prints its base URL; GET /__requests answers
 * what it recorded (status and arrival time of each request).
 * argv: [perSecond burst]   (a rate limit enforced with 429, as startFakeTrackApi().limitRate)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeTrackApi } from '../local/fake-track-api.js';

const [perSecond, burst] = process.argv.slice(2).map(Number);
const fake = await startFakeTrackApi();
if (perSecond && burst) fake.limitRate({ perSecond, burst });
const stats = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(fake.requests.map((r, i) => ({ answered: r.answered, at: fake.arrivals[i], path: r.path }))));
});
await new Promise<void>((resolve) => stats.listen(0, '127.0.0.1', resolve));
process.stdout.write(`${JSON.stringify({ url: fake.url, stats: `http://127.0.0.1:${(stats.address() as AddressInfo).port}/` })}\n`);
process.on('SIGTERM', () => {
  stats.close();
  void fake.close().then(() => process.exit(0));
});
