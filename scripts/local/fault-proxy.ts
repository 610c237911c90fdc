/**
 * A TCP proxy that injects network faults between a client and one upstream (an emulator): resets
 * every open connection, black-holes traffic for a while, or delays it. The chaos soak puts one in
 * front of each emulator, so a function sees the faults production's network gives it while the
 * emulators themselves, which keep no data across a restart, stay up.
 *
 * - reset: every open connection is closed with a TCP RST, as a middlebox or a restarted peer does.
 * - stall: nothing moves either way (new connections are accepted and then hang too) until it ends;
 *   then everything held flows again, as when a partition heals and TCP retransmits.
 * - slow: every chunk waits the given delay before it is forwarded, in order.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface FaultProxyStats {
  connections: number;
  resets: number;
  stalls: number;
  stalledMs: number;
  slowdowns: number;
}

export interface FaultProxy {
  /** host:port to hand the client instead of the upstream's. */
  readonly host: string;
  readonly port: number;
  readonly upstream: string;
  readonly stats: FaultProxyStats;
  /** Resets every open connection; returns how many there were. */
  reset(): number;
  /** Holds all traffic for `ms`. Stalls that overlap extend each other. */
  stall(ms: number): void;
  /** Delays every chunk by `delayMs` for the next `forMs`. */
  slow(delayMs: number, forMs: number): void;
  close(): Promise<void>;
}

/** Chunks in flight through the proxy per direction before the sender is held back. */
const MAX_HELD_CHUNKS = 64;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves when `socket` can take more, or will never (closed, reset): a dead peer is not an error here. */
function writable(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    socket.on('drain', done).on('close', done).on('error', done);
  });
}

export async function startFaultProxy(upstream: string, port = 0): Promise<FaultProxy> {
  const separator = upstream.lastIndexOf(':');
  const upstreamHost = upstream.slice(0, separator);
  const upstreamPort = Number(upstream.slice(separator + 1));
  const stats: FaultProxyStats = { connections: 0, resets: 0, stalls: 0, stalledMs: 0, slowdowns: 0 };
  const links = new Set<{ client: Socket; server: Socket | null }>();
  let stalledUntil = 0;
  let stallOver: Promise<void> = Promise.resolve();
  let slowUntil = 0;
  let slowMs = 0;

  const waitWhileStalled = async () => {
    while (performance.now() < stalledUntil) await stallOver;
  };

  /**
   * Forwards src to dst chunk by chunk, in order, through the current faults. A slowdown delays each
   * chunk from its own arrival (latency, as on a long link), not from the previous one's departure,
   * so throughput holds; src is paused only when many chunks are held, as TCP's window would.
   */
  function forward(src: Socket, dst: Socket): void {
    let chain = Promise.resolve();
    let held = 0;
    src.on('data', (chunk: Buffer) => {
      const due = performance.now() < slowUntil ? performance.now() + slowMs : 0;
      held += 1;
      if (held > MAX_HELD_CHUNKS) src.pause();
      chain = chain.then(async () => {
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        await waitWhileStalled();
        if (!dst.destroyed && !dst.write(chunk)) await writable(dst);
        held -= 1;
        if (held <= MAX_HELD_CHUNKS && src.isPaused() && !src.destroyed) src.resume();
      });
    });
    src.on('end', () => void chain.then(() => dst.end()));
  }

  const server = createServer((client) => {
    stats.connections += 1;
    const link: { client: Socket; server: Socket | null } = { client, server: null };
    links.add(link);
    client.pause();
    client.on('error', () => link.server?.destroy());
    client.on('close', () => {
      link.server?.destroy();
      links.delete(link);
    });
    // A connection made during a stall hangs until it ends, like a SYN into a black hole.
    void waitWhileStalled().then(() => {
      if (client.destroyed) return;
      const toUpstream = connect(upstreamPort, upstreamHost);
      link.server = toUpstream;
      toUpstream.on('error', () => (client.destroyed ? undefined : client.resetAndDestroy()));
      toUpstream.on('close', () => client.destroy());
      forward(client, toUpstream);
      forward(toUpstream, client);
      client.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;

  return {
    host: `127.0.0.1:${address.port}`,
    port: address.port,
    upstream,
    stats,
    reset() {
      const count = links.size;
      for (const link of [...links]) {
        link.client.resetAndDestroy();
        link.server?.destroy();
      }
      stats.resets += 1;
      return count;
    },
    stall(ms) {
      const now = performance.now();
      const until = Math.max(stalledUntil, now + ms);
      stats.stalls += 1;
      stats.stalledMs += until - Math.max(stalledUntil, now);
      stalledUntil = until;
      stallOver = sleep(until - now);
    },
    slow(delayMs, forMs) {
      slowMs = delayMs;
      slowUntil = performance.now() + forMs;
      stats.slowdowns += 1;
    },
    async close() {
      stalledUntil = 0;
      for (const link of [...links]) {
        link.client.destroy();
        link.server?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
