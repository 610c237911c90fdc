/**
 * The receiver's gate, in front of the Functions Framework's body parsers.
 *
 * The framework parses every body before the function runs, with a hard-coded 1024 MB limit that
 * body-parser applies after inflating gzip, deflate and brotli: one request can fill an instance's
 * memory (64 MiB of zeros is 106 bytes of brotli) or block its event loop for seconds, and every
 * Customer.io delivery on that instance fails with it. This guard answers before a byte of the body
 * is read or inflated whenever the headers already decide: 405 for a method other than POST, 401
 * for missing or malformed X-CIO headers or a timestamp outside the window, 415 for a
 * Content-Encoding other than identity, gzip, deflate or br, 413 for a declared length over the
 * limit. Otherwise it reads the body itself: counting bytes as they arrive (a body without a length
 * is cut at the limit, a compressed one at the limit of its inflated bytes), holding large ones in a
 * fixed pool of reusable buffers (functions/buffer-pool.ts), and within a time bound. It then hands the request on with
 * `rawBody` set and the stream consumed, so the framework's parsers find the body already read and
 * skip it (body-parser's `onFinished.isFinished(req)` check).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Logger } from '../shared/log.js';
import { LOG_EVENTS } from '../shared/log-events.js';
import { SignatureVerificationError, checkSignatureHeaders } from '../shared/signature.js';
import type { BufferPool } from './buffer-pool.js';

export interface RequestGuardOptions {
  maxBodyBytes: number;
  /** Where bodies over the free size are held (RECEIVER_MAX_BUFFERED_BYTES in all). */
  pool: BufferPool;
  maxAgeSeconds: number | 'off';
  logger: Logger;
  /** Bodies up to this size are plain allocations outside the pool: every genuine webhook fits. */
  freeBytesPerRequest?: number;
  /** The whole body must arrive within this (RECEIVER_BODY_TIMEOUT_MS). */
  bodyTimeoutMs?: number;
  /** How long a request may wait for room in the pool before it is answered 503. */
  poolWaitMs?: number;
  now?: () => Date;
}

export type GuardedRequest = IncomingMessage & { rawBody?: Buffer };
export type RequestGuard = (req: GuardedRequest, res: ServerResponse, next: () => void) => void;

/** Encodings the guard inflates itself, each with a hard cap on the inflated bytes. */
const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** The rest of a refused body is read and dropped for at most this long, and this much (or the body limit, if larger). */
const DRAIN_MS = 5_000;
const DRAIN_BYTES = 16 * 1024 * 1024;
/** A body of unknown length starts in a buffer this big and doubles from there. */
const SMALLEST_READ = 16 * 1024;

/**
 * Answers a request the guard refuses, at once, then reads what is left of its body and drops it
 * (no memory kept) before closing the connection. Closing under a client that is still sending
 * makes TCP reset it, and the answer is usually lost with the reset; so the answer is sent with
 * "Connection: keep-alive" (Node would otherwise close right after it when the client asked for
 * "close"), the rest is drained, and the socket is ended gracefully once the body is in. A body that
 * goes on past `drainLimit`, or for longer than DRAIN_MS, or that stopped arriving (408), is cut.
 */
function reply(req: IncomingMessage, res: ServerResponse, status: number, error: string, drainLimit: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const body = JSON.stringify({ error });
  const finished = req.complete || req.readableEnded;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: finished ? 'close' : 'keep-alive',
    ...headers,
  });
  res.end(body);
  if (finished) return;
  const cut = () => {
    clearTimeout(timer);
    if (res.writableFinished) req.destroy();
    else res.once('finish', () => req.destroy());
  };
  const timer = setTimeout(cut, status === 408 ? 0 : DRAIN_MS);
  timer.unref();
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > drainLimit) cut();
  });
  req.once('end', () => {
    clearTimeout(timer);
    req.socket.end();
  });
  req.once('error', () => clearTimeout(timer));
  req.resume();
}

export function createRequestGuard(options: RequestGuardOptions): RequestGuard {
  const { maxBodyBytes, pool, logger, now = () => new Date() } = options;
  const drainLimit = Math.max(maxBodyBytes, DRAIN_BYTES);
  const free = options.freeBytesPerRequest ?? 256 * 1024;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 5_000;
  const poolWaitMs = options.poolWaitMs ?? 2_000;

  return function guard(req, res, next) {
    const reject = (status: number, error: string, fields: Record<string, unknown>, headers?: Record<string, string>) => {
      // A GET or HEAD at a public URL is a probe or a crawler, not a sender gone wrong: DEBUG.
      logger[status === 405 ? 'debug' : 'warn']('request rejected before its body was read', { status, ...fields });
      reply(req, res, status, error, drainLimit, headers);
    };

    if (req.method !== 'POST') return reject(405, 'method not allowed; Customer.io sends POST', { method: req.method }, { allow: 'POST' });
    try {
      checkSignatureHeaders({
        timestamp: req.headers['x-cio-timestamp'] as string | undefined,
        signature: req.headers['x-cio-signature'] as string | undefined,
        now: now(),
        maxAgeSeconds: options.maxAgeSeconds,
      });
    } catch (error) {
      if (!(error instanceof SignatureVerificationError)) throw error;
      // The same message the receiver logs after the HMAC, so the log-based metric counts both.
      logger.warn(LOG_EVENTS.signatureRejected, { reason: error.reason, detail: error.message, stage: 'headers' });
      return reply(req, res, 401, 'invalid signature', drainLimit);
    }
    const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    const decoder = encoding === 'identity' || encoding === '' ? null : DECODERS[encoding];
    if (decoder === undefined) return reject(415, 'unsupported Content-Encoding; send identity, gzip, deflate or br', { encoding: encoding.slice(0, 64) });
    // Bodies are UTF-8 (Customer.io sends JSON); another declared charset would be a different text.
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(String(req.headers['content-type'] ?? ''))?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
      return reject(415, 'unsupported charset; send UTF-8', { charset: charset.slice(0, 32) });
    }
    const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
    if (declared !== null && declared > maxBodyBytes) return reject(413, `body over ${maxBodyBytes} bytes`, { declared_bytes: declared, limit: maxBodyBytes });

    void readBody(req, res, next, decoder === null ? null : decoder(), declared);
  };

  async function readBody(req: GuardedRequest, res: ServerResponse, next: () => void, decoder: Transform | null, declared: number | null): Promise<void> {
    // The body's buffer: small ones are plain allocations, larger ones come from the pool and go
    // back to it when the response is done (nothing reads the body after that: the row and the
    // message are copies).
    let pooled: Buffer | null = null;
    const giveBack = () => {
      if (pooled) pool.release(pooled);
      pooled = null;
    };
    res.once('close', giveBack);
    const room = async (bytes: number): Promise<Buffer | null> => {
      if (bytes <= free) return Buffer.allocUnsafe(bytes);
      const acquired = await pool.acquire(bytes, poolWaitMs);
      if (acquired) {
        giveBack();
        pooled = acquired;
      }
      return acquired;
    };

    // A known length is read straight into one buffer of that size (reserved before reading), so a
    // body costs its own size once, not twice as chunks and their concatenation.
    const known = declared !== null && decoder === null;
    let buffer = await room(known ? declared! : Math.min(SMALLEST_READ, maxBodyBytes));
    if (!buffer) {
      logger.warn('request rejected before its body was read', { status: 503, reason: 'buffer pool exhausted', declared_bytes: declared });
      return reply(req, res, 503, 'receiver busy; retry later', drainLimit);
    }
    if (res.writableEnded || req.destroyed) return giveBack();

    const source: NodeJS.ReadableStream & { pause(): unknown; resume(): unknown } = decoder ?? req;
    let size = 0;
    let settled = false;
    const timer = setTimeout(() => fail(408, 'body not received in time', { timeout_ms: bodyTimeoutMs, bytes: size }), bodyTimeoutMs);

    function fail(status: number, error: string, fields: Record<string, unknown>) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (decoder) {
        req.unpipe(decoder);
        decoder.destroy();
      }
      logger.warn('request rejected while its body was read', { status, ...fields });
      reply(req, res, status, error, drainLimit);
      giveBack();
    }

    const append = (chunk: Buffer) => {
      chunk.copy(buffer!, size);
      size += chunk.length;
    };
    source.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (size + chunk.length > maxBodyBytes) return fail(413, `body over ${maxBodyBytes} bytes`, { bytes: size + chunk.length, limit: maxBodyBytes, inflated: decoder !== null });
      if (size + chunk.length <= buffer!.length) return append(chunk);
      // Unknown length: grow by doubling, never past the limit, waiting for pool room if need be.
      source.pause();
      const previous = buffer!;
      const wanted = Math.min(maxBodyBytes, Math.max(size + chunk.length, previous.length * 2));
      void room(wanted).then((grown) => {
        if (settled) return;
        if (!grown) return fail(503, 'receiver busy; retry later', { reason: 'buffer pool exhausted', bytes: size });
        previous.copy(grown, 0, 0, size);
        buffer = grown;
        append(chunk);
        source.resume();
      });
    });
    source.once('end', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.rawBody = buffer!.subarray(0, size);
      next();
    });
    source.once('error', (error: Error) => {
      if (decoder) return fail(400, 'body could not be decompressed', { encoding: req.headers['content-encoding'], error: error.message });
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      giveBack();
    });
    req.once('aborted', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      giveBack();
    });
    if (decoder) {
      // The compressed bytes are bounded too (a stream of empty blocks inflates to nothing).
      let compressed = 0;
      req.on('data', (chunk: Buffer) => {
        compressed += chunk.length;
        if (compressed > maxBodyBytes) fail(413, `body over ${maxBodyBytes} bytes`, { bytes: compressed, limit: maxBodyBytes, inflated: false });
      });
      req.pipe(decoder);
    }
  }
}
