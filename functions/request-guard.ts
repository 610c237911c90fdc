/**
 * The receiver's gate, in front of the Functions Framework's body parsers.
 *
 * The framework parses every body before the function runs, with a hard-coded 1024 MB limit that
 * body-parser applies after inflating gzip, deflate and brotli: one request can fill an instance's
 * memory (64 MiB of zeros is 106 bytes of brotli) or block its event loop for seconds, and every
 * Customer.io delivery on that instance fails with it. This guard answers before a byte of the body
 * is read or inflated whenever the headers already decide: 405 for a method other than POST, 400
 * for a URL the framework's router could not decode, 401 for missing or malformed X-CIO headers or
 * a timestamp outside the window, 415 for a Content-Encoding other than identity, gzip, deflate or
 * br, 413 for a declared length over the limit, and with several workspaces 404 for a path that names
 * none of them. Otherwise it reads the body itself: counting bytes
 * as they arrive (a body without a length is cut at the limit, a compressed one at the limit of its
 * inflated bytes), reserving memory only for bytes received (functions/body-buffer.ts) with large
 * bodies in a fixed pool of reusable buffers (functions/buffer-pool.ts), within a time bound. It
 * hands the request on with `rawBody` set and the stream consumed, so
 * the framework's parsers find the body already read and skip it (body-parser's
 * `onFinished.isFinished(req)` check). Every refusal is one JSON answer that leaves the connection
 * safe for the next request (functions/early-answer.ts) and at most one log line.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Logger } from '../shared/log.js';
import { LOG_EVENTS } from '../shared/log-events.js';
import { SignatureVerificationError, checkSignatureHeaders } from '../shared/signature.js';
import { newTrace, traceLogFields, traceOfHeaders, type TraceContext } from '../shared/trace-context.js';
import { workspaceOfPath, type Workspace } from '../shared/workspaces.js';
import { BodyBuffer, FREE_BODY_BYTES } from './body-buffer.js';
import type { BufferPool } from './buffer-pool.js';
import { answerEarly, type DrainBounds, type EarlyAnswer } from './early-answer.js';

export interface RequestGuardOptions {
  maxBodyBytes: number;
  /** Several workspaces: a POST must name one in its path (`/<workspace>`); null or absent: any path. */
  workspaces?: readonly Workspace[] | null;
  /** Where bodies over the free size are held (RECEIVER_MAX_BUFFERED_BYTES in all). */
  pool: BufferPool;
  maxAgeSeconds: number | 'off';
  logger: Logger;
  /** The project the trace ids in the log entries belong to. */
  project: string;
  /** Bodies up to this size are plain allocations outside the pool: every genuine webhook fits. */
  freeBytesPerRequest?: number;
  /** The whole body must arrive within this (RECEIVER_BODY_TIMEOUT_MS). */
  bodyTimeoutMs?: number;
  /** How long a request may wait for room in the pool before it is answered 503. */
  poolWaitMs?: number;
  now?: () => Date;
}

/** `trace`: the request's trace (from Cloud Run's headers, or one of our own), for every entry about it. */
export type GuardedRequest = IncomingMessage & { rawBody?: Buffer; trace?: TraceContext };
export type RequestGuard = (req: GuardedRequest, res: ServerResponse, next: () => void) => void;

/** The answer to a path that names none of the workspaces (with several). */
export const UNKNOWN_WORKSPACE_ERROR = 'unknown workspace path; post to /<workspace>';

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
/** Longest piece of a refused URL or header value copied into a log line. */
const LOGGED_CHARS = 64;

/** Whether the router can decode the path (Express 5 answers a bad percent-escape with an HTML 400 and a stack trace on stderr). */
function decodablePath(url: string | undefined): boolean {
  const path = (url ?? '/').split('?')[0]!;
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

export function createRequestGuard(options: RequestGuardOptions): RequestGuard {
  const { maxBodyBytes, pool, logger, now = () => new Date() } = options;
  const drain: DrainBounds = { bytes: Math.max(maxBodyBytes, DRAIN_BYTES), ms: DRAIN_MS };
  const free = options.freeBytesPerRequest ?? FREE_BODY_BYTES;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 5_000;
  const poolWaitMs = options.poolWaitMs ?? 2_000;

  return function guard(req, res, next) {
    req.trace = traceOfHeaders(req.headers) ?? newTrace();
    let log = logger.child(traceLogFields(options.project, req.trace));
    const refuse = (answer: EarlyAnswer, fields: Record<string, unknown>) => {
      // A GET or HEAD at a public URL is a probe or a crawler, not a sender gone wrong: DEBUG.
      log[answer.status === 405 ? 'debug' : 'warn']('request rejected before its body was read', { status: answer.status, ...fields });
      answerEarly(req, res, answer, drain);
    };

    if (req.method !== 'POST') return refuse({ status: 405, error: 'method not allowed; Customer.io sends POST', headers: { allow: 'POST' } }, { method: req.method });
    if (!decodablePath(req.url)) return refuse({ status: 400, error: 'malformed URL' }, { reason: 'malformed URL', url: (req.url ?? '').slice(0, LOGGED_CHARS), url_length: req.url?.length ?? 0 });
    if (options.workspaces) {
      // Decided by the path alone: a webhook pasted without its workspace, or a scanner, reads no body.
      const workspace = workspaceOfPath(req.url ?? '/', options.workspaces);
      if (!workspace) return refuse({ status: 404, error: UNKNOWN_WORKSPACE_ERROR }, { reason: 'unknown workspace path', url: (req.url ?? '').slice(0, LOGGED_CHARS) });
      log = log.child({ workspace: workspace.name });
    }
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
      log.warn(LOG_EVENTS.signatureRejected, { status: 401, reason: error.reason, detail: error.message, stage: 'headers' });
      return answerEarly(req, res, { status: 401, error: 'invalid signature' }, drain);
    }
    const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    const decoder = encoding === 'identity' || encoding === '' ? null : DECODERS[encoding];
    if (decoder === undefined) return refuse({ status: 415, error: 'unsupported Content-Encoding; send identity, gzip, deflate or br' }, { encoding: encoding.slice(0, LOGGED_CHARS) });
    // Bodies are UTF-8 (Customer.io sends JSON); another declared charset would be a different text.
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(String(req.headers['content-type'] ?? ''))?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
      return refuse({ status: 415, error: 'unsupported charset; send UTF-8' }, { charset: charset.slice(0, 32) });
    }
    const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
    if (declared !== null && declared > maxBodyBytes) return refuse({ status: 413, error: `body over ${maxBodyBytes} bytes` }, { declared_bytes: declared, limit: maxBodyBytes });

    readBody(req, res, next, log, decoder === null ? null : decoder(), declared);
  };

  function readBody(req: GuardedRequest, res: ServerResponse, next: () => void, log: Logger, decoder: Transform | null, declared: number | null): void {
    // Memory for the bytes that arrive, not for the declared length: a known length only caps the
    // buffer (a compressed body's inflated size is not known in advance).
    const body = new BodyBuffer({ pool, freeBytes: free, capacityLimit: declared !== null && decoder === null ? declared : maxBodyBytes, poolWaitMs });
    // When the response is done (or the client gone), nothing reads the body any more: the row and
    // the message are copies.
    res.once('close', () => {
      settle();
      body.release();
    });

    const source: NodeJS.ReadableStream & { pause(): unknown; resume(): unknown } = decoder ?? req;
    let settled = false;
    const timer = setTimeout(() => fail(408, 'body not received in time', { timeout_ms: bodyTimeoutMs, bytes: body.size }), bodyTimeoutMs);
    function settle(): boolean {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      return true;
    }

    function fail(status: number, error: string, fields: Record<string, unknown>) {
      if (!settle()) return;
      if (decoder) {
        req.unpipe(decoder);
        decoder.destroy();
      }
      log.warn('request rejected while its body was read', { status, ...fields });
      answerEarly(req, res, { status, error }, drain);
      body.release();
    }

    source.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (body.size + chunk.length > maxBodyBytes) return fail(413, `body over ${maxBodyBytes} bytes`, { bytes: body.size + chunk.length, limit: maxBodyBytes, inflated: decoder !== null });
      if (body.fits(chunk)) return body.append(chunk);
      // Grow, never past the limit, waiting for pool room if need be.
      source.pause();
      void body.grow(body.size + chunk.length).then((grown) => {
        if (settled) return;
        if (!grown) return fail(503, 'receiver busy; retry later', { reason: 'buffer pool exhausted', bytes: body.size });
        body.append(chunk);
        source.resume();
      });
    });
    source.once('end', () => {
      if (!settle()) return;
      req.rawBody = body.bytes();
      next();
    });
    source.once('error', (error: Error) => {
      if (decoder) return fail(400, 'body could not be decompressed', { encoding: req.headers['content-encoding'], error: error.message });
      settle();
      body.release();
    });
    if (decoder) {
      // The compressed bytes are bounded too (a stream of empty blocks inflates to nothing).
      let compressed = 0;
      req.on('data', (chunk: Buffer) => {
        compressed += chunk.length;
        if (compressed > maxBodyBytes) fail(413, `body over ${maxBodyBytes} bytes`, { bytes: compressed, limit: maxBodyBytes, inflated: false });
      });
      req.once('error', () => {
        settle();
        body.release();
      });
      req.pipe(decoder);
    }
  }
}
