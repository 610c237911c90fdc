/**
 * Pulling a subscription until it is drained, holding what was pulled.
 *
 * On real Pub/Sub a pull can come back empty while messages remain (the service answers from
 * whichever server it reached), so one empty answer does not mean drained: pulling stops after
 * several consecutive empty answers, spaced out, or at the limit. Everything pulled is held —
 * its ack deadline extended in the background while the command works (asks, publishes) — so no
 * message expires mid-command and comes back to be handled twice. Whatever is not acknowledged is
 * released at the end (deadline 0): it is delivered again at once, to the next reader.
 */
import type { google } from '@google-cloud/pubsub/build/protos/protos.js';

export type ReceivedMessage = google.pubsub.v1.IReceivedMessage;

/** The three calls of Pub/Sub's subscriber API this needs (v1.SubscriberClient has them). */
export interface SubscriberApi {
  pull(request: { subscription: string; maxMessages: number; returnImmediately?: boolean }, options?: { timeout?: number }): Promise<[{ receivedMessages?: ReceivedMessage[] | null }, ...unknown[]]>;
  modifyAckDeadline(request: { subscription: string; ackIds: string[]; ackDeadlineSeconds: number }): Promise<unknown>;
  acknowledge(request: { subscription: string; ackIds: string[] }): Promise<unknown>;
}

export interface DrainOptions {
  subscriber: SubscriberApi;
  /** projects/P/subscriptions/S */
  subscription: string;
  limit: number;
  /** Consecutive empty answers that mean drained. */
  emptyPulls?: number;
  /** Wait between empty answers. */
  emptyWaitMs?: number;
  /** The deadline held messages are kept at (and re-extended before it runs out). */
  holdSeconds?: number;
  onProgress?: (pulled: number) => void;
}

/** Pub/Sub takes at most 1,000 ack ids per call. */
const ACK_BATCH = 1000;

async function inBatches(ackIds: string[], call: (batch: string[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < ackIds.length; i += ACK_BATCH) await call(ackIds.slice(i, i + ACK_BATCH));
}

export class HeldMessages {
  readonly messages: ReceivedMessage[] = [];
  private readonly held = new Map<string, ReceivedMessage>();
  private timer: NodeJS.Timeout | undefined;
  /** Extensions sent, for the tests and the curious. */
  extensions = 0;

  constructor(
    private readonly subscriber: SubscriberApi,
    private readonly subscription: string,
    private readonly holdSeconds: number,
  ) {}

  add(messages: ReceivedMessage[]): void {
    for (const m of messages) {
      if (!m.ackId) continue;
      this.messages.push(m);
      this.held.set(m.ackId, m);
    }
    if (!this.timer && this.held.size > 0) {
      // Re-extend at half the deadline: a slow confirmation prompt or publish never lets one lapse.
      this.timer = setInterval(() => void this.extend().catch(() => undefined), (this.holdSeconds * 1000) / 2);
      this.timer.unref();
    }
  }

  /** Pushes the deadline of `messages` (default: all held) out to holdSeconds from now. */
  async extend(messages?: ReceivedMessage[]): Promise<void> {
    const ackIds = messages ? messages.map((m) => m.ackId!).filter((id) => this.held.has(id)) : [...this.held.keys()];
    if (ackIds.length === 0) return;
    this.extensions += 1;
    await inBatches(ackIds, (batch) => this.subscriber.modifyAckDeadline({ subscription: this.subscription, ackIds: batch, ackDeadlineSeconds: this.holdSeconds }));
  }

  async acknowledge(messages: ReceivedMessage[]): Promise<void> {
    const ackIds = messages.map((m) => m.ackId!).filter((id) => this.held.delete(id));
    await inBatches(ackIds, (batch) => this.subscriber.acknowledge({ subscription: this.subscription, ackIds: batch }));
  }

  /** Makes everything still held deliverable again now, and stops extending. */
  async releaseAll(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const ackIds = [...this.held.keys()];
    this.held.clear();
    await inBatches(ackIds, (batch) => this.subscriber.modifyAckDeadline({ subscription: this.subscription, ackIds: batch, ackDeadlineSeconds: 0 }));
  }

  get size(): number {
    return this.held.size;
  }
}

export async function pullUntilDrained(options: DrainOptions): Promise<HeldMessages> {
  const { subscriber, subscription, limit } = options;
  const emptyPulls = options.emptyPulls ?? 4;
  const emptyWaitMs = options.emptyWaitMs ?? 1000;
  const held = new HeldMessages(subscriber, subscription, options.holdSeconds ?? 60);
  let empty = 0;
  try {
    while (held.messages.length < limit && empty < emptyPulls) {
      let batch: ReceivedMessage[] = [];
      try {
        const [response] = await subscriber.pull({ subscription, maxMessages: Math.min(1000, limit - held.messages.length), returnImmediately: true }, { timeout: 15_000 });
        batch = response.receivedMessages ?? [];
      } catch (error) {
        // A pull that times out found nothing to return; anything else is the caller's to see.
        if ((error as { code?: number }).code !== 4) throw error;
      }
      if (batch.length === 0) {
        empty += 1;
        if (empty < emptyPulls) await new Promise((r) => setTimeout(r, emptyWaitMs));
        continue;
      }
      empty = 0;
      held.add(batch);
      // Hold at once: the subscription's own ack deadline may be shorter than the whole pull.
      await held.extend(batch);
      options.onProgress?.(held.messages.length);
    }
    return held;
  } catch (error) {
    await held.releaseAll().catch(() => undefined);
    throw error;
  }
}

/** Runs `work` over `items` with at most `concurrency` at once; resolves with the items that succeeded. */
export async function boundedEach<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<{ done: T[]; failed: Array<{ item: T; error: unknown }> }> {
  const done: T[] = [];
  const failed: Array<{ item: T; error: unknown }> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        try {
          await work(item);
          done.push(item);
        } catch (error) {
          failed.push({ item, error });
        }
      }
    }),
  );
  return { done, failed };
}
