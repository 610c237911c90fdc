/**
 * `npm run bench:hostile` — the receiver process (publishing into the Pub/Sub emulator) against the
 * traffic of issue #18, direct and behind nginx when it is installed. Prints what each scenario got;
 * asserts nothing (test/faults/ does). Figures vary with the machine's load. From source by default;
 * BENCH_FROM=bundle runs the compiled bundle that deploys (`npm run build` first).
 */
import { PubSub } from '@google-cloud/pubsub';
import { startPubSubEmulator } from '../local/emulators.js';
import { startFunction, type FunctionProcess } from '../local/function-process.js';
import { nginxBinary, startNginx } from '../local/nginx.js';
import { computeSignature } from '../../shared/signature.js';
import { peakRssMiB } from './proc-stats.js';
import {
  headerOnlyDeclarations, interleaved, keepAliveClients, malformedUrl, poolLeakAttack, signedLargeWebhooks, signedWebhook, post,
  unsignedFloodThenValid, validAfterEachEarlyAnswer, type Clients, type KeepAliveFigures, type Outcome, type Sign,
} from './hostile-traffic.js';
import http from 'node:http';

process.env.METADATA_SERVER_DETECTION = 'none';

const PROJECT = 'bench-project';
const KEY = 'bench-signing-key';
const MiB = 1024 * 1024;

const sign: Sign = (body, timestamp = Math.floor(Date.now() / 1000)) => {
  const ts = String(timestamp);
  return { 'content-type': 'application/json', 'x-cio-timestamp': ts, 'x-cio-signature': computeSignature(KEY, ts, Buffer.from(body)) };
};

const line = (label: string, text: string) => process.stdout.write(`${label.padEnd(58)} ${text}\n`);
const figures = (f: KeepAliveFigures) => `valid ${f.validOk}/${f.valid} ok${f.failures.length ? ` (failed: ${f.failures.join(', ')})` : ''}; hostile answers ${JSON.stringify(f.hostile)}`;
const tally = (outcomes: Outcome[]) => JSON.stringify(outcomes.reduce<Record<string, number>>((c, o) => ((c[o.error ?? String(o.status)] = (c[o.error ?? String(o.status)] ?? 0) + 1), c), {}));

async function main() {
  const emulator = await startPubSubEmulator({ project: PROJECT });
  const pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host });
  process.env.PUBSUB_EMULATOR_HOST = emulator.host;
  const [topic] = await pubsub.createTopic('hostile-bench');
  await topic.createSubscription('hostile-bench-sink');
  const receivers: FunctionProcess[] = [];
  const receiver = async () => {
    const r = await startFunction({ target: 'receiver', from: process.env.BENCH_FROM === 'bundle' ? 'bundle' : 'source', env: { GOOGLE_CLOUD_PROJECT: PROJECT, PUBSUB_EMULATOR_HOST: emulator.host, PUBSUB_TOPIC: 'hostile-bench', CIO_WEBHOOK_SIGNING_KEYS: KEY } });
    receivers.push(r);
    return r;
  };
  try {
    process.stdout.write(`node ${process.version}; receiver from ${process.env.BENCH_FROM === 'bundle' ? 'the bundle' : 'source'}; nginx ${nginxBinary() ?? 'not installed'}\n\n§1 early answers and kept-alive connections\n`);
    const r1 = await receiver();
    const scenarios = async (label: string, url: string, shared: boolean) => {
      const run = async (name: string, scenario: (clients: Clients) => Promise<KeepAliveFigures>) => {
        const clients = keepAliveClients({ sockets: 4, shared });
        try {
          line(`${name} ${label}`, figures(await scenario(clients)));
        } finally {
          clients.close();
        }
      };
      await run('A: 40 unsigned 5 MiB, then 8 valid', (c) => unsignedFloodThenValid(url, sign, c));
      await run('B: 24 valid, each after one early answer', (c) => validAfterEachEarlyAnswer(url, sign, c));
      await run('C: 12 hostile + 12 valid at once', (c) => interleaved(url, sign, c));
    };
    await scenarios('(4 shared sockets)', r1.url, true);
    if (nginxBinary()) {
      for (const buffering of ['off', 'on'] as const) {
        const proxy = await startNginx({ upstreamPort: r1.port, keepalive: 2, requestBuffering: buffering });
        try {
          // nginx closes its own client connection after an early answer to a body it still reads
          // unbuffered: the attacker and Customer.io are two clients, sharing nginx's upstream pool.
          await scenarios(`via nginx, buffering ${buffering}, ${buffering === 'off' ? 'two clients' : 'one client'}`, proxy.url, buffering === 'on');
          const upstream = proxy.errorLog().split('\n').filter((l) => /upstream/.test(l)).length;
          line('  nginx error-log lines about the upstream', String(upstream));
        } finally {
          await proxy.stop();
        }
      }
    }

    process.stdout.write('\n§2 the buffer pool\n');
    const r2 = await receiver();
    const attack = await poolLeakAttack(r2.port);
    line('pool-leak attack: uploaded', `${(attack.uploadedBytes / 1024).toFixed(0)} KiB`);
    await new Promise((r) => setTimeout(r, 300));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const after: Outcome[] = [];
    const started = performance.now();
    for (let i = 0; i < 15; i++) {
      const { body, headers } = signedWebhook(sign, 100 + i, 300 * 1024);
      after.push(await post(r2.url, agent, headers, body));
    }
    agent.destroy();
    line('then 15 signed 300 KiB webhooks, one after another', `${tally(after)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const r3 = await receiver();
    const held = [...(await headerOnlyDeclarations(r3.port, { count: 8 })), ...(await headerOnlyDeclarations(r3.port, { count: 8, expectContinue: true }))];
    const t0 = performance.now();
    const whileHeld = await signedLargeWebhooks(r3.url, sign, [300 * 1024, 1 * MiB, 4 * MiB, 7 * MiB]);
    line('16 header-only 8 MiB declarations (8 with 100-continue) held;', '');
    line('  signed 300 KiB, 1, 4, 7 MiB at once', `${whileHeld.map((o) => o.error ?? o.status).join(' ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const c of held) c.hangUp();

    const before = r3.lines.length;
    const answer = await malformedUrl(r3.port);
    await new Promise((r) => setTimeout(r, 300));
    const status = /^HTTP\/1\.1 (\d+)/.exec(answer)?.[1];
    const type = /content-type: ([^\r\n]+)/i.exec(answer)?.[1];
    const logged = r3.lines.slice(before);
    line('POST /%zz + 14,000 × A', `${status} ${type}, ${answer.length} bytes answered; ${logged.length} log lines, ${logged.reduce((n, l) => n + l.length, 0)} bytes`);

    const r4 = await receiver();
    const sizes = Array.from({ length: 40 }, (_, i) => (1 + (i % 7)) * MiB);
    const t1 = performance.now();
    const burst = await signedLargeWebhooks(r4.url, sign, sizes);
    line('40 signed 1–7 MiB webhooks at once', `${tally(burst)} in ${((performance.now() - t1) / 1000).toFixed(1)} s; peak RSS ${peakRssMiB(r4.child.pid!)} MiB`);
  } finally {
    for (const r of receivers) await r.stop();
    await pubsub.close();
    await emulator.stop();
  }
}

await main();
