/**
 * The receiver HTTP function: verify X-CIO-Signature, normalize, publish, and answer 2xx only once
 * Pub/Sub has acknowledged the publish (architecture doc, "Receiver HTTP contract").
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import type { ReceiverConfig } from '../shared/config.js';
import { createDeadlineGroup } from '../shared/deadline.js';
import type { Logger } from '../shared/log.js';
import { LOG_EVENTS } from '../shared/log-events.js';
import { EVENT_ID_HASH_PREFIX, MAX_EVENT_ID_BYTES, bodyText, normalizeWebhook, parseBody } from '../shared/normalize.js';
import { attributesOf } from '../shared/row.js';
import { SignatureVerificationError, verifySignature } from '../shared/signature.js';
import { newTrace, traceLogFields, traceOfHeaders, type TraceContext } from '../shared/trace-context.js';
import { workspaceOfPath } from '../shared/workspaces.js';
import { FREE_BODY_BYTES } from './body-buffer.js';
import type { ByteGate } from './byte-gate.js';
import type { Publisher } from './pubsub-publisher.js';
import { UNKNOWN_WORKSPACE_ERROR } from './request-guard.js';

/** With the age check off, timestamps older than this are still logged: a sign of backlog or replay. */
export const STALE_LOG_SECONDS = 300;
/** Pub/Sub's message limit is 10 MB; leave room for the attributes. */
export const MAX_MESSAGE_BYTES = 9_900_000;
/**
 * How long a large signed body may wait for its turn in the processing gate before 503: what is
 * left of Customer.io's 4 s after the upload and the publish's own bound (RECEIVER_PUBLISH_TIMEOUT_MS,
 * 2 s by default).
 */
export const PROCESSING_WAIT_MS = 1_000;

export interface ReceiverDeps {
  config: ReceiverConfig;
  publisher: Publisher;
  logger: Logger;
  /**
   * The keys in force for a request's workspace (null: the one workspace); required when the config
   * names a secret (receiver-wiring.ts reads it).
   */
  signingKeys?: (workspace: string | null) => Promise<readonly string[]>;
  /** Bodies over the free size are processed only as many bytes at a time as this holds. */
  processing?: ByteGate;
  now?: () => Date;
}

const EMPTY = Buffer.alloc(0);

/**
 * The framework's parsers skip a request without a Content-Type, leaving its body unread and
 * `rawBody` unset; read it here so the signature is checked against the bytes actually sent. Past
 * the limit the rest is drained, not kept (stopping early would destroy the socket before the 413).
 */
async function readUnparsedBody(req: Request, limit: number): Promise<Buffer> {
  if (req.readableEnded || (req.complete && req.readableLength === 0)) return EMPTY;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    if (size <= limit) chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks);
}

/** application/json and application/*+json, whatever their parameters. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

function reply(res: Response, status: number, error: string): void {
  res.status(status).json({ error });
}

/** The keys the configuration gives directly, per workspace (null: the one); a secret needs a reader. */
function givenKeys(config: ReceiverConfig): (workspace: string | null) => Promise<readonly string[]> {
  const sets = config.workspaces ? config.workspaces.map((w) => [w.name, w.signingKeys] as const) : [[null, config.signingKeys] as const];
  const keys = new Map<string | null, readonly string[]>();
  for (const [workspace, given] of sets) {
    if (given.kind === 'secret') throw new Error(`the receiver needs a reader for ${given.secret}`);
    keys.set(workspace, given.value);
  }
  return async (workspace) => keys.get(workspace) ?? [];
}

export function createReceiver({ config, publisher, logger: processLogger, signingKeys, processing, now = () => new Date() }: ReceiverDeps) {
  const withinPublishTimeout = createDeadlineGroup(config.publishTimeoutMs, 'publish');
  const currentKeys = signingKeys ?? givenKeys(config);
  return async function receiver(req: Request, res: Response): Promise<void> {
    const started = performance.now();
    // The request guard found (or made) the trace already; without it (tests), read the headers.
    const trace = (req as Request & { trace?: TraceContext }).trace ?? traceOfHeaders(req.headers) ?? newTrace();
    let logger = processLogger.child(traceLogFields(config.project, trace));
    if (req.method !== 'POST') {
      res.set('Allow', 'POST');
      return reply(res, 405, 'method not allowed; Customer.io sends POST');
    }
    // Several workspaces: the path names the workspace, and only its keys verify the request. The
    // request guard answers an unknown path before the body is read; this holds without the guard.
    let workspace: string | null = null;
    if (config.workspaces) {
      workspace = workspaceOfPath(req.originalUrl || req.url, config.workspaces)?.name ?? null;
      if (workspace === null) {
        logger.warn('webhook to a path that names no workspace', { status: 404, url: (req.originalUrl || req.url).slice(0, 64) });
        return reply(res, 404, UNKNOWN_WORKSPACE_ERROR);
      }
      logger = logger.child({ workspace });
    }
    const keys = await currentKeys(workspace);
    if (keys.length === 0) {
      logger.error('no signing key configured: add a version to the signing-keys secret; answering 503 so Customer.io retries', { status: 503 });
      return reply(res, 503, 'receiver not configured yet; retry later');
    }
    const body = req.rawBody ?? (await readUnparsedBody(req, config.maxBodyBytes));
    if (body.length > config.maxBodyBytes) {
      logger.warn('webhook body over the size limit', { status: 413, bytes: body.length, limit: config.maxBodyBytes });
      return reply(res, 413, `body over ${config.maxBodyBytes} bytes`);
    }

    const receivedAt = now();
    try {
      const { ageSeconds } = verifySignature({
        body,
        timestamp: req.get('x-cio-timestamp'),
        signature: req.get('x-cio-signature'),
        keys,
        now: receivedAt,
        maxAgeSeconds: config.maxAgeSeconds,
      });
      if (config.maxAgeSeconds === 'off' && ageSeconds > STALE_LOG_SECONDS) {
        logger.warn('stale X-CIO-Timestamp accepted (CIO_SIGNATURE_MAX_AGE_SECONDS is 0)', { age_seconds: ageSeconds });
      }
    } catch (error) {
      if (!(error instanceof SignatureVerificationError)) throw error;
      // The reason is for operators; the caller learns nothing about which check failed.
      logger.warn(LOG_EVENTS.signatureRejected, { status: 401, reason: error.reason, detail: error.message, bytes: body.length });
      return reply(res, 401, 'invalid signature');
    }

    // Processing copies a body several times outside the buffer pool (functions/byte-gate.ts):
    // large ones take turns, within what Customer.io's 4 s leave; a forged one never gets here.
    const leave = processing && body.length > FREE_BODY_BYTES ? await processing.enter(body.length, PROCESSING_WAIT_MS) : () => undefined;
    if (!leave) {
      logger.warn('signed webhook refused: large bodies in processing fill the gate; answering 503 so Customer.io retries', { status: 503, bytes: body.length, gate_bytes: processing!.total });
      return reply(res, 503, 'receiver busy; retry later');
    }
    try {
      const text = bodyText(body);
      const parsed = parseBody(text);
      // Customer.io always sends JSON: a JSON body that does not parse is answered 400 (the contract's
      // row; the framework's parser used to give it, the request guard now reads bodies itself).
      // Other content types are stored whatever they hold.
      if (!parsed.json && isJsonMediaType(req.get('content-type'))) {
        logger.warn('signed JSON body that does not parse', { status: 400, bytes: body.length });
        return reply(res, 400, 'body is not valid JSON');
      }
      const row = normalizeWebhook({ body, receivedAt, parsed, text, workspace });
      if (row.event_id.startsWith(EVENT_ID_HASH_PREFIX) && parsed.json) {
        // The row keeps the whole id in its payload; the log says which one it was.
        const original = String((parsed.value as { event_id?: unknown }).event_id);
        const bytes = Buffer.byteLength(original);
        if (bytes > MAX_EVENT_ID_BYTES) logger.warn(`event_id over ${MAX_EVENT_ID_BYTES} bytes: stored as the hash of the id`, { event_id: row.event_id, event_id_bytes: bytes, event_id_start: original.slice(0, 64) });
      }
      const data = Buffer.from(JSON.stringify(row));
      if (data.length > MAX_MESSAGE_BYTES) {
        logger.error('event too large for Pub/Sub once encoded', { status: 413, event_id: row.event_id, bytes: data.length, limit: MAX_MESSAGE_BYTES });
        return reply(res, 413, 'event too large once encoded');
      }
      // The handler's entries for this event carry the same trace (shared/trace-context.ts).
      const attributes = attributesOf(row, trace);
      try {
        const messageId = await withinPublishTimeout(publisher.publish(data, attributes));
        // DEBUG, not INFO: at webhook volume a line per event costs CPU and log ingestion, and the
        // warehouse row already records it (event_id, message_id). Failures are logged at WARNING+.
        logger.debug('webhook accepted', {
          event_id: row.event_id,
          object_type: row.object_type,
          metric: row.metric,
          message_id: messageId,
          latency_ms: Math.round(performance.now() - started),
        });
        res.status(204).end();
      } catch (error) {
        // Customer.io retries non-2xx answers: nothing is acknowledged that was not stored.
        logger.error('publish failed; answering 503 so Customer.io retries', {
          status: 503,
          event_id: row.event_id,
          error: error instanceof Error ? error.message : String(error),
        });
        reply(res, 503, 'event queue unavailable; retry later');
      }
    } finally {
      leave();
    }
  };
}
