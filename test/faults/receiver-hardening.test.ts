/**
 * The receiver process (Functions Framework, our entry point) against requests built to take it down
 * (issue #13 §1, and the buffer-pool attacks of issue #18 §2). Each gets the contract's answer from
 * the request guard in front of the framework's parsers, the process's peak memory stays within a
 * stated bound, and a genuine webhook gets 204 right after. If a framework upgrade routed requests
 * around the guard, the declared-length and bomb cases here would hang or blow the memory bound
 * instead of answering at once.
 */
import { connect } from 'node:net';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { FunctionProcess } from '../../scripts/local/function-process.js';
import { headerOnlyDeclarations, malformedUrl, poolLeakAttack, post, signedLargeWebhooks, signedWebhook } from '../../scripts/bench/hostile-traffic.js';
import { peakRssMiB } from '../../scripts/bench/proc-stats.js';
import { samplePayload } from '../../scripts/local/samples.js';
import type { TopicProbe } from '../support/pubsub.js';
import { startReceiverProcess, type ReceiverUnderTest } from '../support/receiver-process.js';
import { signedHeaders } from '../support/signing.js';
import { sleep } from '../support/waiting.js';

const KEY = 'hardening-key';
const MiB = 1024 * 1024;
/** Peak resident memory the receiver may reach through all of this (it starts near 125 MiB running from source; a Cloud Run instance has 512 MiB). */
const RSS_BOUND_MIB = 320;
const BODY_TIMEOUT_MS = 1500;

let under: ReceiverUnderTest;
let probe: TopicProbe;
let receiver: FunctionProcess;

beforeAll(async () => {
  under = await startReceiverProcess('hardening', { CIO_WEBHOOK_SIGNING_KEYS: KEY, RECEIVER_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) });
  ({ receiver, probe } = under);
});

afterAll(async () => {
  await under?.stop();
});

/** Sends the head of a request, then the body in pieces (or not at all), and reads the whole answer. */
function exchange(head: string, body: Buffer | null, { pieces = 1, pauseMs = 0, hangUpOnAnswer = false } = {}): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(receiver.port, '127.0.0.1');
    let text = '';
    /** Until the answer's first byte: the socket may stay open afterwards while the rest is drained. */
    let ms = Number.NaN;
    socket.on('data', (d) => {
      if (text === '') ms = performance.now() - started;
      text += d.toString('latin1');
      if (hangUpOnAnswer) socket.destroy();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text, ms }));
    socket.on('connect', async () => {
      socket.write(head);
      if (body === null) return;
      const size = Math.ceil(body.length / pieces);
      for (let i = 0; i < body.length && !socket.destroyed; i += size) {
        socket.write(body.subarray(i, i + size));
        if (pauseMs) await sleep(pauseMs);
      }
    });
    socket.setTimeout(20_000, () => socket.destroy());
  });
}

const head = (headers: Record<string, string>) =>
  `POST / HTTP/1.1\r\n${Object.entries({ host: '127.0.0.1', connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;

/** Signature headers that pass the format check but verify with no key. */
const forged = () => ({ 'x-cio-timestamp': String(Math.floor(Date.now() / 1000)), 'x-cio-signature': 'ab'.repeat(32) });

async function genuineWebhookAccepted(): Promise<void> {
  const body = JSON.stringify(samplePayload('email', 'delivered'));
  const response = await fetch(receiver.url, { method: 'POST', headers: signedHeaders(KEY, body), body });
  expect(response.status).toBe(204);
  const messages = await probe.waitFor(1);
  expect(messages.map((m) => JSON.parse(m.data).payload)).toContain(body);
  probe.messages.length = 0;
}

describe('a receiver no single request can take down', () => {
  it('answers a declared 32 MiB body 413 at once, without reading it', async () => {
    const answer = await exchange(head({ ...forged(), 'content-type': 'application/json', 'content-length': String(32 * MiB) }), null, { hangUpOnAnswer: true });
    expect(answer.status).toBe(413);
    expect(answer.text).toContain('"error":"body over 8388608 bytes"');
    // The framework's parser would have waited for 32 MiB that never come.
    expect(answer.ms).toBeLessThan(2000);
    await genuineWebhookAccepted();
  });

  it('answers a 32 MiB body that is actually sent 413, reading none of it into memory', async () => {
    const answer = await exchange(head({ ...forged(), 'content-type': 'application/json', 'content-length': String(32 * MiB) }), Buffer.alloc(32 * MiB, 0x20), { pieces: 64 });
    expect(answer.status).toBe(413);
  });

  it('inflates a brotli bomb only up to the limit: 64 MiB of zeros in a few hundred bytes → 413', async () => {
    const bomb = brotliCompressSync(Buffer.alloc(64 * MiB), { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } });
    expect(bomb.length).toBeLessThan(4096);
    const answer = await exchange(head({ ...forged(), 'content-type': 'application/json', 'content-encoding': 'br', 'content-length': String(bomb.length) }), bomb);
    expect(answer.status).toBe(413);
    expect(answer.text).toContain('body over 8388608 bytes');
  });

  it('inflates a gzip bomb only up to the limit → 413', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MiB), { level: 9 });
    const answer = await exchange(head({ ...forged(), 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(bomb.length) }), bomb);
    expect(answer.status).toBe(413);
  });

  it('accepts a genuine gzip-encoded webhook, verifying the signature on the inflated bytes', async () => {
    const body = JSON.stringify(samplePayload('email', 'opened', { seq: 5 }));
    const compressed = gzipSync(Buffer.from(body));
    const answer = await exchange(head({ ...signedHeaders(KEY, body), 'content-encoding': 'gzip', 'content-length': String(compressed.length) }), compressed);
    expect(answer.status).toBe(204);
    const messages = await probe.waitFor(1);
    expect(messages.map((m) => JSON.parse(m.data).payload)).toEqual([body]);
    probe.messages.length = 0;
  });

  it('refuses other encodings (415) and a body without a length past the limit (413)', async () => {
    const zstd = await exchange(head({ ...forged(), 'content-encoding': 'zstd', 'content-length': '10' }), Buffer.alloc(10));
    expect(zstd.status).toBe(415);
    // Chunked transfer: no length to check up front, so the limit is enforced while reading.
    const chunk = Buffer.alloc(MiB, 0x61);
    const chunked = Buffer.concat(Array.from({ length: 12 }, () => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])));
    const answer = await exchange(head({ ...forged(), 'content-type': 'application/json', 'transfer-encoding': 'chunked' }), Buffer.concat([chunked, Buffer.from('0\r\n\r\n')]), { pieces: 48 });
    expect(answer.status).toBe(413);
  });

  it('answers a body that stops arriving 408 after the body timeout', async () => {
    const body = Buffer.from(JSON.stringify(samplePayload('email', 'sent')));
    const answer = await exchange(head({ ...signedHeaders(KEY, body.toString()), 'content-length': String(body.length) }), body.subarray(0, 40));
    expect(answer.status).toBe(408);
    expect(answer.ms).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 100);
    expect(answer.ms).toBeLessThan(BODY_TIMEOUT_MS + 3000);
  });

  it('answers a body sent slowly within the timeout 204', async () => {
    const body = JSON.stringify(samplePayload('email', 'clicked', { seq: 9 }));
    const answer = await exchange(head({ ...signedHeaders(KEY, body), 'content-length': String(Buffer.byteLength(body)) }), Buffer.from(body), { pieces: 10, pauseMs: 50 });
    expect(answer.status).toBe(204);
    await probe.waitFor(1);
    probe.messages.length = 0;
  });

  it('answers 200 unsigned 5 MiB requests 401 before reading them, and 100 forged ones within the buffer pool', async () => {
    const body = Buffer.alloc(5 * MiB, 0x7b);
    const length = { 'content-type': 'application/json', 'content-length': String(body.length) };
    const unsigned = await Promise.all(Array.from({ length: 200 }, () => exchange(head(length), body, { pieces: 20 })));
    expect(unsigned.map((a) => a.status).filter((s) => s !== 401)).toEqual([]);
    // Well-formed signatures must be read to be checked: 100 at once share the pool, and any that
    // cannot get room in time are told to come back (503), not buffered regardless.
    const forgedAnswers = await Promise.all(Array.from({ length: 100 }, () => exchange(head({ ...length, ...forged() }), body, { pieces: 20 })));
    expect(forgedAnswers.map((a) => a.status).filter((s) => s !== 401 && s !== 503 && s !== 408)).toEqual([]);
    expect(forgedAnswers.filter((a) => a.status === 401).length).toBeGreaterThan(0);
    await genuineWebhookAccepted();
  });

  it(`kept the process's peak memory under ${RSS_BOUND_MIB} MiB through all of the above`, () => {
    const peak = peakRssMiB(receiver.child.pid!);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(RSS_BOUND_MIB);
  });

  it('serves signed 300 KiB webhooks after the pool-leak attack: 8 declared 8 MiB bodies, 130 gzip bodies waiting to grow, everyone hangs up', async () => {
    await poolLeakAttack(receiver.port);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const answers = [];
      for (let i = 0; i < 15; i++) {
        const { body, headers } = signedWebhook((b) => signedHeaders(KEY, b), 100 + i, 300 * 1024);
        answers.push(await post(receiver.url, agent, headers, body));
      }
      expect(answers.map((a) => a.error ?? a.status)).toEqual(Array(15).fill(204));
    } finally {
      agent.destroy();
    }
    expect(await probe.waitFor(15)).toHaveLength(15);
    probe.messages.length = 0;
  });

  it('does not let header-only declarations (8 MiB each, half with Expect: 100-continue) starve signed bodies', async () => {
    const held = [...(await headerOnlyDeclarations(receiver.port, { count: 8 })), ...(await headerOnlyDeclarations(receiver.port, { count: 8, expectContinue: true }))];
    try {
      const answers = await signedLargeWebhooks(receiver.url, (b) => signedHeaders(KEY, b), [300 * 1024, 1 * MiB, 4 * MiB, 7 * MiB]);
      expect(answers.map((a) => a.error ?? a.status)).toEqual([204, 204, 204, 204]);
      // The 100-continue ones were told to go on; the rest heard nothing, or 408 once the body
      // timeout passed (on a busy machine the signed bodies may take that long).
      expect(held.slice(8).every((c) => c.answer().startsWith('HTTP/1.1 100 Continue'))).toBe(true);
      expect(held.slice(0, 8).map((c) => c.answer().slice(0, 12)).filter((a) => a !== '' && a !== 'HTTP/1.1 408')).toEqual([]);
    } finally {
      for (const c of held) c.hangUp();
    }
    expect(await probe.waitFor(4)).toHaveLength(4);
    probe.messages.length = 0;
  });

  it('answers a URL the router cannot decode with one JSON line, and logs at most one line', async () => {
    const before = receiver.lines.length;
    const answer = await malformedUrl(receiver.port);
    await sleep(200);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.toLowerCase()).toContain('content-type: application/json');
    expect(answer.split('\r\n\r\n')[1]).toBe('{"error":"malformed URL"}');
    const logged = receiver.lines.slice(before);
    expect(logged.length).toBeLessThanOrEqual(1);
    for (const line of logged) {
      expect(JSON.parse(line)).toMatchObject({ status: 400, reason: 'malformed URL' });
      // A few hundred bytes (the trace's fields among them), not the 14 KB URL.
      expect(line.length).toBeLessThan(600);
    }
  });
});
