/**
 * The local stand-in for the BigQuery subscription (no emulator provides one): pulls the warehouse
 * subscription and writes rows with the same semantics — columns matched by name from the JSON
 * message (unknown fields dropped), metadata columns added (write_metadata), and a message that does
 * not fit the table, or a failed write, nacked so Pub/Sub redelivers and finally dead-letters it.
 */
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import type { Logger } from '../../shared/log.js';
import { EnvelopeError, decodeEventRow } from '../../shared/push-envelope.js';
import { insertRows, withWarehouse, type WarehouseRow } from './local-warehouse.js';

export interface WarehouseSinkOptions {
  pubsub: PubSub;
  subscription: string;
  path: string;
  logger: Logger;
  /** How long a batch may wait before it is written. */
  flushMs?: number;
  maxBatch?: number;
}

export interface WarehouseSinkStats {
  written: number;
  rejected: number;
  failedWrites: number;
}

/** BigQuery-subscription mapping of one message to a table row; throws when it does not fit. */
export function toWarehouseRow(message: { id: string; publishTime: Date; attributes: Record<string, string>; data: Buffer }, subscriptionName: string): WarehouseRow {
  const row = decodeEventRow(message.data);
  return {
    ...row,
    subscription_name: subscriptionName,
    message_id: message.id,
    publish_time: message.publishTime.toISOString(),
    attributes: JSON.stringify(message.attributes),
  };
}

export class WarehouseSink {
  readonly stats: WarehouseSinkStats = { written: 0, rejected: 0, failedWrites: 0 };
  private subscription: Subscription;
  private pending: Message[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private stopped = false;

  constructor(private readonly options: WarehouseSinkOptions) {
    this.flushMs = options.flushMs ?? 200;
    this.maxBatch = options.maxBatch ?? 500;
    this.subscription = options.pubsub.subscription(options.subscription, { flowControl: { maxMessages: 2000 } });
  }

  start(): void {
    this.subscription.on('message', (message: Message) => {
      if (this.stopped) return message.nack();
      this.pending.push(message);
      if (this.pending.length >= this.maxBatch) this.flushSoon(0);
      else this.flushSoon(this.flushMs);
    });
    this.subscription.on('error', (error) => {
      // Closing the stream in stop() may end it with an error: a stopped sink has nothing to reopen.
      if (this.stopped) return;
      // A fatal stream error (the emulator restarted, the subscription is gone for a moment) closes
      // the subscription: reopen it, as the managed BigQuery subscription would keep going.
      this.options.logger.warn('warehouse subscription error; reopening', { error: (error as Error).message });
      const failed = this.subscription;
      setTimeout(() => {
        if (this.stopped || this.subscription !== failed) return;
        failed.removeAllListeners();
        void failed.close().catch(() => undefined);
        this.subscription = this.options.pubsub.subscription(this.options.subscription, { flowControl: { maxMessages: 2000 } });
        this.start();
      }, 1000);
    });
  }

  private flushSoon(delay: number): void {
    if (this.timer && delay > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
  }

  /** Writes what is pending; resolves when this and earlier batches are written (or nacked). */
  flush(): Promise<void> {
    const batch = this.pending.splice(0);
    this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  private async write(batch: Message[]): Promise<void> {
    if (batch.length === 0) return;
    const name = this.subscription.name;
    const rows: WarehouseRow[] = [];
    const accepted: Message[] = [];
    for (const message of batch) {
      try {
        rows.push(toWarehouseRow(message, name));
        accepted.push(message);
      } catch (error) {
        if (!(error instanceof EnvelopeError)) throw error;
        this.stats.rejected += 1;
        this.options.logger.warn('message does not fit the events table; nacked', { message_id: message.id, error: error.message });
        message.nack();
      }
    }
    try {
      await withWarehouse(this.options.path, (connection) => insertRows(connection, rows));
      for (const message of accepted) message.ack();
      this.stats.written += rows.length;
    } catch (error) {
      this.stats.failedWrites += 1;
      this.options.logger.warn('warehouse write failed; batch nacked for redelivery', { rows: rows.length, error: (error as Error).message });
      for (const message of accepted) message.nack();
    }
  }

  /** Writes and acks what is pending, then stops pulling; later arrivals are nacked for redelivery. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.flush();
    await this.subscription.close();
  }
}
