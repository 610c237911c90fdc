/**
 * `npm run soak` — load and soak on loopback, bounded and self-stopping. Runs the local stack (fresh
 * emulators; the handler calls a local fake Track API through customerio-node) and sends
 * SOAK_EVENTS events (default 20,000) over about SOAK_SECONDS (default 120): every object type and
 * metric, 10% duplicates, some out of order. Then it reconciles accepted → published → warehouse rows
 * → distinct events, and Customer.io actions expected → performed, and prints latency, errors and
 * peak memory. Any loss or double action makes the exit code 1.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { normalizeWebhook } from '../../shared/normalize.js';
import { DEFAULT_POLICY, decideActions } from '../../shared/policy.js';
import { describeCall } from '../../functions/customerio.js';
import { startFakeTrackApi } from '../local/fake-track-api.js';
import { ROOT } from '../local/function-process.js';
import { startLocalStack } from '../local/local-stack.js';
import { queryWarehouse } from '../local/local-warehouse.js';
import { groupPeakRssMiB, peakRssMiB } from './proc-stats.js';
import { allSamples } from '../local/samples.js';
import { percentile } from '../local/sender.js';

const EVENTS = Number(process.env.SOAK_EVENTS ?? 20_000);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
const DUPLICATE_SHARE = 0.1;
const DRAIN_TIMEOUT_MS = Number(process.env.SOAK_DRAIN_SECONDS ?? 120) * 1000;

function buildStream(): { bodies: string[]; distinct: string[] } {
  const distinctCount = Math.round(EVENTS * (1 - DUPLICATE_SHARE));
  const distinct: string[] = [];
  const now = Math.floor(Date.now() / 1000);
  for (let seq = 1; distinct.length < distinctCount; seq += 1000) {
    // Event times spread over the last hour: arrival order is not event order.
    for (const sample of allSamples({ seq, timestamp: now - Math.floor(Math.random() * 3600) })) {
      if (distinct.length < distinctCount) distinct.push(JSON.stringify(sample));
    }
  }
  const bodies = [...distinct];
  for (let i = 0; bodies.length < EVENTS; i++) bodies.splice(Math.floor(Math.random() * bodies.length), 0, distinct[Math.floor(Math.random() * distinct.length)]!);
  // Some out of order: shuffle within windows of 50.
  for (let start = 0; start < bodies.length; start += 50) {
    const window = bodies.slice(start, start + 50).sort(() => Math.random() - 0.5);
    bodies.splice(start, window.length, ...window);
  }
  return { bodies, distinct };
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return check();
}

async function main(): Promise<number> {
  const { bodies, distinct } = buildStream();
  process.stdout.write(`soak: ${bodies.length} events (${distinct.length} distinct, ${bodies.length - distinct.length} duplicates) over ~${SECONDS} s, node ${process.version}\n`);
  const fake = await startFakeTrackApi();
  const stateDir = mkdtempSync(join(tmpdir(), 'cio-soak-'));
  const stack = await startLocalStack({
    stateDir,
    handlerEnv: { CIO_SITE_ID: 'soak', CIO_TRACK_API_KEY: 'soak', CIO_TRACK_URL: fake.url, LOG_LEVEL: 'warning' },
    maxDeliveryAttempts: 100,
  });
  const published = new Set<string>();
  const [probe] = await stack.pubsub.topic(stack.names.topic).createSubscription('soak-probe');
  probe.on('message', (m) => {
    published.add(m.id);
    m.ack();
  });
  try {
    const file = join(stateDir, 'bodies.jsonl');
    writeFileSync(file, bodies.join('\n'));
    // The sender runs in its own process: its latencies must not include this process's sink work.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts/bench/send-load.ts'), stack.receiverUrl, stack.signingKey, file, String(bodies.length / SECONDS), '64'],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
    );
    const load = JSON.parse(stdout) as { sent: number; seconds: number; statuses: Record<string, number>; accepted: number[]; acceptedCount: number; latenciesMs: number[] };
    const sent = { ...load, accepted: load.accepted.map((i) => bodies[i]!) };
    process.stdout.write(`sent in ${load.seconds.toFixed(1)} s; draining…\n`);

    const expected = new Map<string, number>();
    for (const body of new Set(sent.accepted)) {
      const decision = decideActions(normalizeWebhook({ body: Buffer.from(body), receivedAt: new Date() }), DEFAULT_POLICY);
      if (decision.kind === 'act') for (const a of decision.actions) expected.set(JSON.stringify(describeCall(a)), 1);
    }
    const performedCalls = () => fake.requests.filter((r) => r.answered === 200);
    const rows = async () => Number((await queryWarehouse(stack.warehousePath, 'SELECT COUNT(*) AS n FROM events'))[0]!.n);
    const drained = await waitUntil(async () => published.size >= sent.acceptedCount && (await rows()) >= sent.acceptedCount && performedCalls().length >= expected.size, DRAIN_TIMEOUT_MS);
    await new Promise((r) => setTimeout(r, 3000)); // late duplicates would show now

    const warehouseRows = await rows();
    const acceptedIds = new Set(sent.accepted.map((b) => JSON.parse(b).event_id as string));
    const stored = new Set((await queryWarehouse(stack.warehousePath, 'SELECT DISTINCT event_id FROM events')).map((r) => r.event_id as string));
    const lost = [...acceptedIds].filter((id) => !stored.has(id));
    const performed = new Map<string, number>();
    for (const r of performedCalls()) {
      const key = JSON.stringify({ method: r.method, path: r.path, ...(r.body === null ? {} : { body: r.body }) });
      performed.set(key, (performed.get(key) ?? 0) + 1);
    }
    const missing = [...expected.keys()].filter((k) => !performed.has(k));
    const doubled = [...performed].filter(([, n]) => n > 1);
    const unexpected = [...performed.keys()].filter((k) => !expected.has(k));
    const latencies = sent.latenciesMs;
    const errors = Object.entries(sent.statuses).filter(([s]) => !s.startsWith('2'));

    const line = (label: string, value: string | number) => process.stdout.write(`  ${label.padEnd(38)}${value}\n`);
    process.stdout.write('\nreconciliation\n');
    line('accepted by the receiver (2xx)', sent.acceptedCount);
    line('published (seen on the topic)', published.size);
    line('warehouse rows', warehouseRows);
    line('distinct event_ids (events_unique)', `${stored.size} of ${acceptedIds.size} accepted`);
    line('accepted events missing', lost.length);
    line('Customer.io actions expected', expected.size);
    line('performed (HTTP 200 from the fake)', performedCalls().length);
    line('missing / doubled / unexpected', `${missing.length} / ${doubled.length} / ${unexpected.length}`);
    line('Track API requests in all', fake.requests.length);
    process.stdout.write('\nreceiver\n');
    line('latency p50 / p99 / max', `${percentile(latencies, 50).toFixed(1)} / ${percentile(latencies, 99).toFixed(1)} / ${latencies.at(-1)?.toFixed(1)} ms`);
    line('achieved rate', `${(sent.sent / sent.seconds).toFixed(0)} req/s (sender in its own process)`);
    line('non-2xx answers', errors.length === 0 ? 0 : errors.map(([s, n]) => `${n} × ${s}`).join(', '));
    process.stdout.write('\npeak RSS\n');
    line('receiver', `${peakRssMiB(stack.receiver.child.pid!)} MiB`);
    line('handler', `${peakRssMiB(stack.handler.child.pid!)} MiB`);
    line('soak process (sink, fake, probe)', `${peakRssMiB(process.pid)} MiB`);
    for (const e of stack.emulators) line(`${e.name} emulator (gcloud + Java)`, `${groupPeakRssMiB(e.pid)} MiB`);

    const failed = !drained || lost.length > 0 || missing.length > 0 || doubled.length > 0 || unexpected.length > 0;
    process.stdout.write(`\n${failed ? 'FAIL' : 'PASS'}: ${lost.length} lost, ${missing.length} actions missing, ${doubled.length} doubled${drained ? '' : ', drain timed out'}\n`);
    return failed ? 1 : 0;
  } finally {
    await probe.delete().catch(() => undefined);
    await stack.stop();
    await fake.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`soak failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
