/**
 * A raw HTTP/1.1 client over one TCP connection, for tests where "the same connection" must be
 * literal: it collects every byte the server sends and how the connection ended, and never closes
 * or answers on its own.
 */
import { connect, type Socket } from 'node:net';
import { sleep } from './waiting.js';

export interface RawClient {
  socket: Socket;
  state: {
    /** Everything received, as latin1. */
    text: string;
    /** The server ended its side (FIN). */
    ended: boolean;
    /** The socket is closed both ways (after a reset, or once this side ended too). */
    closed: boolean;
    error: string | null;
    written: number;
  };
  /** Polls `check` every 10 ms; throws naming `what` (and what arrived) after `ms`. */
  until(check: () => boolean, what: string, ms?: number): Promise<void>;
  /** Writes `bytes` in `pieces`, 5 ms apart, stopping if the socket is gone. */
  writeSlowly(bytes: Buffer, pieces: number): Promise<void>;
  /** The status lines received so far (`HTTP/1.1 401`, …). */
  answers(): string[];
}

/** Half-open allowed: like a client mid-upload, it goes on sending after the server's FIN. */
export function rawClient(port: number): RawClient {
  const socket: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const state: RawClient['state'] = { text: '', ended: false, closed: false, error: null, written: 0 };
  socket.on('data', (d) => (state.text += d.toString('latin1')));
  socket.on('end', () => (state.ended = true));
  socket.on('close', () => (state.closed = true));
  socket.on('error', (e: NodeJS.ErrnoException) => (state.error = e.code ?? e.message));
  const until = async (check: () => boolean, what: string, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(state.text.slice(0, 300))}`);
      await sleep(10);
    }
  };
  const writeSlowly = async (bytes: Buffer, pieces: number) => {
    const size = Math.ceil(bytes.length / pieces);
    for (let i = 0; i < bytes.length && !socket.destroyed; i += size) {
      socket.write(bytes.subarray(i, i + size));
      state.written += Math.min(size, bytes.length - i);
      await sleep(5);
    }
  };
  return { socket, state, until, writeSlowly, answers: () => state.text.match(/HTTP\/1\.1 \d{3}/g) ?? [] };
}

/** A request head; `connection` only if given (HTTP/1.1 keeps the connection alive by default). */
export const requestHead = (headers: Record<string, string>, method = 'POST', path = '/') =>
  `${method} ${path} HTTP/1.1\r\n${Object.entries({ host: '127.0.0.1', ...headers }).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
