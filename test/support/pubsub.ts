/** Pub/Sub emulator helpers: a fresh topic with a pull subscription that collects what arrives. */
import { randomUUID } from 'node:crypto';
import { PubSub, type Message } from '@google-cloud/pubsub';

export interface CollectedMessage {
  id: string;
  data: string;
  attributes: Record<string, string>;
}

export interface TopicProbe {
  topicName: string;
  messages: CollectedMessage[];
  /** Resolves once `count` messages have arrived, then waits `settleMs` more to catch extras. */
  waitFor(count: number, options?: { timeoutMs?: number; settleMs?: number }): Promise<CollectedMessage[]>;
  close(): Promise<void>;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createTopicProbe(pubsub: PubSub, prefix = 'events'): Promise<TopicProbe> {
  const topicName = uniqueName(prefix);
  const [topic] = await pubsub.createTopic(topicName);
  const [subscription] = await topic.createSubscription(`${topicName}-probe`);
  const messages: CollectedMessage[] = [];
  subscription.on('message', (message: Message) => {
    messages.push({ id: message.id, data: message.data.toString('utf8'), attributes: { ...message.attributes } });
    message.ack();
  });
  subscription.on('error', () => undefined);
  return {
    topicName,
    messages,
    async waitFor(count, { timeoutMs = 15_000, settleMs = 300 } = {}) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      await new Promise((r) => setTimeout(r, settleMs));
      return messages;
    },
    async close() {
      await subscription.close();
      await subscription.delete().catch(() => undefined);
      await topic.delete().catch(() => undefined);
    },
  };
}
