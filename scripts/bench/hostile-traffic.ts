/**
 * Traffic an attacker (or a proxy reusing connections) sends a receiver, as functions that return
 * what happened: the keep-alive scenarios of issue #18 §1, the buffer-pool attacks of §2, and a
 * burst of genuine large webhooks. `npm run bench:hostile` prints their figures; the tests in
 * test/faults/ assert on them. Signing is the caller's (tests sign independently of the verifier).
 */
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { samplePayload } from '../local/samples.js';

export type Sign = (body: string | Buffer, timestamp?: number) => Record<string, string>;

const MiB = 1024 * 1024;

export interface Outcome {
  status: number;
  /** The client's error code when the exchange failed (ECONNRESET, socket hang up, …). */
  error?: string;
}

/** One POST through `agent`, its body sent in full whatever the answer; resolves when both are done. */
export function post(url: string, agent: http.Agent, headers: Record<string, string>, body: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const request = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': headers['content-length'] ?? String(body.length) } }, (response) => {
      response.resume();
      response.once('end', () => resolve({ status: response.statusCode ?? 0 }));
      response.once('error', (error: NodeJS.ErrnoException) => resolve({ status: response.statusCode ?? 0, error: error.code ?? error.message }));
    });
    request.once('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, error: error.code ?? error.message }));
    request.setTimeout(30_000, () => request.destroy(new Error('client timeout')));
    request.end(body);
  });
}

export function signedWebhook(sign: Sign, seq: number, padTo = 0): { body: Buffer; headers: Record<string, string> } {
  const payload = samplePayload('email', 'delivered', { seq });
  if (padTo > 0) payload.data.subject = 'x'.repeat(padTo);
  const text = JSON.stringify(payload);
  return { body: Buffer.from(text), headers: sign(text) };
}

export interface KeepAliveFigures {
  hostile: Record<string, number>;
  valid: number;
  validOk: number;
  /** Each failed valid request: its status or client error. */
  failures: string[];
}

const tally = (outcomes: Outcome[]) =>
  outcomes.reduce<Record<string, number>>((counts, o) => {
    const key = o.error ?? String(o.status);
    counts[key] = (counts[key] ?? 0) + 1;
    return counts;
  }, {});

const summarize = (hostile: Outcome[], valid: Outcome[]): KeepAliveFigures => ({
  hostile: tally(hostile),
  valid: valid.length,
  validOk: valid.filter((o) => !o.error && o.status >= 200 && o.status < 300).length,
  failures: valid.filter((o) => o.error || o.status < 200 || o.status >= 300).map((o) => o.error ?? String(o.status)),
});

/**
 * The kept-alive connections the scenarios send over: one pool shared by hostile and valid requests
 * (a client that is both, or a proxy's connections to the receiver), or one pool each (the attacker
 * and Customer.io as two clients of the same proxy, whose upstream connections they share).
 */
export interface Clients {
  hostile: http.Agent;
  valid: http.Agent;
  close(): void;
}

export function keepAliveClients({ sockets = 4, shared = true } = {}): Clients {
  const hostile = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const valid = shared ? hostile : new http.Agent({ keepAlive: true, maxSockets: sockets });
  return { hostile, valid, close: () => (hostile.destroy(), valid.destroy()) };
}

/** Scenario A: 40 unsigned 5 MiB bodies (401 before reading), then 8 valid webhooks. */
export async function unsignedFloodThenValid(url: string, sign: Sign, clients: Clients, { flood = 40, valid = 8 } = {}): Promise<KeepAliveFigures> {
  const body = Buffer.alloc(5 * MiB, 0x7b);
  const hostile = await Promise.all(Array.from({ length: flood }, () => post(url, clients.hostile, { 'content-type': 'application/json' }, body)));
  const good = await Promise.all(Array.from({ length: valid }, (_, i) => {
    const { body: b, headers } = signedWebhook(sign, 1000 + i);
    return post(url, clients.valid, headers, b);
  }));
  return summarize(hostile, good);
}

/** The early answers of scenario B: a declared length over the limit, a stale timestamp, an unknown encoding. */
export function earlyAnswerRequests(sign: Sign, maxBodyBytes: number): Array<{ kind: string; headers: Record<string, string>; body: Buffer }> {
  const stale = Math.floor(Date.now() / 1000) - 30 * 86_400;
  const oneMiB = Buffer.alloc(MiB, 0x20);
  return [
    { kind: 'oversized length', headers: { ...sign('x'), 'content-type': 'application/json' }, body: Buffer.alloc(maxBodyBytes + MiB, 0x20) },
    { kind: 'stale timestamp', headers: { ...sign(oneMiB, stale) }, body: oneMiB },
    { kind: 'unknown encoding', headers: { ...sign(oneMiB), 'content-encoding': 'zstd' }, body: oneMiB },
  ];
}

/** Scenario B: each valid webhook right after one early answer. */
export async function validAfterEachEarlyAnswer(url: string, sign: Sign, clients: Clients, { rounds = 24, maxBodyBytes = 8 * MiB } = {}): Promise<KeepAliveFigures> {
  const kinds = earlyAnswerRequests(sign, maxBodyBytes);
  const hostile: Outcome[] = [];
  const good: Outcome[] = [];
  for (let i = 0; i < rounds; i++) {
    const { headers, body } = kinds[i % kinds.length]!;
    hostile.push(await post(url, clients.hostile, headers, body));
    const { body: b, headers: h } = signedWebhook(sign, 2000 + i);
    good.push(await post(url, clients.valid, h, b));
  }
  return summarize(hostile, good);
}

/** Scenario C: hostile and valid requests interleaved, all at once. */
export async function interleaved(url: string, sign: Sign, clients: Clients, { rounds = 12, maxBodyBytes = 8 * MiB } = {}): Promise<KeepAliveFigures> {
  const kinds = [...earlyAnswerRequests(sign, maxBodyBytes), { kind: 'unsigned', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(2 * MiB, 0x7b) }];
  const hostile: Array<Promise<Outcome>> = [];
  const good: Array<Promise<Outcome>> = [];
  for (let i = 0; i < rounds; i++) {
    const { headers, body } = kinds[i % kinds.length]!;
    hostile.push(post(url, clients.hostile, headers, body));
    const { body: b, headers: h } = signedWebhook(sign, 3000 + i);
    good.push(post(url, clients.valid, h, b));
  }
  return summarize(await Promise.all(hostile), await Promise.all(good));
}

/** A raw connection that sends `head` (and `body`), and is kept until hangUp(). */
export interface RawConnection {
  socket: Socket;
  /** Everything answered so far. */
  answer(): string;
  hangUp(): void;
}

export function openRaw(port: number, head: string, body?: Buffer): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      socket.write(head);
      if (body) socket.write(body);
      resolve({ socket, answer: () => text, hangUp: () => socket.destroy() });
    });
    socket.once('error', reject);
  });
}

export const rawHead = (headers: Record<string, string>, path = '/') =>
  `POST ${path} HTTP/1.1\r\n${Object.entries({ host: '127.0.0.1', ...headers }).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;

/** Headers that pass the format checks (fresh timestamp, 64 hex) but verify with no key. */
export const forgedSignature = () => ({ 'x-cio-timestamp': String(Math.floor(Date.now() / 1000)), 'x-cio-signature': 'ab'.repeat(32) });

/**
 * Issue #18 §2 "High": 8 connections declare 8 MiB (fresh timestamp, any 64-hex signature) and send
 * nothing; 130 connections send ~500 bytes of gzip that inflates to 300 KiB; everyone hangs up, the
 * inflaters first: a request that is gone while it waits for pool room must not be handed the room
 * the declarations free a moment later.
 */
export async function poolLeakAttack(port: number, { declarations = 8, inflaters = 130, declaredBytes = 8 * MiB } = {}): Promise<{ uploadedBytes: number }> {
  const gzip = gzipSync(Buffer.alloc(300 * 1024, 0x61), { level: 9 });
  const connections: RawConnection[] = [];
  let uploaded = 0;
  for (let i = 0; i < declarations; i++) {
    const head = rawHead({ ...forgedSignature(), 'content-type': 'application/json', 'content-length': String(declaredBytes) });
    connections.push(await openRaw(port, head));
    uploaded += head.length;
  }
  await new Promise((r) => setTimeout(r, 200));
  await Promise.all(Array.from({ length: inflaters }, async () => {
    const head = rawHead({ ...forgedSignature(), 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(gzip.length) });
    connections.push(await openRaw(port, head, gzip));
    uploaded += head.length + gzip.length;
  }));
  await new Promise((r) => setTimeout(r, 500));
  for (const c of connections.slice(declarations)) c.hangUp();
  await new Promise((r) => setTimeout(r, 100));
  for (const c of connections.slice(0, declarations)) c.hangUp();
  return { uploadedBytes: uploaded };
}

/** Connections that declare a large body and send none of it (optionally asking for 100-continue). */
export async function headerOnlyDeclarations(port: number, { count = 8, declaredBytes = 8 * MiB, expectContinue = false } = {}): Promise<RawConnection[]> {
  return Promise.all(Array.from({ length: count }, () =>
    openRaw(port, rawHead({ ...forgedSignature(), 'content-type': 'application/json', 'content-length': String(declaredBytes), ...(expectContinue ? { expect: '100-continue' } : {}) })),
  ));
}

/** Signed webhooks of about `bytes` each, `count` of them at once; statuses in order. */
export async function signedLargeWebhooks(url: string, sign: Sign, sizes: number[], { sockets = sizes.length } = {}): Promise<Outcome[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  try {
    return await Promise.all(sizes.map((size, i) => {
      const { body, headers } = signedWebhook(sign, 5000 + i, size);
      return post(url, agent, headers, body);
    }));
  } finally {
    agent.destroy();
  }
}

/** `POST /%zz` followed by 14,000 × A, with well-formed signature headers: a URL no decoder accepts. */
export function malformedUrl(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
    const headers = { ...forgedSignature(), 'content-type': 'application/json', connection: 'close', 'content-length': '2' };
    socket.once('connect', () => socket.write(`${rawHead(headers, `/%zz${'A'.repeat(14_000)}`)}{}`));
    socket.setTimeout(10_000, () => socket.destroy());
  });
}
