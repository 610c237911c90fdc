/**
 * `ops dlq show|redrive`: inspect the dead-letter subscription and put its messages back on the
 * events topic — pulling until the subscription is drained, holding what was pulled while it works.
 */
import { UsageError, parse, positiveInt } from '../cli.js';
import { confirm } from '../confirm.js';
import { boundedEach, pullUntilDrained, type ReceivedMessage } from '../drain.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget, type Target } from '../target.js';

export const DLQ_HELP = `usage: npm run ops -- dlq show [--limit N] [--samples K] [--json]
       npm run ops -- dlq redrive [--limit N] [--include-warehouse] [--dry-run] [--yes]

show     the dead-lettered messages grouped by the subscription that gave up on them and the last
         error it saw, and by object type and metric, with K samples (default 3). Deployed, the
         total comes from the subscription's backlog metric. Nothing changes: messages are looked
         at and released.
redrive  publishes the dead-lettered messages back to the events topic with their data and
         attributes unchanged, then acknowledges them. The handler dedupes; events_unique absorbs
         the repeated warehouse rows. Messages the BigQuery subscription gave up on are left where
         they are unless --include-warehouse: they would fail the same way (and invoke the handler
         again); fix the table first.

Both pull until the subscription is drained (several empty answers in a row) or N messages
(default 1000), print progress, and keep the pulled messages' ack deadlines extended until done.

  --limit N              at most N messages
  --samples K            samples to show (show)
  --include-warehouse    also redrive what the BigQuery subscription dead-lettered
  --dry-run              show what would be redriven; change nothing
  --json                 one JSON document (show)
  --yes                  do not ask for confirmation
${TARGET_HELP}`;

const SOURCE = 'CloudPubSubDeadLetterSourceSubscription';
const ERROR = 'CloudPubSubDeadLetterSourceDeliveryErrorMessage';
const COUNT = 'CloudPubSubDeadLetterSourceDeliveryCount';

const attributesOf = (m: ReceivedMessage) => m.message?.attributes ?? {};
const shortName = (subscription: string | undefined) => subscription?.split('/').pop() ?? '(unknown)';

export interface DeadLetterSummary {
  total: number;
  backlog: number | null;
  bySource: Array<{ source: string; error: string | null; count: number }>;
  byEvent: Array<{ object_type: string; metric: string; count: number }>;
  samples: Array<{ event_id: string | null; object_type: string | null; metric: string | null; message_id: string | null; source: string; delivery_attempts: string | null; error: string | null }>;
}

export function summarize(messages: ReceivedMessage[], samples: number, backlog: number | null): DeadLetterSummary {
  const tally = <K extends string>(key: (m: ReceivedMessage) => K) => {
    const counts = new Map<K, number>();
    for (const m of messages) counts.set(key(m), (counts.get(key(m)) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1]);
  };
  return {
    total: messages.length,
    backlog,
    bySource: tally((m) => `${shortName(attributesOf(m)[SOURCE])}\u0000${(attributesOf(m)[ERROR] ?? '').slice(0, 200)}`).map(([key, count]) => {
      const [source, error] = key.split('\u0000');
      return { source: source!, error: error || null, count };
    }),
    byEvent: tally((m) => `${attributesOf(m).object_type ?? '?'}/${attributesOf(m).metric ?? '?'}`).map(([key, count]) => {
      const [objectType, metric] = key.split('/');
      return { object_type: objectType!, metric: metric!, count };
    }),
    samples: messages.slice(0, samples).map((m) => {
      const a = attributesOf(m);
      return {
        event_id: a.event_id ?? null,
        object_type: a.object_type ?? null,
        metric: a.metric ?? null,
        message_id: m.message?.messageId ?? null,
        source: shortName(a[SOURCE]),
        // On the dead-letter subscription deliveryAttempt is 0 (it has no dead-letter policy):
        // the attempts that count are the source subscription's.
        delivery_attempts: a[COUNT] ?? null,
        error: a[ERROR] ?? null,
      };
    }),
  };
}

export function renderSummary(s: DeadLetterSummary): string {
  const lines = [`${s.total} dead-lettered message(s)${s.backlog === null ? '' : ` pulled; the backlog metric says ${s.backlog}`}`];
  if (s.bySource.length) lines.push('by source subscription and last error:', ...s.bySource.map((g) => `  ${String(g.count).padStart(6)}  ${g.source}${g.error ? `  "${g.error}"` : ''}`));
  if (s.byEvent.length) lines.push('by object type and metric:', ...s.byEvent.map((g) => `  ${String(g.count).padStart(6)}  ${g.object_type}/${g.metric}`));
  if (s.samples.length) {
    lines.push('samples:', ...s.samples.map((m) => `  event_id=${m.event_id ?? '?'} ${m.object_type ?? '?'}/${m.metric ?? '?'} message_id=${m.message_id} from=${m.source} attempts=${m.delivery_attempts ?? '?'}${m.error ? ` error="${m.error}"` : ''}`));
  }
  return `${lines.join('\n')}\n`;
}

/** Deployed: the dead-letter subscription's undelivered messages, from Cloud Monitoring. */
async function backlogMetric(target: Target): Promise<number | null> {
  if (!target.api) return null;
  const end = new Date();
  const start = new Date(end.getTime() - 10 * 60_000);
  const filter = `metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages" AND resource.labels.subscription_id = "${target.names.deadLetterSubscription}"`;
  const query = new URLSearchParams({ filter, 'interval.startTime': start.toISOString(), 'interval.endTime': end.toISOString() });
  try {
    const body = await target.api.call<{ timeSeries?: Array<{ points?: Array<{ value?: { int64Value?: string } }> }> }>('monitoring', `v3/projects/${target.project}/timeSeries?${query}`);
    const latest = body.timeSeries?.[0]?.points?.[0]?.value?.int64Value;
    return latest === undefined ? 0 : Number(latest);
  } catch {
    return null;
  }
}

export async function dlq(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...TARGET_OPTIONS, limit: { type: 'string' }, samples: { type: 'string' }, 'include-warehouse': { type: 'boolean' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, yes: { type: 'boolean' } }, true);
  const [action] = positionals;
  if (values.help || action === undefined) {
    process.stdout.write(`${DLQ_HELP}\n`);
    return values.help ? 0 : 2;
  }
  if (action !== 'show' && action !== 'redrive') throw new UsageError(`unknown dlq action ${JSON.stringify(action)}: show or redrive`);
  const limit = positiveInt('limit', values.limit, 1000);
  const samples = values.samples === undefined ? 3 : positiveInt('samples', values.samples, 3);
  const target = await resolveTarget(values);
  const subscription = target.pubsub.subscription(target.names.deadLetterSubscription).name;
  const progress = (pulled: number) => {
    if (!values.json && pulled >= 1000) process.stdout.write(`pulled ${pulled} so far…\n`);
  };
  const held = await pullUntilDrained({ subscriber: target.subscriber, subscription, limit, onProgress: progress }).catch(async (error) => {
    await target.close();
    throw error;
  });
  try {
    if (action === 'show') {
      const summary = summarize(held.messages, samples, await backlogMetric(target));
      process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : renderSummary(summary));
      return 0;
    }
    const fromWarehouse = (m: ReceivedMessage) => shortName(attributesOf(m)[SOURCE]) === target.warehouseSubscription;
    const chosen = values['include-warehouse'] ? held.messages : held.messages.filter((m) => !fromWarehouse(m));
    const left = held.messages.length - chosen.length;
    process.stdout.write(renderSummary(summarize(held.messages, 0, null)));
    if (left > 0) process.stdout.write(`leaving ${left} message(s) the BigQuery subscription dead-lettered (fix the table, then --include-warehouse)\n`);
    if (values['dry-run'] || chosen.length === 0) {
      if (values['dry-run']) process.stdout.write(`dry run: would redrive ${chosen.length} message(s) to ${target.names.topic}\n`);
      return 0;
    }
    if (!(await confirm(`Redrive ${chosen.length} message(s) to ${target.names.topic} in ${target.project}?`, values.yes))) return 1;
    const topic = target.pubsub.topic(target.names.topic);
    let published = 0;
    const { done, failed } = await boundedEach(chosen, 32, async (m) => {
      await topic.publishMessage({ data: Buffer.from(m.message!.data as Uint8Array), attributes: { ...(m.message!.attributes ?? {}) } });
      published += 1;
      if (published % 500 === 0) process.stdout.write(`redriven ${published} of ${chosen.length}…\n`);
    });
    // Acknowledge exactly what was republished; the rest is released below and stays dead-lettered.
    await held.acknowledge(done);
    process.stdout.write(`redrove ${done.length} message(s) to ${target.names.topic}${failed.length ? `; ${failed.length} failed and stay dead-lettered (${(failed[0]!.error as Error).message})` : ''}\n`);
    return failed.length === 0 ? 0 : 1;
  } finally {
    await held.releaseAll().catch(() => undefined);
    await target.close();
  }
}
