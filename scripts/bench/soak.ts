/**
 * `npm run soak` — load and soak on loopback, bounded and self-stopping. Runs the local stack (fresh
 * emulators; the handler calls a local fake Track API through customerio-node) and sends
 * SOAK_EVENTS events (default 20,000) over about SOAK_SECONDS (default 120): every object type and
 * metric, 10% duplicates, some out of order. Then it reconciles accepted → published → warehouse rows
 * → distinct events, and Customer.io actions expected → performed, and prints latency, errors and
 * peak memory. Any loss or double action makes the exit code 1.
 *
 * SOAK_WORKSPACES=acme,beta runs the stack with those workspaces (CIO_WORKSPACES): each distinct
 * event goes to one workspace, one in ten to a second workspace too (the same event_id, a different
 * event), and the reconciliation is per workspace: every accepted event a row with its workspace,
 * every action made once with its workspace's credentials.
 *
 * `npm run soak -- --chaos` does the same while faults are injected through the run (chaos/plan.ts):
 * the handler and the receiver killed and restarted, connections to both emulators reset, black-holed
 * and slowed through fault proxies, the Track API throttling, failing and hanging. The sender retries
 * what was not accepted, as Customer.io does. A call repeated in the documented window (docs/reliability.md) is
 * counted apart from a real double (chaos/reconcile.ts). SOAK_SEED replays a schedule;
 * SOAK_CHAOS_PER_MINUTE sets how many faults.
 */
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { normalizeWebhook } from '../../shared/normalize.js';
import { parseWorkspaces, workspaceVariable } from '../../shared/workspaces.js';
import { DEFAULT_POLICY, decideActions } from '../../shared/policy.js';
import { describeCall } from '../../functions/customerio.js';
import { startFirestoreEmulator, startPubSubEmulator, type Emulator } from '../local/emulators.js';
import { startFakeTrackApi, type FakeTrackApi } from '../local/fake-track-api.js';
import { startFaultProxy, type FaultProxy } from '../local/fault-proxy.js';
import { ROOT } from '../local/function-process.js';
import { startLocalStack, type LocalStack } from '../local/local-stack.js';
import { queryWarehouse } from '../local/local-warehouse.js';
import { groupPeakRssMiB, peakRssMiB } from './proc-stats.js';
import { allSamples } from '../local/samples.js';
import { percentile } from '../local/sender.js';
import { injectFaults, type ChaosRun } from './chaos/inject.js';
import { FAULT_KINDS, FAULT_LABELS, planFaults, seededRandom } from './chaos/plan.js';
import { classifyRepeats, eventKey, type HandlerLogLine, type RepeatReport } from './chaos/reconcile.js';

const CHAOS = process.argv.includes('--chaos');
const EVENTS = Number(process.env.SOAK_EVENTS ?? 20_000);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
const SEED = Number(process.env.SOAK_SEED ?? randomInt(1, 2 ** 31));
const CHAOS_PER_MINUTE = Number(process.env.SOAK_CHAOS_PER_MINUTE ?? 20);
const DUPLICATE_SHARE = 0.1;
const DRAIN_TIMEOUT_MS = Number(process.env.SOAK_DRAIN_SECONDS ?? (CHAOS ? 300 : 120)) * 1000;
/** Several workspaces (SOAK_WORKSPACES=acme,beta), or null: one, as deployed without CIO_WORKSPACES. */
const WORKSPACES = parseWorkspaces(process.env.SOAK_WORKSPACES);
/** With several workspaces, this share of the distinct events also goes to a second workspace. */
const SHARED_SHARE = 0.1;
/** Tries per webhook under chaos: 1 + retries after 1, 2, 4, 8, 8… s — about 80 s of retrying. */
const SENDER_ATTEMPTS = 12;
/**
 * Under chaos the handler runs with a short lease (a killed attempt holds its event back for 15 s,
 * not 120), with the call and store deadlines shortened to match: the start-up check requires an
 * attempt (8 s + 2 × 2 s) to fit in the lease.
 */
const CHAOS_HANDLER_ENV = { DEDUPE_LEASE_SECONDS: '15', CIO_DEADLINE_SECONDS: '8', DEDUPE_DEADLINE_SECONDS: '2', LOG_LEVEL: 'debug' };

const random = seededRandom(SEED);

/** One webhook delivery: a body to a workspace's URL (null: the one receiver URL). */
interface Delivery {
  workspace: string | null;
  body: string;
}

function buildStream(): { deliveries: Delivery[]; distinct: Delivery[] } {
  const names = WORKSPACES?.map((w) => w.name) ?? [null];
  // The deliveries that are not duplicates: with several workspaces one in ten events is delivered
  // to two of them, so the total stays EVENTS with the same share of duplicates.
  const distinctCount = Math.round((EVENTS * (1 - DUPLICATE_SHARE)) / (names.length > 1 ? 1 + SHARED_SHARE : 1));
  const distinct: Delivery[] = [];
  const now = Math.floor(Date.now() / 1000);
  let made = 0;
  for (let seq = 1; made < distinctCount; seq += 1000) {
    // Event times spread over the last hour: arrival order is not event order.
    for (const sample of allSamples({ seq, timestamp: now - Math.floor(random() * 3600) })) {
      if (made >= distinctCount) break;
      const body = JSON.stringify(sample);
      distinct.push({ workspace: names[made % names.length]!, body });
      // The same event id in another workspace is another event: two rows, two dedupe records.
      // Two in every twenty (one sent first to an even workspace, one to an odd), so each workspace
      // gets its share of them.
      const every = 2 * Math.round(1 / SHARED_SHARE);
      if (names.length > 1 && (made % every === 0 || made % every === every / 2 + 1)) distinct.push({ workspace: names[(made + 1) % names.length]!, body });
      made += 1;
    }
  }
  const deliveries = [...distinct];
  for (let i = 0; deliveries.length < EVENTS; i++) deliveries.splice(Math.floor(random() * deliveries.length), 0, distinct[Math.floor(random() * distinct.length)]!);
  // Some out of order: shuffle within windows of 50.
  for (let start = 0; start < deliveries.length; start += 50) {
    const window = deliveries.slice(start, start + 50).sort(() => random() - 0.5);
    deliveries.splice(start, window.length, ...window);
  }
  return { deliveries, distinct };
}

/** The credentials the soak gives a workspace's handler: the fake tells workspaces apart by them. */
const credentialsOf = (workspace: string | null) => (workspace === null ? 'soak' : `soak-${workspace}`);
const basicAuth = (workspace: string | null) => `Basic ${Buffer.from(`${credentialsOf(workspace)}:${credentialsOf(workspace)}`).toString('base64')}`;

/** Polls `check` until it is true or the time is up, printing its progress every 10 s. */
async function waitUntil(check: () => Promise<{ done: boolean; progress: string }>, timeoutMs: number): Promise<boolean> {
  const started = Date.now();
  let reported = started;
  for (;;) {
    const { done, progress } = await check();
    if (done) {
      process.stdout.write(`drained in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      return true;
    }
    if (Date.now() - started >= timeoutMs) {
      process.stdout.write(`not drained after ${timeoutMs / 1000} s: ${progress}\n`);
      return false;
    }
    if (Date.now() - reported >= 10_000) {
      reported = Date.now();
      process.stdout.write(`  ${Math.round((reported - started) / 1000)} s: ${progress}\n`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface Harness {
  stack: LocalStack;
  fake: FakeTrackApi;
  stateDir: string;
  emulators: Emulator[];
  proxies?: { firestore: FaultProxy; pubsub: FaultProxy };
  stop(): Promise<void>;
}

async function startHarness(): Promise<Harness> {
  const fake = await startFakeTrackApi();
  const stateDir = mkdtempSync(join(tmpdir(), 'cio-soak-'));
  // One fake Track API for every workspace (CIO_TRACK_URL), each workspace with its own credentials.
  const credentials: Record<string, string> = WORKSPACES
    ? Object.fromEntries(WORKSPACES.flatMap((w) => [[workspaceVariable('CIO_SITE_ID', w.name), credentialsOf(w.name)], [workspaceVariable('CIO_TRACK_API_KEY', w.name), credentialsOf(w.name)]]))
    : { CIO_SITE_ID: credentialsOf(null), CIO_TRACK_API_KEY: credentialsOf(null) };
  const handlerEnv = { ...credentials, CIO_TRACK_URL: fake.url, LOG_LEVEL: 'warning' };
  if (!CHAOS) {
    const stack = await startLocalStack({ stateDir, handlerEnv, workspaces: WORKSPACES, maxDeliveryAttempts: 100 });
    return { stack, fake, stateDir, emulators: stack.emulators, stop: async () => (await stack.stop(), await fake.close()) };
  }
  // The emulators start here so the functions can be pointed at them through the fault proxies,
  // while the stack's own clients (topology, warehouse sink: managed services in production) go direct.
  const [pubsub, firestore] = await Promise.all([startPubSubEmulator({ project: 'local-project', logDir: stateDir }), startFirestoreEmulator({ logDir: stateDir })]);
  const proxies = { pubsub: await startFaultProxy(pubsub.host), firestore: await startFaultProxy(firestore.host) };
  const stack = await startLocalStack({
    stateDir,
    pubsubHost: pubsub.host,
    firestoreHost: firestore.host,
    functionHosts: { pubsub: proxies.pubsub.host, firestore: proxies.firestore.host },
    handlerEnv: { ...handlerEnv, ...CHAOS_HANDLER_ENV },
    workspaces: WORKSPACES,
    maxDeliveryAttempts: 100,
  });
  return {
    stack,
    fake,
    stateDir,
    emulators: [pubsub, firestore],
    proxies,
    async stop() {
      await stack.stop();
      await fake.close();
      await proxies.pubsub.close();
      await proxies.firestore.close();
      await pubsub.stop();
      await firestore.stop();
    },
  };
}

interface LoadResult {
  sent: number;
  seconds: number;
  statuses: Record<string, number>;
  accepted: number[];
  acceptedCount: number;
  gaveUp: number[];
  retries: number;
  latenciesMs: number[];
}

/** What one sender process reports (scripts/bench/send-load.ts). */
async function sendLoad(url: string, key: string, file: string, rate: number, concurrency: number): Promise<LoadResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts/bench/send-load.ts'), url, key, file, String(rate), String(concurrency), String(CHAOS ? SENDER_ATTEMPTS : 1)],
    { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as LoadResult;
}

/** A workspace's name in the report ('' is the single-workspace mode's). */
const shown = (workspace: string | null) => workspace ?? '';

async function main(): Promise<number> {
  const { deliveries, distinct } = buildStream();
  process.stdout.write(`soak: ${deliveries.length} events (${distinct.length} distinct, ${deliveries.length - distinct.length} duplicates) over ~${SECONDS} s, node ${process.version}\n`);
  if (WORKSPACES) {
    const shared = distinct.length - new Set(distinct.map((d) => d.body)).size;
    process.stdout.write(`workspaces: ${WORKSPACES.map((w) => w.name).join(', ')} (SOAK_WORKSPACES); ${shared} event ids delivered to two workspaces\n`);
  }
  const plan = CHAOS ? planFaults({ seed: SEED, durationMs: SECONDS * 1000, perMinute: CHAOS_PER_MINUTE }) : [];
  if (CHAOS) process.stdout.write(`chaos: seed ${SEED} (SOAK_SEED=${SEED} replays this schedule), ${plan.length} faults (SOAK_CHAOS_PER_MINUTE=${CHAOS_PER_MINUTE})\n`);

  const harness = await startHarness();
  const { stack, fake, stateDir } = harness;
  const published = new Set<string>();
  const [probe] = await stack.pubsub.topic(stack.names.topic).createSubscription('soak-probe');
  probe.on('message', (m) => {
    published.add(m.id);
    m.ack();
  });
  const deadLettered = new Set<string>();
  const dlq = stack.pubsub.subscription(stack.names.deadLetterSubscription);
  dlq.on('message', (m) => {
    deadLettered.add(m.id);
    m.ack();
  });
  try {
    let chaos: ChaosRun | undefined;
    if (harness.proxies) {
      chaos = injectFaults(plan, { restart: (target, downMs) => stack.restart(target, { downMs }), proxies: harness.proxies, trackApi: fake });
    }
    // One sender per workspace (its URL and key), each in its own process: their latencies must
    // not include this process's sink work. Together they send at the soak's rate.
    const targets = stack.workspaces ? stack.workspaces.map((w) => ({ workspace: w.name as string | null, url: w.receiverUrl, key: w.signingKey })) : [{ workspace: null, url: stack.receiverUrl, key: stack.signingKey }];
    const loads = await Promise.all(
      targets.map(async (target) => {
        const bodies = deliveries.filter((d) => d.workspace === target.workspace).map((d) => d.body);
        const file = join(stateDir, `bodies${target.workspace ? `-${target.workspace}` : ''}.jsonl`);
        writeFileSync(file, bodies.join('\n'));
        const load = await sendLoad(target.url, target.key, file, bodies.length / SECONDS, Math.max(8, Math.round(64 / targets.length)));
        return { workspace: target.workspace, load, accepted: load.accepted.map((i) => bodies[i]!), gaveUp: load.gaveUp.length };
      }),
    );
    await chaos?.done;
    const sent = {
      sent: loads.reduce((n, l) => n + l.load.sent, 0),
      seconds: Math.max(...loads.map((l) => l.load.seconds)),
      statuses: loads.reduce<Record<string, number>>((all, l) => {
        for (const [status, n] of Object.entries(l.load.statuses)) all[status] = (all[status] ?? 0) + n;
        return all;
      }, {}),
      acceptedCount: loads.reduce((n, l) => n + l.load.acceptedCount, 0),
      retries: loads.reduce((n, l) => n + l.load.retries, 0),
      gaveUp: loads.reduce((n, l) => n + l.gaveUp, 0),
      latenciesMs: loads.flatMap((l) => l.load.latenciesMs).sort((a, b) => a - b),
    };
    process.stdout.write(`sent in ${sent.seconds.toFixed(1)} s; draining…\n`);

    // Every call expected, keyed by the workspace whose credentials must make it and the request.
    const callKey = (workspace: string | null, call: unknown) => `${shown(workspace)}\t${JSON.stringify(call)}`;
    const expected = new Map<string, string[]>();
    const acceptedIds = new Set<string>();
    for (const { workspace, accepted } of loads) {
      for (const body of new Set(accepted)) {
        const row = normalizeWebhook({ body: Buffer.from(body), receivedAt: new Date(), workspace });
        acceptedIds.add(eventKey(row.event_id, workspace));
        const decision = decideActions(row, DEFAULT_POLICY);
        if (decision.kind !== 'act') continue;
        for (const a of decision.actions) {
          const key = callKey(workspace, describeCall(a));
          expected.set(key, [...(expected.get(key) ?? []), eventKey(row.event_id, workspace)]);
        }
      }
    }
    const workspaceOfAuth = new Map(targets.map((t) => [basicAuth(t.workspace), t.workspace]));
    const performed = () => {
      const counts = new Map<string, number>();
      for (const r of fake.requests) {
        if (r.answered !== 200) continue;
        // A request with credentials of no workspace counts as unexpected.
        const workspace = workspaceOfAuth.has(r.authorization ?? '') ? workspaceOfAuth.get(r.authorization ?? '')! : `?${r.authorization}`;
        const key = callKey(workspace, { method: r.method, path: r.path, ...(r.body === null ? {} : { body: r.body }) });
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return counts;
    };
    const rows = async () => Number((await queryWarehouse(stack.warehousePath, 'SELECT COUNT(*) AS n FROM events'))[0]!.n);
    // An event is its id within its workspace: the same id in two workspaces is two events.
    const distinctRows = async () => Number((await queryWarehouse(stack.warehousePath, 'SELECT COUNT(*) AS n FROM (SELECT DISTINCT workspace, event_id FROM events)'))[0]!.n);
    // Drained when every accepted event has a row (not when the row count is reached: redelivered
    // duplicates count too) and every expected call was made.
    const drained = await waitUntil(async () => {
      const done = performed();
      const events = await distinctRows();
      const pending = [...expected.keys()].filter((k) => !done.has(k)).length;
      return {
        done: published.size >= sent.acceptedCount && events >= acceptedIds.size && pending === 0,
        progress: `${published.size} published; ${events} of ${acceptedIds.size} accepted events in the warehouse; ${pending} of ${expected.size} actions not yet performed`,
      };
    }, DRAIN_TIMEOUT_MS);
    await new Promise((r) => setTimeout(r, 3000)); // late duplicates would show now

    const warehouseRows = await rows();
    const storedRows = await queryWarehouse(stack.warehousePath, 'SELECT DISTINCT workspace, event_id FROM events');
    const stored = new Set(storedRows.map((r) => eventKey(r.event_id as string, (r.workspace as string | null) ?? null)));
    const lost = [...acceptedIds].filter((id) => !stored.has(id));
    // A row whose workspace is not the one its webhook was sent to (or none, with several).
    const misattributed = [...stored].filter((id) => !acceptedIds.has(id));
    const done = performed();
    const missing = [...expected.keys()].filter((k) => !done.has(k));
    const unexpected = [...done.keys()].filter((k) => !expected.has(k));
    const handlerLines = readFileSync(stack.logFiles.handler, 'utf8')
      .split('\n')
      .flatMap((line): HandlerLogLine[] => {
        try {
          return [JSON.parse(line) as HandlerLogLine];
        } catch {
          return [];
        }
      });
    const repeats: RepeatReport = classifyRepeats(
      [...expected].map(([key, eventIds]) => ({ key, eventIds, performed: done.get(key) ?? 0 })),
      CHAOS ? handlerLines : [],
    );
    const doubled = repeats.doubles.reduce((n, d) => n + d.extra, 0);
    const latencies = sent.latenciesMs;
    const errors = Object.entries(sent.statuses).filter(([s]) => !s.startsWith('2'));

    const line = (label: string, value: string | number) => process.stdout.write(`  ${label.length < 52 ? label.padEnd(52) : `${label} `}${value}\n`);
    if (chaos) {
      process.stdout.write(`\nfaults injected (seed ${SEED})\n`);
      for (const kind of FAULT_KINDS) {
        const { count, amount } = chaos.injected[kind];
        const detail = kind.endsWith('-kill') ? `down ${(amount / 1000).toFixed(1)} s in all`
          : kind.endsWith('-reset') ? `${amount} connections reset`
          : kind.startsWith('track-') ? `${amount} replies`
          : `${(amount / 1000).toFixed(1)} s in all`;
        line(FAULT_LABELS[kind], `${String(count).padStart(3)}   ${detail}`);
      }
      for (const error of chaos.errors) line('injection failed', error);
    }
    process.stdout.write('\nreconciliation\n');
    line('accepted by the receiver (2xx)', sent.acceptedCount);
    line('published (seen on the topic)', published.size);
    line('warehouse rows', `${warehouseRows}${stack.sink.stats.failedWrites ? ` (${stack.sink.stats.failedWrites} sink batches failed and came back)` : ''}`);
    line(WORKSPACES ? 'distinct events (workspace and event_id)' : 'distinct event_ids (events_unique)', `${stored.size} of ${acceptedIds.size} accepted`);
    line('accepted events missing', lost.length);
    if (WORKSPACES) line('rows in no workspace or another one\'s', misattributed.length);
    line('Customer.io actions expected', expected.size);
    line('performed (HTTP 200 from the fake)', [...done.values()].reduce((a, b) => a + b, 0));
    line(CHAOS ? 'missing / doubled outside the window / unexpected' : 'missing / doubled / unexpected', `${missing.length} / ${doubled} / ${unexpected.length}`);
    if (CHAOS) {
      const { window } = repeats;
      line('repeated in the documented window', `${repeats.windowTotal} (handler died ${window.died}, done-write lost ${window['done-write lost']}, answer lost ${window['answer lost']})`);
      line('dead-lettered', deadLettered.size);
    }
    line('Track API requests in all', fake.requests.length);
    if (WORKSPACES) {
      process.stdout.write('\nper workspace (rows by their workspace column, calls by the credentials they carried)\n');
      for (const { workspace } of loads) {
        const name = shown(workspace);
        const ofEvent = (key: string) => key.startsWith(`${name}\n`);
        const ofCall = (key: string) => key.startsWith(`${name}\t`);
        const calls = [...done].filter(([key]) => ofCall(key)).reduce((n, [, count]) => n + count, 0);
        const extra = repeats.doubles.filter((d) => ofCall(d.key)).reduce((n, d) => n + d.extra, 0);
        line(`${name}: accepted / in the warehouse / lost`, `${[...acceptedIds].filter(ofEvent).length} / ${[...stored].filter(ofEvent).length} / ${lost.filter(ofEvent).length}`);
        line(`${name}: actions expected / performed / missing / doubled`, `${[...expected.keys()].filter(ofCall).length} / ${calls} / ${missing.filter(ofCall).length} / ${extra}`);
      }
    }
    process.stdout.write(CHAOS ? '\nreceiver, under faults (every request, retries and failures included)\n' : '\nreceiver\n');
    line('latency p50 / p99 / max', `${percentile(latencies, 50).toFixed(1)} / ${percentile(latencies, 99).toFixed(1)} / ${latencies.at(-1)?.toFixed(1)} ms`);
    line('achieved rate', `${(sent.sent / sent.seconds).toFixed(0)} req/s (sender in its own process)`);
    line('non-2xx answers', errors.length === 0 ? 0 : errors.map(([s, n]) => `${n} × ${s}`).join(', '));
    if (CHAOS) line('retried by the sender / never accepted', `${sent.retries} / ${sent.gaveUp} (after ${SENDER_ATTEMPTS} tries)`);
    process.stdout.write(CHAOS ? '\npeak RSS (the last process of each function)\n' : '\npeak RSS\n');
    line('receiver', `${peakRssMiB(stack.receiver.child.pid!)} MiB`);
    line('handler', `${peakRssMiB(stack.handler.child.pid!)} MiB`);
    line('soak process (sink, fake, probe)', `${peakRssMiB(process.pid)} MiB`);
    for (const e of harness.emulators) line(`${e.name} emulator (gcloud + Java)`, `${groupPeakRssMiB(e.pid)} MiB`);

    const failed = !drained || lost.length > 0 || misattributed.length > 0 || missing.length > 0 || doubled > 0 || unexpected.length > 0 || deadLettered.size > 0 || sent.gaveUp > 0 || (chaos?.errors.length ?? 0) > 0;
    const verdict = CHAOS
      ? `${lost.length} lost, ${missing.length} actions missing, ${doubled} doubled outside the window (${repeats.windowTotal} in it), ${deadLettered.size} dead-lettered, ${sent.gaveUp} never accepted`
      : `${lost.length} lost, ${missing.length} actions missing, ${doubled} doubled${deadLettered.size > 0 ? `, ${deadLettered.size} dead-lettered` : ''}`;
    const inWorkspaces = WORKSPACES ? `, ${misattributed.length} rows without their workspace (${WORKSPACES.length} workspaces)` : '';
    process.stdout.write(`\n${failed ? 'FAIL' : 'PASS'}: ${verdict}${inWorkspaces}${drained ? '' : ', drain timed out'}\n`);
    if (failed && CHAOS) process.stdout.write(`replay the schedule: SOAK_SEED=${SEED} npm run soak -- --chaos   (logs: ${stack.logFiles.handler})\n`);
    return failed ? 1 : 0;
  } finally {
    dlq.removeAllListeners();
    await dlq.close().catch(() => undefined);
    await probe.delete().catch(() => undefined);
    await harness.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`soak failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
