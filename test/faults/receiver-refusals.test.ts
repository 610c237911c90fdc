/**
 * The refusals docs/security.md and docs/configuration.md promise, held against the receiver process
 * (Functions Framework, our entry point, the request guard in front): an event too large for Pub/Sub
 * once encoded (413), the drain after an early answer cut at its time bound, a 408 that closes its
 * connection at once, and a body that finds no room in the buffer pool (503). Each is one JSON answer
 * and at most one log line, loses nothing answered 2xx, and leaves the receiver serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePayload } from '../../scripts/local/samples.js';
import { startReceiverProcess, type ReceiverUnderTest } from '../support/receiver-process.js';
import { rawClient, requestHead, type RawClient } from '../support/raw-client.js';
import { signedHeaders } from '../support/signing.js';
import { logEntries, sleep } from '../support/waiting.js';

const KEY = 'refusals-key';
const KiB = 1024;
const MiB = 1024 * KiB;

/** The body of the receiver's answer on a raw connection (one answer, with a content-length). */
const answerBody = (text: string) => text.slice(text.indexOf('\r\n\r\n') + 4);
const lowerHead = (text: string) => text.slice(0, text.indexOf('\r\n\r\n')).toLowerCase();

/** A genuine webhook gets 204 and is published: the receiver is still serving. */
async function genuineWebhookAccepted(under: ReceiverUnderTest, seq: number): Promise<void> {
  const body = JSON.stringify(samplePayload('email', 'delivered', { seq }));
  const response = await fetch(under.receiver.url, { method: 'POST', headers: signedHeaders(KEY, body), body });
  expect(response.status).toBe(204);
  const messages = await under.probe.waitFor(1);
  expect(messages.map((m) => JSON.parse(m.data).payload)).toEqual([body]);
  under.probe.messages.length = 0;
}

/** Sends a whole request on a fresh connection and waits for its answer. */
async function send(port: number, headers: Record<string, string>, body: Buffer): Promise<RawClient> {
  const c = rawClient(port);
  c.socket.write(requestHead({ ...headers, 'content-length': String(body.length) }));
  c.socket.write(body);
  await c.until(() => c.answers().length > 0 && answerBody(c.state.text).length >= Number(/content-length: (\d+)/i.exec(c.state.text)?.[1] ?? 0), 'the answer', 30_000);
  return c;
}

describe('a receiver with the default limits (body timeout 1.5 s)', () => {
  const BODY_TIMEOUT_MS = 1500;
  let under: ReceiverUnderTest;

  beforeAll(async () => {
    under = await startReceiverProcess('refusals', { CIO_WEBHOOK_SIGNING_KEYS: KEY, RECEIVER_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) });
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('answers a signed body too large for Pub/Sub once encoded 413, logs one line, publishes nothing', async () => {
    // 5 MB of raw body, well under RECEIVER_MAX_BODY_BYTES (8 MiB): as plain letters it is one
    // 5 MB message; as escaped quotes (`\"`, 2 bytes each in the body) the row's JSON escapes each
    // again (`\\\"`, 4 bytes), and the message would be 10 MB, over Pub/Sub's limit.
    const webhook = (filler: string) => {
      const payload = samplePayload('email', 'bounced', { seq: 1 });
      const text = JSON.stringify(payload).replace(/}$/, `,"padding":"${filler.repeat(5_000_000 / filler.length)}"}`);
      expect(JSON.parse(text)).toBeTruthy();
      return Buffer.from(text);
    };
    const plain = webhook('x');
    const escaped = webhook('\\"');
    expect(escaped.length).toBe(plain.length);
    expect(escaped.length).toBeLessThan(8 * MiB);

    const accepted = await send(under.receiver.port, { ...signedHeaders(KEY, plain), connection: 'close' }, plain);
    expect(accepted.answers()).toEqual(['HTTP/1.1 204']);
    expect(await under.probe.waitFor(1)).toHaveLength(1);
    under.probe.messages.length = 0;

    const before = under.receiver.lines.length;
    const refused = await send(under.receiver.port, { ...signedHeaders(KEY, escaped), connection: 'close' }, escaped);
    expect(refused.answers()).toEqual(['HTTP/1.1 413']);
    expect(lowerHead(refused.state.text)).toContain('content-type: application/json');
    expect(answerBody(refused.state.text)).toBe('{"error":"event too large once encoded"}');
    // Give a stray publish every chance to land before saying none did.
    expect(await under.probe.waitFor(1, { timeoutMs: 2_000, settleMs: 0 })).toEqual([]);
    const logged = under.receiver.lines.slice(before);
    expect(logged).toHaveLength(1);
    const entry = JSON.parse(logged[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ severity: 'ERROR', message: 'event too large for Pub/Sub once encoded', status: 413 });
    expect(entry.bytes).toBeGreaterThan(9_900_000);
    for (const c of [accepted, refused]) c.socket.destroy();
    await genuineWebhookAccepted(under, 2);
  });

  it('answers a keep-alive client whose body stopped coming 408 with Connection: close, and closes the connection at once', async () => {
    const body = Buffer.from(JSON.stringify(samplePayload('email', 'sent', { seq: 3 })));
    // No Connection header: HTTP/1.1, so the client means to keep the connection.
    const c = rawClient(under.receiver.port);
    c.socket.write(requestHead({ ...signedHeaders(KEY, body), 'content-length': String(body.length) }));
    c.socket.write(body.subarray(0, 40));
    const answer = '{"error":"body not received in time"}';
    await c.until(() => c.state.text.includes(answer), 'the 408', BODY_TIMEOUT_MS + 15_000);
    expect(c.answers()).toEqual(['HTTP/1.1 408']);
    expect(lowerHead(c.state.text)).toContain('connection: close');
    expect(answerBody(c.state.text)).toBe(answer);
    // Closed, not only ended: the server's FIN, then a reset for the next bytes the client sends
    // (a lingering close would read and drop them for the 5 s drain bound instead). The bound here
    // is under that, and far under Node's request timeout (body timeout + 10 s).
    await c.until(() => c.state.ended, 'the server to end the connection', 3_000);
    for (let i = 0; i < 60 && !c.state.closed; i++) {
      c.socket.write(body.subarray(40, 41));
      await sleep(50);
    }
    expect(c.state.closed).toBe(true);
    expect(c.answers()).toEqual(['HTTP/1.1 408']);
    c.socket.destroy();
    await genuineWebhookAccepted(under, 4);
  });
});

describe('a receiver with a 2 MiB buffer pool (body timeout 30 s)', () => {
  const POOL_WAIT_MS = 2_000;
  /** request-guard.ts DRAIN_MS: how long the rest of a refused body is read and dropped. */
  const DRAIN_MS = 5_000;
  let under: ReceiverUnderTest;

  beforeAll(async () => {
    under = await startReceiverProcess('refusals-pool', {
      CIO_WEBHOOK_SIGNING_KEYS: KEY,
      // The pool must hold one body of the largest size.
      RECEIVER_MAX_BODY_BYTES: String(MiB),
      RECEIVER_MAX_BUFFERED_BYTES: String(2 * MiB),
      // Long, so that neither the guard's 408 nor Node's request timeout (this + 10 s) ends a
      // connection before the bound under test does.
      RECEIVER_BODY_TIMEOUT_MS: '30000',
    });
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('answers a body that finds no room in the pool within 2 s 503; the bodies holding it complete, and the refused one is accepted when retried', async () => {
    // Two signed 900 KiB bodies, each holding a 1 MiB buffer of the 2 MiB pool once 600 KiB is in
    // (a body over 256 KiB lives in the pool).
    const webhook = (seq: number) => {
      const text = JSON.stringify(samplePayload('email', 'delivered', { seq })).replace(/}$/, `,"padding":"${'p'.repeat(900 * KiB)}"}`);
      return Buffer.from(text);
    };
    const holders = [webhook(10), webhook(11)].map((body) => {
      const c = rawClient(under.receiver.port);
      c.socket.write(requestHead({ ...signedHeaders(KEY, body), 'content-length': String(body.length), connection: 'close' }));
      c.socket.write(body.subarray(0, 600 * KiB));
      return { c, body };
    });
    // Time for the receiver to read what was sent (a lower bound is all it needs: they keep the pool until they finish).
    await sleep(1_500);

    const third = webhook(12);
    const before = under.receiver.lines.length;
    const started = performance.now();
    const refused = await send(under.receiver.port, { ...signedHeaders(KEY, third), connection: 'close' }, third);
    const waited = performance.now() - started;
    expect(refused.answers()).toEqual(['HTTP/1.1 503']);
    expect(lowerHead(refused.state.text)).toContain('content-type: application/json');
    expect(answerBody(refused.state.text)).toBe('{"error":"receiver busy; retry later"}');
    // It waited for room: its wait began only once its bytes arrived, so it cannot have ended sooner.
    expect(waited).toBeGreaterThanOrEqual(POOL_WAIT_MS - 50);
    refused.socket.destroy();
    // The holders have not finished, so they logged nothing: the one line is the refusal's.
    await sleep(200);
    const logged = under.receiver.lines.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toEqual([expect.objectContaining({ message: 'request rejected while its body was read', status: 503, reason: 'buffer pool exhausted' })]);

    for (const { c, body } of holders) c.socket.write(body.subarray(600 * KiB));
    for (const { c } of holders) {
      await c.until(() => c.answers().length > 0, 'a holder\'s answer', 30_000);
      expect(c.answers()).toEqual(['HTTP/1.1 204']);
      c.socket.destroy();
    }
    // Customer.io retries a 503: with the pool free again, the same webhook is accepted.
    const retried = await send(under.receiver.port, { ...signedHeaders(KEY, third), connection: 'close' }, third);
    expect(retried.answers()).toEqual(['HTTP/1.1 204']);
    retried.socket.destroy();
    const published = (await under.probe.waitFor(3)).map((m) => JSON.parse(m.data).payload as string);
    expect(published.sort()).toEqual([holders[0]!.body, holders[1]!.body, third].map((b) => b.toString()).sort());
    under.probe.messages.length = 0;
  });

  it('cuts the drain of an early answer after its time bound when the client keeps sending, and goes on serving', async () => {
    // Unsigned (401 from the headers), each body 1 MiB or unbounded, sent at ~40 KiB/s: none
    // finishes within the 20 s each client keeps sending, so only the drain's time bound ends them.
    const cases: Array<{ name: string; headers: Record<string, string>; connection: string }> = [
      { name: 'declared length, keep-alive', headers: { 'content-length': String(MiB) }, connection: 'keep-alive' },
      { name: 'chunked, keep-alive', headers: { 'transfer-encoding': 'chunked' }, connection: 'keep-alive' },
      { name: 'declared length, client asked to close', headers: { 'content-length': String(MiB), connection: 'close' }, connection: 'close' },
    ];
    const piece = Buffer.alloc(2 * KiB, 0x61);
    const chunk = Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]);
    const outcomes = await Promise.all(cases.map(async ({ name, headers, connection }) => {
      const c = rawClient(under.receiver.port);
      const started = performance.now();
      c.socket.write(requestHead({ 'content-type': 'application/json', ...headers }));
      const chunked = headers['transfer-encoding'] === 'chunked';
      const sendingUntil = started + 20_000;
      while (!c.state.closed && performance.now() < sendingUntil) {
        c.socket.write(chunked ? chunk : piece);
        c.state.written += piece.length;
        await sleep(50);
      }
      // Read before this side closes it too.
      const cut = c.state.closed;
      const ms = performance.now() - started;
      c.socket.destroy();
      return { name, connection, c, cut, ms };
    }));
    for (const { name, connection, c, cut, ms } of outcomes) {
      expect({ name, answers: c.answers() }).toEqual({ name, answers: ['HTTP/1.1 401'] });
      expect(lowerHead(c.state.text)).toContain(`connection: ${connection}`);
      expect(answerBody(c.state.text)).toBe('{"error":"invalid signature"}');
      // Cut by the receiver while its client was still sending, and not before the bound.
      expect({ name, cut }).toEqual({ name, cut: true });
      expect(c.state.written).toBeLessThan(MiB);
      expect(ms).toBeGreaterThanOrEqual(DRAIN_MS - 50);
    }
    await genuineWebhookAccepted(under, 20);
  });
});
