/**
 * The local warehouse sink on the Pub/Sub emulator: a stream error while it runs is an outage it
 * reopens from (as the managed BigQuery subscription keeps going); the same error while it stops
 * is the stream closing, with nothing to reopen and nothing to warn about.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PubSub, type Subscription } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.js';
import { allSamples } from '../../scripts/local/samples.js';
import { normalizeWebhook } from '../../shared/normalize.js';
import { ensureWarehouse } from '../../scripts/local/local-warehouse.js';
import { WarehouseSink } from '../../scripts/local/warehouse-sink.js';
import { uniqueName } from '../support/pubsub.js';
import { sleep, waitFor } from '../support/waiting.js';

let pubsub: PubSub;
const KEY = Buffer.alloc(32, 7);

beforeAll(() => {
  pubsub = new PubSub({ projectId: process.env.GOOGLE_CLOUD_PROJECT });
});

afterAll(async () => {
  await pubsub?.close();
});

async function sinkOnNewSubscription() {
  const topicName = uniqueName('sink');
  const [topic] = await pubsub.createTopic(topicName);
  await topic.createSubscription(`${topicName}-warehouse`);
  const path = join(mkdtempSync(join(tmpdir(), 'sink-')), 'warehouse.duckdb');
  await ensureWarehouse(path, KEY);
  const entries: Array<{ severity: string; message: string }> = [];
  const logger = createLogger({ write: (line) => entries.push(JSON.parse(line) as { severity: string; message: string }) });
  const sink = new WarehouseSink({ pubsub, subscription: `${topicName}-warehouse`, path, logger, flushMs: 50 });
  let seq = 0;
  const publishOne = async () => {
    const row = normalizeWebhook({ body: Buffer.from(JSON.stringify(allSamples({ seq: ++seq })[0])), receivedAt: new Date() });
    await topic.publishMessage({ data: Buffer.from(JSON.stringify(row)) });
  };
  /** The stream's error, as the client library emits it on the subscription the sink holds. */
  const streamError = () => (Reflect.get(sink, 'subscription') as Subscription).emit('error', new Error('14 UNAVAILABLE: the stream closed'));
  return { sink, entries, publishOne, streamError };
}

describe('the warehouse sink', () => {
  it('warns and reopens after a stream error while it runs, and keeps writing', async () => {
    const { sink, entries, publishOne, streamError } = await sinkOnNewSubscription();
    sink.start();
    await publishOne();
    await waitFor(() => sink.stats.written === 1, { what: 'the first row' });
    streamError();
    expect(entries.map((e) => [e.severity, e.message])).toEqual([['WARNING', 'warehouse subscription error; reopening']]);
    await sleep(1500);
    await publishOne();
    await waitFor(() => sink.stats.written === 2, { what: 'a row after the reopen' });
    await sink.stop();
  });

  it('stops without a word: an error from the stream it is closing is nothing to reopen from', async () => {
    const { sink, entries, publishOne, streamError } = await sinkOnNewSubscription();
    sink.start();
    await publishOne();
    await waitFor(() => sink.stats.written === 1, { what: 'the first row' });
    await sink.stop();
    streamError();
    await sleep(1500);
    expect(entries).toEqual([]);
  });
});
