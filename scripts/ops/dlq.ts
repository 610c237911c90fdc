/** `ops dlq show|redrive`: inspect the dead-letter subscription and put its messages back on the topic. */
import type { google } from '@google-cloud/pubsub/build/protos/protos.js';
import { UsageError, parse, positiveInt } from '../lib/cli.js';
import { confirm } from './confirm.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget, type Target } from './target.js';

export const DLQ_HELP = `usage: npm run ops -- dlq show [--limit N] [--samples K]
       npm run ops -- dlq redrive [--limit N] [--dry-run] [--yes]

show     counts of dead-lettered messages per object type and metric, and K samples (default 3).
         Messages are only looked at: they stay in the dead-letter subscription.
redrive  publishes up to N dead-lettered messages back to the events topic with their data and
         attributes unchanged, then acknowledges them. Both subscriptions receive them again: the
         handler dedupes, and events_unique absorbs the repeated warehouse rows.

  --limit N            at most N messages (default 1000)
  --dry-run            show what would be redriven; change nothing
  --yes                do not ask for confirmation
${TARGET_HELP}`;

type Received = google.pubsub.v1.IReceivedMessage;

/** Pulls up to `limit` messages, holding them (not acked) until release() or ack(). */
async function pullUpTo(target: Target, limit: number): Promise<Received[]> {
  const subscription = target.pubsub.subscription(target.names.deadLetterSubscription).name;
  const received: Received[] = [];
  for (let empty = 0; received.length < limit && empty < 2; ) {
    // returnImmediately is deprecated for streaming consumers but is what a one-shot inspection wants.
    const [response] = await target.subscriber.pull({ subscription, maxMessages: Math.min(1000, limit - received.length), returnImmediately: true }, { timeout: 10_000 });
    const batch = response.receivedMessages ?? [];
    if (batch.length === 0) empty += 1;
    received.push(...batch);
  }
  return received;
}

/** Calls `request` with the messages' ack ids, at most 1,000 per call (Pub/Sub's limit). */
async function forAckIds(target: Target, messages: Received[], request: (subscription: string, ackIds: string[]) => Promise<unknown>) {
  const subscription = target.pubsub.subscription(target.names.deadLetterSubscription).name;
  const ackIds = messages.map((m) => m.ackId!).filter(Boolean);
  for (let i = 0; i < ackIds.length; i += 1000) await request(subscription, ackIds.slice(i, i + 1000));
}

/** Makes held messages deliverable again at once (ack deadline 0). */
const release = (target: Target, messages: Received[]) =>
  forAckIds(target, messages, (subscription, ackIds) => target.subscriber.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 }));

const acknowledge = (target: Target, messages: Received[]) =>
  forAckIds(target, messages, (subscription, ackIds) => target.subscriber.acknowledge({ subscription, ackIds }));

function summarize(messages: Received[], samples: number): string {
  const counts = new Map<string, number>();
  for (const m of messages) {
    const a = m.message?.attributes ?? {};
    const key = `${a.object_type ?? '?'}/${a.metric ?? '?'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const lines = [...counts].sort((a, b) => b[1] - a[1]).map(([key, n]) => `  ${String(n).padStart(6)}  ${key}`);
  const sampleLines = messages.slice(0, samples).map((m) => {
    const a = m.message?.attributes ?? {};
    return `  event_id=${a.event_id ?? '?'} metric=${a.metric ?? '?'} message_id=${m.message?.messageId} attempts=${m.deliveryAttempt ?? a.CloudPubSubDeadLetterSourceDeliveryCount ?? '?'} from=${a.CloudPubSubDeadLetterSourceSubscription ?? '?'}`;
  });
  return `${messages.length} dead-lettered message(s)\n${lines.join('\n')}${sampleLines.length ? `\nsamples:\n${sampleLines.join('\n')}` : ''}\n`;
}

export async function dlq(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...TARGET_OPTIONS, limit: { type: 'string' }, samples: { type: 'string' }, 'dry-run': { type: 'boolean' }, yes: { type: 'boolean' } }, true);
  const [action] = positionals;
  if (values.help || action === undefined) {
    process.stdout.write(`${DLQ_HELP}\n`);
    return values.help ? 0 : 2;
  }
  if (action !== 'show' && action !== 'redrive') throw new UsageError(`unknown dlq action ${JSON.stringify(action)}: show or redrive`);
  const limit = positiveInt('limit', values.limit, 1000);
  const samples = values.samples === undefined ? 3 : positiveInt('samples', values.samples, 3);
  const target = resolveTarget(values);
  try {
    const messages = await pullUpTo(target, limit);
    process.stdout.write(summarize(messages, action === 'show' ? samples : 0));
    if (action === 'show' || values['dry-run'] || messages.length === 0) {
      await release(target, messages);
      if (action === 'redrive' && values['dry-run']) process.stdout.write(`dry run: would redrive ${messages.length} message(s) to ${target.names.topic}\n`);
      return 0;
    }
    if (!(await confirm(`Redrive ${messages.length} message(s) to ${target.names.topic} in ${target.project}?`, values.yes))) {
      await release(target, messages);
      return 1;
    }
    const topic = target.pubsub.topic(target.names.topic);
    let redriven = 0;
    try {
      for (const m of messages) {
        await topic.publishMessage({ data: Buffer.from(m.message!.data as Uint8Array), attributes: { ...(m.message!.attributes ?? {}) } });
        redriven += 1;
      }
    } finally {
      // Acknowledge exactly what was republished; the rest stays dead-lettered.
      await acknowledge(target, messages.slice(0, redriven));
      await release(target, messages.slice(redriven));
    }
    process.stdout.write(`redrove ${redriven} message(s) to ${target.names.topic}\n`);
    return 0;
  } finally {
    await target.close();
  }
}
