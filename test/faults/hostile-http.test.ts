/**
 * Hostile requests against the real receiver process (Functions Framework, production settings):
 * each gets the contract's status, no stack trace, and nothing unaccepted is published.
 */
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionProcess } from '../../scripts/local/function-process.js';
import { samplePayload } from '../../scripts/local/samples.js';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import type { TopicProbe } from '../support/pubsub.js';
import { startReceiverProcess, type ReceiverUnderTest } from '../support/receiver-process.js';
import { signedHeaders } from '../support/signing.js';
import { startHandlerHarness } from '../support/handler-harness.js';
import { decodeEventRow } from '../../shared/push-envelope.js';
import { sleep } from '../support/waiting.js';

const KEY = 'hostile-key';
const MAX_BODY = 64 * 1024;
let under: ReceiverUnderTest;
let probe: TopicProbe;
let receiver: FunctionProcess;
let port: number;

beforeAll(async () => {
  under = await startReceiverProcess('hostile', { CIO_WEBHOOK_SIGNING_KEYS: KEY, RECEIVER_MAX_BODY_BYTES: String(MAX_BODY) });
  ({ receiver, probe } = under);
  port = receiver.port;
});

afterAll(async () => {
  await under?.stop();
});

const NO_TRACE = /\bat [\w.<>]+ \(|node_modules|SyntaxError|TypeError|\.js:\d+/;

/** Sends raw bytes and returns the status line's code and the whole answer. */
function raw(request: string | Buffer, { trickle = 0, chunk = 8 } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
    socket.on('connect', async () => {
      const bytes = Buffer.isBuffer(request) ? request : Buffer.from(request, 'latin1');
      if (trickle === 0) socket.write(bytes);
      else for (let i = 0; i < bytes.length; i += chunk) {
        socket.write(bytes.subarray(i, i + chunk));
        await sleep(trickle);
      }
    });
    socket.setTimeout(15_000, () => socket.destroy());
  });
}

function rawPost(body: string, headers: Record<string, string>): string {
  const lines = Object.entries({ host: '127.0.0.1', connection: 'close', 'content-length': String(Buffer.byteLength(body)), ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `POST / HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

const post = (body: string | Buffer, headers: Record<string, string>) => fetch(receiver.url, { method: 'POST', headers, body });

describe('the receiver under hostile input', () => {
  it('answers every bad request with the contract status, no trace, and publishes none of them', async () => {
    const body = JSON.stringify(samplePayload('email', 'sent', { seq: 1 }));
    const good = signedHeaders(KEY, body);
    const ts = good['x-cio-timestamp'];
    const big = JSON.stringify({ event_id: 'big', data: { subject: 'x'.repeat(MAX_BODY) } });
    const huge = Buffer.alloc(12 * 1024 * 1024, 0x20);
    const cases: Array<[string, () => Promise<{ status: number; text: string }>, number]> = [
      ['oversized JSON', async () => { const r = await post(big, signedHeaders(KEY, big)); return { status: r.status, text: await r.text() }; }, 413],
      ['oversized without a Content-Type', () => raw(rawPost(big, (({ 'content-type': _ct, ...h }) => h)(signedHeaders(KEY, big)))), 413],
      ['12 MB of spaces', async () => { const r = await post(huge, { 'content-type': 'text/plain', 'x-cio-timestamp': ts, 'x-cio-signature': 'a'.repeat(64) }); return { status: r.status, text: await r.text() }; }, 413],
      ['signature too short', () => raw(rawPost(body, { ...good, 'x-cio-signature': good['x-cio-signature'].slice(1) })), 401],
      ['signature too long', () => raw(rawPost(body, { ...good, 'x-cio-signature': `${good['x-cio-signature']}0` })), 401],
      ['signature not hex', () => raw(rawPost(body, { ...good, 'x-cio-signature': 'g'.repeat(64) })), 401],
      ['signature with v0= prefix', () => raw(rawPost(body, { ...good, 'x-cio-signature': `v0=${good['x-cio-signature']}` })), 401],
      ['two signature headers', () => raw(rawPost(body, { ...good }).replace('\r\n\r\n', `\r\nx-cio-signature: ${good['x-cio-signature']}\r\n\r\n`)), 401],
      ['negative timestamp', () => raw(rawPost(body, { ...signedHeaders(KEY, body), 'x-cio-timestamp': '-5' })), 401],
      ['huge timestamp', () => raw(rawPost(body, { ...good, 'x-cio-timestamp': '9'.repeat(40) })), 401],
      ['non-numeric timestamp', () => raw(rawPost(body, { ...good, 'x-cio-timestamp': 'now' })), 401],
      ['timestamp with a space inside', () => raw(rawPost(body, { ...good, 'x-cio-timestamp': `${ts.slice(0, 4)} ${ts.slice(4)}` })), 401],
      ['timestamp with a fraction', () => raw(rawPost(body, { ...good, 'x-cio-timestamp': `${ts}.0` })), 401],
      ['header injection (CR inside a value)', () => raw(rawPost(body, { ...good, 'x-cio-signature': `${good['x-cio-signature']}\rx-evil: 1` })), 400],
      ['header over 16 KB', () => raw(rawPost(body, { ...good, 'x-padding': 'p'.repeat(20_000) })), 431],
      // Request smuggling shapes: Node's parser refuses each before anything sees the request.
      ['Transfer-Encoding with Content-Length', () => raw(rawPost(body, { ...good, 'transfer-encoding': 'chunked' })), 400],
      ['a chunk size that is not hex', () => raw(`POST / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ntransfer-encoding: chunked\r\nx-cio-timestamp: ${ts}\r\nx-cio-signature: ${good['x-cio-signature']}\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`), 400],
      ['two different Content-Lengths', () => raw(rawPost(body, { ...good }).replace('\r\n\r\n', '\r\ncontent-length: 3\r\n\r\n')), 400],
      // Bodies are UTF-8; another declared charset is refused from the header, before the body is read.
      ['UTF-8 body declared as UTF-16', () => raw(rawPost(body, { ...good, 'content-type': 'application/json; charset=utf-16' })), 415],
      ['malformed JSON', () => raw(rawPost('{"event_id":', signedHeaders(KEY, '{"event_id":'))), 400],
      ['GET', () => raw(`GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`), 405],
    ];
    for (const [label, send, status] of cases) {
      const answer = await send();
      expect(answer.status, label).toBe(status);
      expect(answer.text, label).not.toMatch(NO_TRACE);
    }
    // Barrier: one valid request; only it may arrive.
    const barrier = JSON.stringify(samplePayload('email', 'delivered', { seq: 2 }));
    expect((await post(barrier, signedHeaders(KEY, barrier))).status).toBe(204);
    const messages = await probe.waitFor(1, { settleMs: 1000 });
    expect(messages.map((m) => JSON.parse(m.data).payload)).toEqual([barrier]);
    probe.messages.length = 0;
    // The process survived all of it, and every line it logged is one JSON entry.
    for (const line of receiver.lines) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it('accepts signed bodies sent with other content types, or none: the signature covers the raw bytes', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', null]) {
      const body = JSON.stringify(samplePayload('sms', 'delivered'));
      const headers: Record<string, string> = { ...signedHeaders(KEY, body) };
      if (contentType) headers['content-type'] = contentType;
      else delete headers['content-type'];
      const answer = await raw(rawPost(body, headers));
      expect(answer.status, String(contentType)).toBe(204);
    }
    expect(await probe.waitFor(4)).toHaveLength(4);
    probe.messages.length = 0;
  });

  it('answers a body trickled in slowly (slow-loris style) once it is complete, and drops an unfinished one', async () => {
    const body = JSON.stringify(samplePayload('email', 'opened', { seq: 3 }));
    const answer = await raw(rawPost(body, signedHeaders(KEY, body)), { trickle: 10, chunk: 16 });
    expect(answer.status).toBe(204);
    // A client that stops halfway and hangs up: nothing is published for it.
    const unfinished = rawPost(body, signedHeaders(KEY, body)).slice(0, -20);
    const socket = connect(port, '127.0.0.1', () => socket.write(unfinished));
    await sleep(500);
    socket.destroy();
    const messages = await probe.waitFor(1, { settleMs: 1000 });
    expect(messages.map((m) => JSON.parse(m.data).payload)).toEqual([body]);
    probe.messages.length = 0;
  });

  it('accepts a replayed captured request again, and the handler acts on it once', async () => {
    const body = JSON.stringify(samplePayload('email', 'bounced', { seq: 4 }));
    const captured = signedHeaders(KEY, body);
    expect((await post(body, captured)).status).toBe(204);
    expect((await post(body, captured)).status).toBe(204);
    const messages = await probe.waitFor(2);
    expect(messages.map((m) => m.attributes.event_id)).toEqual([messages[0]!.attributes.event_id, messages[0]!.attributes.event_id]);

    const fake: FakeTrackApi = await startFakeTrackApi();
    const handler = await startHandlerHarness({ fake });
    try {
      for (const m of messages) expect(await handler.push(decodeEventRow(Buffer.from(m.data)))).toBe(204);
      expect(fake.requests).toHaveLength(1);
      expect(handler.outcomes(messages[0]!.attributes.event_id!)).toEqual(['done', 'duplicate']);
    } finally {
      await handler.close();
      await fake.close();
    }
  });
});

it('computes the signatures these tests send independently of the verifier', () => {
  const body = '{}';
  expect(signedHeaders('k', body, 1)['x-cio-signature']).toBe(createHmac('sha256', 'k').update('v0:1:{}').digest('hex'));
});
