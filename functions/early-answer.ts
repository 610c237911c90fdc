/**
 * Answering a request before its body has been read, without poisoning its connection.
 *
 * Behind a proxy that keeps connections to the instance open (Google's front end may; nginx does
 * with an upstream `keepalive` pool), the next request on a connection can be anyone's. So an early
 * answer says the truth about the connection and then keeps its word:
 * - the rest of the body is declared and small enough to drain (or its length is unknown): the
 *   answer says keep-alive, the rest is read and dropped (no memory kept), and the connection serves
 *   the next request. A body that goes on past the bound, or for longer than the drain time, is cut:
 *   its client is still sending, so no other request can be on that connection yet;
 * - the rest is larger than the bound, or the client asked to close: the answer says
 *   `Connection: close`, the write side is shut right after it, and the rest is drained (bounded)
 *   before the socket closes ("lingering close", RFC 9112 §9.6): closing while the client still sends
 *   makes the kernel reset the connection, and the reset can destroy the answer before it is read;
 * - 408 (the body stopped coming): `Connection: close` and close at once, nothing is left to drain.
 * A request whose body is already complete is answered the way Node answers any request (keep-alive
 * unless the client asked otherwise), so pipelined requests after a bodiless one are served.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface DrainBounds {
  /** The most of a refused body read and dropped after the answer. */
  bytes: number;
  ms: number;
}

export interface EarlyAnswer {
  status: number;
  error: string;
  headers?: Record<string, string>;
}

/** Whether the client intends to reuse the connection (HTTP/1.1 unless "close"; HTTP/1.0 only with "keep-alive"). */
export function clientKeepsAlive(req: IncomingMessage): boolean {
  const tokens = String(req.headers.connection ?? '').toLowerCase().split(',').map((t) => t.trim());
  if (tokens.includes('close')) return false;
  return req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) || tokens.includes('keep-alive');
}

function declaredLength(req: IncomingMessage): number | null {
  const raw = req.headers['content-length'];
  return raw === undefined ? null : Number(raw);
}

/**
 * Node ends a `Connection: close` response with socket.destroySoon(): the answer, a FIN, and
 * close(2) as soon as the answer is flushed — a reset if the client is still sending. For this
 * socket only, end the write side; the drain below closes it once the body is in or the bound is hit.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function endWriteSide(this: Socket) {
    this.end();
  };
}

export function answerEarly(req: IncomingMessage, res: ServerResponse, { status, error, headers = {} }: EarlyAnswer, bounds: DrainBounds): void {
  if (res.headersSent) return;
  const body = JSON.stringify({ error });
  const declared = declaredLength(req);
  // A request without a body is complete once its headers are (Node marks it so only after the
  // 'request' event): it is answered as Node answers any request.
  const bodyless = declared === null ? req.headers['transfer-encoding'] === undefined : declared === 0;
  const unread = !bodyless && !(req.complete || req.readableEnded);
  const stalled = status === 408;
  const keep = unread && !stalled && clientKeepsAlive(req) && (declared === null || declared <= bounds.bytes);
  const fields: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), ...headers };
  if (unread) fields.connection = keep ? 'keep-alive' : 'close';
  if (unread && !stalled) {
    if (!keep) lingerOnClose(req.socket);
    drain(req, keep ? 'keep' : 'close', bounds);
  }
  res.writeHead(status, fields);
  res.end(body);
}

/** Reads and drops the rest of the body within `bounds`, then keeps or closes the connection. */
function drain(req: IncomingMessage, after: 'keep' | 'close', bounds: DrainBounds): void {
  const socket = req.socket;
  let drained = 0;
  const cut = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(cut, bounds.ms);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > bounds.bytes) cut();
  });
  req.once('end', () => {
    clearTimeout(timer);
    // Everything the client sent for this request is in: closing now cannot reset the answer.
    if (after === 'close') socket.destroy();
  });
  req.once('error', () => clearTimeout(timer));
  socket.once('close', () => clearTimeout(timer));
  req.resume();
}
