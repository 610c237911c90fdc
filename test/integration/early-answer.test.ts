/**
 * Answers given before a request's body is read (functions/early-answer.ts), on a real node:http
 * server over loopback, driven byte by byte from raw sockets so that "the same connection" is
 * literal: the next request after an early answer is served on it, pipelined requests after a
 * bodiless one are served, and a connection that closes does so without resetting the answer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerEarly } from '../../functions/early-answer.js';
import { rawClient, requestHead } from '../support/raw-client.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BOUNDS = { bytes: 2 * MiB, ms: 3_000 };

let server: http.Server;
let port: number;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.method !== 'POST') return answerEarly(req, res, { status: 405, error: 'POST only', headers: { allow: 'POST' } }, BOUNDS);
    if (req.headers['x-refuse']) return answerEarly(req, res, { status: 401, error: 'refused' }, BOUNDS);
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`read ${bytes}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const client = () => rawClient(port);
const head = requestHead;

describe('an early answer leaves the connection safe', () => {
  it('keeps the connection of a body still arriving: the rest is drained and the next request is served on it', async () => {
    const c = client();
    c.socket.write(head({ 'x-refuse': '1', 'content-length': String(MiB) }));
    await c.until(() => c.state.text.includes('{"error":"refused"}'), 'the early answer');
    expect(c.state.text).toMatch(/^HTTP\/1\.1 401/);
    expect(c.state.text.toLowerCase()).toContain('connection: keep-alive');
    await c.writeSlowly(Buffer.alloc(MiB, 0x61), 16);
    c.socket.write(`${head({ 'content-length': '5' })}hello`);
    await c.until(() => c.state.text.includes('read 5'), 'the next request\'s answer');
    expect(c.answers()).toEqual(['HTTP/1.1 401', 'HTTP/1.1 200']);
    expect([c.state.ended, c.state.error]).toEqual([false, null]);
    c.socket.destroy();
  });

  it('serves requests pipelined after a bodiless one it refused', async () => {
    const c = client();
    c.socket.write(`${head({}, 'GET')}${head({ 'content-length': '5' })}hello${head({ 'content-length': '3' })}abc`);
    await c.until(() => c.state.text.includes('read 3'), 'all three answers');
    expect(c.answers()).toEqual(['HTTP/1.1 405', 'HTTP/1.1 200', 'HTTP/1.1 200']);
    expect(c.state.text).toContain('read 5');
    c.socket.destroy();
  });

  it('closes a connection its client asked to close only after the body is in (lingering close)', async () => {
    const c = client();
    c.socket.write(head({ 'x-refuse': '1', connection: 'close', 'content-length': String(2 * MiB) }));
    await c.until(() => c.state.text.includes('{"error":"refused"}'), 'the early answer');
    expect(c.state.text.toLowerCase()).toContain('connection: close');
    // Node's own close (destroySoon) closes right after the answer, under a client still sending:
    // the kernel answers its next bytes with a reset, which over a real network can destroy the
    // answer before it is read. Here the server ends its side after the answer (FIN) but reads on
    // until the body is in.
    await c.writeSlowly(Buffer.alloc(2 * MiB, 0x62), 32);
    c.socket.end();
    await c.until(() => c.state.closed, 'the connection to close');
    expect(c.state.error).toBeNull();
    expect(c.state.written).toBe(2 * MiB);
    expect(c.answers()).toEqual(['HTTP/1.1 401']);
  });

  it('says Connection: close when the rest is over the drain bound, and cuts the connection at the bound', async () => {
    const c = client();
    c.socket.write(head({ 'x-refuse': '1', 'content-length': String(8 * MiB) }));
    await c.until(() => c.state.text.includes('{"error":"refused"}'), 'the early answer');
    expect(c.state.text.toLowerCase()).toContain('connection: close');
    await c.writeSlowly(Buffer.alloc(8 * MiB, 0x63), 64);
    await c.until(() => c.state.closed, 'the cut');
    expect(c.answers()).toEqual(['HTTP/1.1 401']);
  });
});
