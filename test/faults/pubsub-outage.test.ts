/**
 * The Pub/Sub emulator killed in the middle of the stream and restarted. While it is down the
 * receiver answers 503 (Customer.io would retry); every event answered 2xx reaches the warehouse.
 *
 * The emulator keeps nothing across a restart (production Pub/Sub stores a message durably before
 * it acknowledges the publish), so the stream pauses until the warehouse has caught up before the
 * kill: what this test measures is the receiver's behaviour around the outage, not the emulator's
 * lack of durability.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.js';
import { startPubSubEmulator, type Emulator } from '../../scripts/local/emulators.js';
import { queryWarehouse } from '../../scripts/local/local-warehouse.js';
import { allSamples } from '../../scripts/local/samples.js';
import { sendBodies } from '../../scripts/local/sender.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { logEntries, sleep, waitFor } from '../support/waiting.js';

let emulator: Emulator;
let stack: TestStack;
/** What the stack itself logs (the warehouse sink): kept for the assertions, not printed into the test output. */
const stackLog: Array<{ severity: string; message: string }> = [];
const project = process.env.GOOGLE_CLOUD_PROJECT!;

beforeAll(async () => {
  emulator = await startPubSubEmulator({ project });
  stack = await startTestStack('pubsub-outage', { pubsubHost: emulator.host, logger: createLogger({ write: (line) => stackLog.push(JSON.parse(line) as { severity: string; message: string }) }) });
});

afterAll(async () => {
  await stack?.stop();
  await emulator?.stop();
});

const bodiesOf = (seq: number, copies: number) =>
  Array.from({ length: copies }, (_, i) => allSamples({ seq: seq + i * 100 })).flat().map((s) => JSON.stringify(s));
const eventIds = (bodies: string[]) => bodies.map((b) => JSON.parse(b).event_id as string);

it('answers 503 while Pub/Sub is down and loses nothing it answered 2xx', async () => {
  const accepted: string[] = [];
  const send = async (bodies: string[]) => {
    const result = await sendBodies({ url: stack.receiverUrl, key: stack.signingKey, bodies, concurrency: 16 });
    accepted.push(...result.accepted);
    return result;
  };

  const before = await send(bodiesOf(1000, 3));
  expect(before.statuses).toEqual({ 204: before.sent });
  await waitFor(async () => stack.sink.stats.written >= accepted.length, { what: 'warehouse to catch up' });

  await emulator.stop();
  const during = bodiesOf(5000, 1).slice(0, 30);
  const down = await send(during);
  expect(down.statuses).toEqual({ 503: during.length });
  // The contract: an answer before Customer.io's 4-second timeout, so it retries instead of stalling.
  expect(Math.max(...down.latenciesMs)).toBeLessThan(3500);

  emulator = await startPubSubEmulator({ project, port: emulator.port });
  await stack.createTopology();

  // Customer.io retries what got 503, and the stream goes on.
  const retried = [...during];
  for (let round = 0; round < 20 && retried.length > 0; round++) {
    const result = await send(retried);
    const ok = new Set(result.accepted);
    retried.splice(0, retried.length, ...retried.filter((b) => !ok.has(b)));
    if (retried.length > 0) await sleep(500);
  }
  expect(retried).toEqual([]);
  const after = await send(bodiesOf(9000, 2));
  expect(after.statuses).toEqual({ 204: after.sent });

  const expectedIds = new Set(eventIds(accepted));
  await waitFor(async () => {
    const rows = await queryWarehouse(stack.warehousePath, 'SELECT DISTINCT event_id FROM events');
    return rows.length >= expectedIds.size;
  }, { what: 'every accepted event in the warehouse' });
  const stored = new Set((await queryWarehouse(stack.warehousePath, 'SELECT DISTINCT event_id FROM events')).map((r) => r.event_id as string));
  expect([...expectedIds].filter((id) => !stored.has(id))).toEqual([]);

  // Customer.io actions (dry run here) happen once per event despite the outage.
  await sleep(1500);
  const calls = logEntries(stack.handler.lines, 'dry run: Customer.io call not made').map((e) => JSON.stringify(e.cio_call));
  expect(calls.length).toBeGreaterThan(0);
  expect(new Set(calls).size).toBe(calls.length);
  // The sink may lose its subscription while the emulator is down; it reopens it, and says nothing else.
  expect(stackLog.filter((e) => e.severity !== 'INFO' && e.message !== 'warehouse subscription error; reopening')).toEqual([]);
});
