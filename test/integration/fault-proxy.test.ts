/**
 * The chaos soak's fault proxy, against a real TCP echo server on loopback: it forwards both ways,
 * and each fault does what the soak's report says it did.
 */
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../scripts/local/fault-proxy.js';

let echo: Server;
let proxy: FaultProxy;
const clients: Socket[] = [];

beforeAll(async () => {
  echo = createServer((socket) => {
    // A reset through the proxy reaches this end as a connection error: expected, not a failure.
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await proxy?.close();
});

async function startProxy() {
  proxy = await startFaultProxy(`127.0.0.1:${(echo.address() as AddressInfo).port}`);
  return proxy;
}

async function open(): Promise<Socket> {
  const socket = connect(proxy.port, '127.0.0.1');
  clients.push(socket);
  await once(socket, 'connect');
  return socket;
}

/** Sends `text` and resolves with the ms until the echo of all of it came back. */
async function roundTrip(socket: Socket, text: string): Promise<number> {
  const started = performance.now();
  let received = '';
  const done = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      received += chunk.toString();
      if (received.length >= text.length) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  socket.write(text);
  await done;
  expect(received).toBe(text);
  return performance.now() - started;
}

describe('the fault proxy', () => {
  it('forwards both ways, large payloads included', async () => {
    await startProxy();
    const socket = await open();
    expect(await roundTrip(socket, 'hello')).toBeLessThan(1000);
    await roundTrip(socket, 'x'.repeat(4 * 1024 * 1024));
    expect(proxy.stats.connections).toBe(1);
  });

  it('reset: open connections fail with ECONNRESET, and new ones work', async () => {
    await startProxy();
    const socket = await open();
    await roundTrip(socket, 'before');
    const failed = once(socket, 'error');
    expect(proxy.reset()).toBe(1);
    const [error] = await failed;
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(await roundTrip(await open(), 'after')).toBeLessThan(1000);
  });

  it('survives either peer resetting in the middle of a large transfer, and serves the next connection', async () => {
    await startProxy();
    // The proxy resets: while it is still forwarding 16 MiB.
    const first = await open();
    first.on('error', () => undefined);
    first.on('data', () => undefined);
    first.write(Buffer.alloc(16 * 1024 * 1024, 7));
    await new Promise((r) => setTimeout(r, 20));
    proxy.reset();
    // The client resets (a process killed): it stopped reading, so the proxy waits to write to it.
    const second = await open();
    second.pause();
    second.write(Buffer.alloc(16 * 1024 * 1024, 7));
    await new Promise((r) => setTimeout(r, 300));
    second.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 200));
    expect(await roundTrip(await open(), 'still here')).toBeLessThan(1000);
  });

  it('stall: nothing moves until it ends, on open connections and on new ones; then everything arrives', async () => {
    await startProxy();
    const socket = await open();
    await roundTrip(socket, 'warm');
    proxy.stall(600);
    const [held, fresh] = await Promise.all([roundTrip(socket, 'held'), open().then((s) => roundTrip(s, 'new'))]);
    expect(held).toBeGreaterThanOrEqual(550);
    expect(fresh).toBeGreaterThanOrEqual(400);
    expect(proxy.stats.stalledMs).toBeGreaterThanOrEqual(599);
    expect(await roundTrip(socket, 'flowing')).toBeLessThan(300);
  });

  it('slow: each chunk waits the delay, in order, for as long as asked', async () => {
    await startProxy();
    const socket = await open();
    proxy.slow(150, 700);
    // A round trip is two forwarded chunks (there and back): at least twice the delay.
    expect(await roundTrip(socket, 'slow')).toBeGreaterThanOrEqual(290);
    await new Promise((r) => setTimeout(r, 700));
    expect(await roundTrip(socket, 'fast again')).toBeLessThan(140);
  });

  it('slow adds latency, not a queue: chunks sent close together are delayed together', async () => {
    await startProxy();
    const socket = await open();
    proxy.slow(200, 5000);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const started = performance.now();
    for (let i = 0; i < 8; i++) {
      socket.write(`chunk${i};`);
      await new Promise((r) => setTimeout(r, 25));
    }
    while (received.split(';').length < 9) await new Promise((r) => setTimeout(r, 10));
    // Eight chunks one after another would take 8 × 2 × 200 ms; as latency they take about 2 × 200 + 8 × 25.
    expect(performance.now() - started).toBeLessThan(1500);
    expect(received).toBe(Array.from({ length: 8 }, (_, i) => `chunk${i};`).join(''));
  });
});
