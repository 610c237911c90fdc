/** Adapter: publish event rows to the Pub/Sub topic with one long-lived, latency-tuned client. */
import type { PubSub } from '@google-cloud/pubsub';

export interface Publisher {
  /** Resolves with the message id once Pub/Sub has acknowledged the message. */
  publish(data: Buffer, attributes: Record<string, string>): Promise<string>;
}

/** Pub/Sub caps attribute values at 1,024 bytes; event fields come from outside. */
const MAX_ATTRIBUTE_BYTES = 1024;

export function fitAttribute(value: string): string {
  if (Buffer.byteLength(value) <= MAX_ATTRIBUTE_BYTES) return value;
  let cut = value.slice(0, MAX_ATTRIBUTE_BYTES);
  while (Buffer.byteLength(cut) > MAX_ATTRIBUTE_BYTES) cut = cut.slice(0, -1);
  return cut.toWellFormed();
}

export interface TopicPublisherOptions {
  pubsub: PubSub;
  topic: string;
  /** Bounds the client's own retries, so a slow publish stops after the HTTP answer has left. */
  timeoutMs: number;
}

export function createTopicPublisher({ pubsub, topic, timeoutMs }: TopicPublisherOptions): Publisher {
  const handle = pubsub.topic(topic, {
    batching: {
      // Every request waits for its publish, so a batch is held at most 5 ms: latency over packing.
      maxMilliseconds: 5,
      maxMessages: 100,
      maxBytes: 1024 * 1024,
    },
    gaxOpts: { timeout: timeoutMs },
  });
  return {
    publish(data, attributes) {
      const fitted = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, fitAttribute(v)]));
      return handle.publishMessage({ data, attributes: fitted });
    },
  };
}
