/**
 * `npm run send -- [options]`: signs and posts realistic sample events to a receiver.
 */
import { ALL_METRICS, METRICS_BY_OBJECT_TYPE, OBJECT_TYPES, isKnownObjectType, type KnownObjectType } from '../shared/events.js';
import { UsageError, parse, positiveInt, readLocalStack, runCli, wholeNumber } from '../ops/cli.js';
import type { LocalStackInfo } from './local/stack-file.js';
import { percentile, sendBodies } from './local/sender.js';
import { samplePayload, type SamplePayload } from './local/samples.js';

const HELP = `usage: npm run send -- [options]

Signs (v0:<timestamp>:<body>, HMAC-SHA256) and posts sample Customer.io events to a receiver.

  --url URL            receiver URL (default: the running npm start stack)
  --key KEY            signing key (default: the running npm start stack's dev key)
  --workspace NAME     with several workspaces (CIO_WORKSPACES), the running stack's workspace to post
                       to: its URL and dev key (default: the only one)
  --object-type TYPE   only this object type (customer, email, push, sms, in_app, slack, webhook, whatsapp)
  --metric METRIC      only this metric (with --object-type: that one pair)
  --count N            copies of the selection, each with new event ids (default 1)
  --duplicates N       also resend N of the events unchanged, as Customer.io retries do (default 0)
  --rate R             at most R requests per second (default: as fast as the receiver answers)
  --out-of-order       shuffle the events (Customer.io does not guarantee order)
  --json               print the result as JSON
  -h, --help           this text

exit status: 0 when every request got 2xx, 1 otherwise, 2 on wrong arguments`;

export function selectSamples(objectType: string | undefined, metric: string | undefined, count: number): SamplePayload[] {
  if (objectType !== undefined && !isKnownObjectType(objectType)) throw new UsageError(`unknown --object-type ${JSON.stringify(objectType)}: one of ${OBJECT_TYPES.join(', ')}`);
  const types = objectType ? [objectType as KnownObjectType] : OBJECT_TYPES;
  const pairs = types.flatMap((type) => (METRICS_BY_OBJECT_TYPE[type] as readonly string[]).filter((m) => metric === undefined || m === metric).map((m) => [type, m] as const));
  if (pairs.length === 0) {
    const valid = objectType ? `${objectType} metrics are ${METRICS_BY_OBJECT_TYPE[objectType as KnownObjectType].join(', ')}` : `metrics are ${ALL_METRICS.join(', ')}`;
    throw new UsageError(`no ${objectType ?? 'object type'} emits --metric ${JSON.stringify(metric)}: ${valid}`);
  }
  let seq = 1;
  return Array.from({ length: count }, () => pairs.map(([type, m]) => samplePayload(type, m, { seq: seq++ }))).flat();
}

/**
 * Where to post and with which key: --url and --key as given, else the running stack's (with
 * several workspaces, the one --workspace names, or the only one).
 */
export function sendTarget(given: { url?: string; key?: string; workspace?: string }, local: LocalStackInfo | null): { url: string; key: string } {
  const served = local?.workspaces ?? null;
  if (given.workspace !== undefined) {
    if (given.url !== undefined) throw new UsageError('--workspace picks the running stack\'s URL for the workspace: with --url, end the URL with the workspace (…/acme) instead');
    if (!local) throw new UsageError('--workspace needs a running npm start stack (or give --url and --key)');
    if (!served) throw new UsageError(`the running npm start stack serves one workspace (CIO_WORKSPACES is not set): leave out --workspace`);
    const workspace = served.find((w) => w.name === given.workspace);
    if (!workspace) throw new UsageError(`the running npm start stack has no workspace ${JSON.stringify(given.workspace)}: one of ${served.map((w) => w.name).join(', ')}`);
    return { url: workspace.receiverUrl, key: given.key ?? workspace.signingKey };
  }
  if (served && given.url === undefined) {
    if (served.length > 1) throw new UsageError(`the running npm start stack serves several workspaces: name one with --workspace (${served.map((w) => w.name).join(', ')})`);
    return { url: served[0]!.receiverUrl, key: given.key ?? served[0]!.signingKey };
  }
  const url = given.url ?? local?.receiverUrl;
  const key = given.key ?? (served ? undefined : local?.signingKey);
  if (!url || !key) throw new UsageError(local ? '--key is required with --url' : '--url and --key are required when no npm start stack is running');
  return { url, key };
}

async function main(): Promise<number> {
  const { values } = parse(process.argv.slice(2), {
    url: { type: 'string' },
    key: { type: 'string' },
    workspace: { type: 'string' },
    'object-type': { type: 'string' },
    metric: { type: 'string' },
    count: { type: 'string' },
    duplicates: { type: 'string' },
    rate: { type: 'string' },
    'out-of-order': { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const samples = selectSamples(values['object-type'], values.metric, positiveInt('count', values.count, 1));
  const duplicates = wholeNumber('duplicates', values.duplicates, 0);
  const rate = values.rate === undefined ? undefined : positiveInt('rate', values.rate, 1);
  const local = values.url && values.key ? null : readLocalStack();
  const { url, key } = sendTarget(values, local);

  const bodies = samples.map((s) => JSON.stringify(s));
  for (let i = 0; i < duplicates; i++) bodies.push(bodies[i % samples.length]!);
  if (values['out-of-order']) bodies.sort(() => Math.random() - 0.5);

  const result = await sendBodies({ url, key, bodies, rate });
  const latencies = [...result.latenciesMs].sort((a, b) => a - b);
  const ok = Object.entries(result.statuses).every(([status]) => status.startsWith('2'));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ url, sent: result.sent, distinct: samples.length, statuses: result.statuses, seconds: result.seconds, p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99) })}\n`);
  } else {
    process.stdout.write(
      `sent ${result.sent} events (${samples.length} distinct, ${duplicates} duplicates) to ${url} in ${result.seconds.toFixed(2)} s: ` +
        `${Object.entries(result.statuses).map(([s, n]) => `${n} × ${s}`).join(', ')}; p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms\n`,
    );
  }
  return ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) runCli('send', main);
