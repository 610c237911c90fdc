/**
 * `npm run bench:receiver` — in one run on this machine, with autocannon on loopback:
 *   (a) the receiver (compiled bundle) publishing into the Pub/Sub emulator,
 *   (b) a Functions Framework function that only verifies the HMAC (the framework floor),
 *   (c) a plain node:http server that only verifies the HMAC (the machine's limit),
 * plus the receiver's cold start (process spawn to first 2xx). Prints figures and ratios; asserts
 * nothing: the machine is shared and noisy, so compare the ratios of one run.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { PubSub } from '@google-cloud/pubsub';
import { freePort, startPubSubEmulator } from '../local/emulators.js';
import { ROOT, startFunction, type FunctionProcess } from '../local/function-process.js';
import { cpuSeconds, groupCpuSeconds } from './proc-stats.js';
import { samplePayload } from '../local/samples.js';
import { computeSignature } from '../../shared/signature.js';

process.env.METADATA_SERVER_DETECTION = 'none';

const PROJECT = 'bench-project';
const KEY = 'bench-signing-key';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 10);

const payload = samplePayload('email', 'delivered', { seq: 12 });
payload.data.subject = 'A subject line long enough to make this body about one kilobyte, as typical events are. '.repeat(6);
const body = JSON.stringify(payload);
const timestamp = String(Math.floor(Date.now() / 1000));
const headers = {
  'content-type': 'application/json',
  'x-cio-timestamp': timestamp,
  'x-cio-signature': computeSignature(KEY, timestamp, Buffer.from(body)),
};

interface Figures {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function load(name: string, url: string): Promise<Figures> {
  // Warm-up: JIT, connection pools, the emulator's first publishes.
  await autocannon({ url, method: 'POST', headers, body, connections: CONNECTIONS, duration: 2 });
  const result = await autocannon({ url, method: 'POST', headers, body, connections: CONNECTIONS, duration: DURATION_S });
  return {
    name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

async function coldStart(env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const fn = await startFunction({ target: 'receiver', from: 'bundle', env });
  for (;;) {
    const response = await fetch(fn.url, { method: 'POST', headers, body });
    if (response.status >= 200 && response.status < 300) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const ms = performance.now() - started;
  await fn.stop();
  return ms;
}

const pad = (value: string | number, width: number) => String(value).padStart(width);

async function main() {
  process.stdout.write(`body ${Buffer.byteLength(body)} bytes, ${CONNECTIONS} connections, ${DURATION_S} s per server, node ${process.version}\n`);
  const emulator = await startPubSubEmulator({ project: PROJECT });
  const pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host });
  await pubsub.createTopic('cio-events');
  const env = { GOOGLE_CLOUD_PROJECT: PROJECT, PUBSUB_EMULATOR_HOST: emulator.host, CIO_WEBHOOK_SIGNING_KEYS: KEY };
  const running: FunctionProcess[] = [];
  const plainPort = await freePort();
  const plain = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bench/plain-http-server.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(plainPort), CIO_WEBHOOK_SIGNING_KEYS: KEY },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve) => plain.stdout!.once('data', () => resolve()));

    const receiver = await startFunction({ target: 'receiver', from: 'bundle', env });
    running.push(receiver);
    const cpuBefore = { emulator: groupCpuSeconds(emulator.pid), receiver: cpuSeconds(receiver.child.pid!) };
    const wallBefore = performance.now();
    const a = await load('(a) receiver → Pub/Sub emulator', receiver.url);
    const wall = (performance.now() - wallBefore) / 1000;
    const cpu = {
      emulator: groupCpuSeconds(emulator.pid) - cpuBefore.emulator,
      receiver: cpuSeconds(receiver.child.pid!) - cpuBefore.receiver,
    };
    await receiver.stop();

    const hmacOnly = await startFunction({
      target: 'hmac_only',
      source: join(ROOT, 'scripts/bench/hmac-only-function.ts'),
      env: { CIO_WEBHOOK_SIGNING_KEYS: KEY, NODE_ENV: 'production' },
    });
    running.push(hmacOnly);
    const b = await load('(b) Functions Framework, HMAC only', hmacOnly.url);
    await hmacOnly.stop();

    const c = await load('(c) node:http, HMAC only', `http://127.0.0.1:${plainPort}/`);

    const cold = [];
    for (let i = 0; i < 3; i++) cold.push(await coldStart(env));

    process.stdout.write(`\n${'server'.padEnd(38)}${pad('req/s', 8)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('max ms', 8)}${pad('non-2xx', 9)}${pad('errors', 8)}\n`);
    for (const f of [a, b, c]) {
      process.stdout.write(`${f.name.padEnd(38)}${pad(f.rps, 8)}${pad(f.p50, 8)}${pad(f.p99, 8)}${pad(f.max, 8)}${pad(f.non2xx, 9)}${pad(f.errors + f.timeouts, 8)}\n`);
    }
    process.stdout.write(`\nratio a/b = ${(a.rps / b.rps).toFixed(2)}   (target ≥ 0.5)\n`);
    process.stdout.write(`ratio a/c = ${(a.rps / c.rps).toFixed(2)}\n`);
    process.stdout.write(
      `during (a): emulator used ${(cpu.emulator / wall * 100).toFixed(0)}% of one core, receiver ${(cpu.receiver / wall * 100).toFixed(0)}% ` +
        `(autocannon shares the same cores)\n`,
    );
    process.stdout.write(`cold start (spawn → first 2xx, compiled bundle): ${cold.map((ms) => `${Math.round(ms)} ms`).join(', ')}   (target ≤ 1500 ms)\n`);
  } finally {
    for (const fn of running) await fn.stop();
    plain.kill();
    await pubsub.close();
    await emulator.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`bench:receiver failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
