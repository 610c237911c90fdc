/**
 * The handler HTTP function behind the push subscription: dedupe on Firestore, act in Customer.io,
 * answer 204 (ack) or 429/503 (nack) per the architecture doc's "Handler contract".
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import { classifyCioFailure } from '../shared/cio-errors.js';
import type { Logger, LogFields } from '../shared/log.js';
import { LOG_EVENTS } from '../shared/log-events.js';
import { decideActions, type Policy } from '../shared/policy.js';
import { loggableIdentifier } from '../shared/pseudonym.js';
import { EnvelopeError, decodeEventRow, parsePushEnvelope } from '../shared/push-envelope.js';
import { redactText } from '../shared/redact.js';
import type { EventRow } from '../shared/row.js';
import { TRACE_ATTRIBUTE, parseTraceparent, traceLogFields, traceOfHeaders } from '../shared/trace-context.js';
import { CioCallError, CioRateLimitedError, type CioExecutor } from './customerio.js';
import type { DedupeStore } from './dedupe-store.js';

export type HandlerOutcome = 'done' | 'duplicate' | 'no-action' | 'retry' | 'permanent-failure';

export interface HandlerDeps {
  policy: Policy;
  dedupe: DedupeStore;
  /**
   * What acts in Customer.io: one executor, or with several workspaces each one's by name, chosen
   * by the row's workspace (its credentials, its region's Track API, its own rate gate).
   */
  cio: CioExecutor | ReadonlyMap<string, CioExecutor>;
  logger: Logger;
  /** The project the trace ids in the log entries belong to. */
  project: string;
  /** Keys the hash that stands for an address or phone number in the log (the analytics views use the same). */
  pseudonymKey: Uint8Array;
  nowMs?: () => number;
}

/**
 * Error texts go to the log and into the dedupe record: Customer.io's messages can quote the
 * identifier or an attribute value (a bounce reason that quotes the address), so addresses, long
 * digit runs and tokens are redacted first.
 */
const errorText = (error: unknown) => redactText(error instanceof Error ? error.message : String(error));

function perWorkspace(cio: HandlerDeps['cio']): cio is ReadonlyMap<string, CioExecutor> {
  return !('execute' in cio);
}

export function createHandler({ policy, dedupe, cio, logger: processLogger, project, pseudonymKey, nowMs = Date.now }: HandlerDeps) {
  return async function handler(req: Request, res: Response): Promise<void> {
    const started = performance.now();
    // Until the message says which webhook it came from, entries join the push request's own trace.
    const pushTrace = traceOfHeaders(req.headers);
    let logger = pushTrace ? processLogger.child(traceLogFields(project, pushTrace)) : processLogger;
    if (req.method !== 'POST') {
      res.set('Allow', 'POST');
      res.status(405).json({ error: 'method not allowed; Pub/Sub pushes with POST' });
      return;
    }

    let row: EventRow;
    let context: LogFields;
    try {
      const message = parsePushEnvelope(req.body);
      // The receiver's trace, carried in the message: one trace id finds the webhook's request, the
      // publish, this push and the Customer.io call. The push request's own trace stays findable.
      const eventTrace = parseTraceparent(message.attributes[TRACE_ATTRIBUTE]);
      if (eventTrace) logger = processLogger.child({ ...traceLogFields(project, eventTrace), ...(pushTrace ? { push_trace: pushTrace.traceId } : {}) });
      row = decodeEventRow(message.data);
      // Every entry about the event names its workspace, with several (null if the row has none).
      if (perWorkspace(cio) || row.workspace !== null) logger = logger.child({ workspace: row.workspace });
      // A replay from the warehouse (ops replay --from-warehouse) says so in its attributes.
      context = { message_id: message.messageId, delivery_attempt: message.deliveryAttempt, ...(message.attributes.replay ? { replay: message.attributes.replay } : {}) };
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      // A nack, not an ack: after max delivery attempts it lands in the dead-letter topic for a human.
      logger.error('malformed push message', { error: error.message, outcome: 'retry' });
      res.status(400).json({ error: error.message });
      return;
    }

    const answer = (status: 204 | 429 | 503, outcome: HandlerOutcome, fields: LogFields = {}, severity: 'info' | 'warn' | 'error' = 'info') => {
      logger[severity](LOG_EVENTS.eventHandled, {
        event_id: row.event_id,
        object_type: row.object_type,
        metric: row.metric,
        outcome,
        latency_ms: Math.round(performance.now() - started),
        ...context,
        ...fields,
      });
      if (status === 204) res.status(204).end();
      else res.status(status).json({ error: String(fields.reason ?? outcome) });
    };

    const storeDown = (error: unknown, fields: LogFields = {}) =>
      answer(503, 'retry', { ...fields, reason: 'dedupe store unavailable', error: errorText(error) }, 'error');

    // Several workspaces: the row's workspace (from the receiver's path) picks who acts. One this
    // handler does not know is a configuration gap, not the event's fault: nacked, it comes back
    // (and dead-letters after the last attempt, for a redrive once the workspace is configured).
    let executor: CioExecutor;
    if (perWorkspace(cio)) {
      const known = row.workspace === null ? undefined : cio.get(row.workspace);
      if (!known) {
        const reason = row.workspace === null ? 'event has no workspace (received before CIO_WORKSPACES was set?)' : `workspace not configured in this handler (CIO_WORKSPACES is ${[...cio.keys()].join(',')})`;
        return answer(503, 'retry', { reason }, 'error');
      }
      executor = known;
    } else executor = cio;

    const decision = decideActions(row, policy);
    if (decision.kind === 'none') return answer(204, 'no-action');

    let claim;
    try {
      claim = await dedupe.claim(row, nowMs());
    } catch (error) {
      return storeDown(error);
    }
    if (claim.kind === 'duplicate') return answer(204, 'duplicate', { recorded_status: claim.status });
    if (claim.kind === 'busy') return answer(429, 'retry', { reason: 'another attempt holds the lease' });
    // Which attempt holds the claim: with the final line (or its absence, after a crash) this tells a
    // call repeated in the documented window from one repeated while a lease held.
    logger.debug('event claimed', { event_id: row.event_id, attempt: claim.attempt });

    const finish = async (outcome: Parameters<DedupeStore['finish']>[1]) => dedupe.finish(row, outcome, nowMs());

    if (decision.kind === 'unaddressable') {
      try {
        await finish({ status: 'rejected', error: 'no usable identifier (cio_id, id or email)' });
      } catch (error) {
        return storeDown(error);
      }
      return answer(204, 'permanent-failure', { reason: 'no usable identifier', rules: decision.rules }, 'warn');
    }

    const fields = { rules: decision.rules, identifier: loggableIdentifier(decision.identifier, pseudonymKey), attempt: claim.attempt };
    try {
      await executor.execute(decision.actions, logger.child({ event_id: row.event_id }));
    } catch (error) {
      const status = error instanceof CioCallError ? error.status : null;
      const retryAfter = error instanceof CioCallError ? error.retryAfterSeconds : null;
      const message = errorText(error);
      if (classifyCioFailure(status) === 'permanent') {
        try {
          await finish({ status: 'rejected', error: message });
        } catch (storeError) {
          return storeDown(storeError, fields);
        }
        return answer(204, 'permanent-failure', { ...fields, cio_status: status, error: message }, 'error');
      }
      // Best effort: if this write fails too, the lease expiry makes the event reclaimable anyway.
      await finish({ status: 'failed', error: message }).catch(() => undefined);
      // Pub/Sub ignores Retry-After on a push answer; it is logged so operators see the throttling.
      const throttle = retryAfter === null ? {} : { retry_after_s: retryAfter };
      if (error instanceof CioRateLimitedError) return answer(429, 'retry', { ...fields, reason: 'over the Track API rate budget', error: message });
      return answer(status === 429 ? 429 : 503, 'retry', { ...fields, cio_status: status, ...throttle, reason: 'Customer.io call failed', error: message }, 'warn');
    }

    try {
      await finish({ status: 'done' });
    } catch (error) {
      // The action happened but is not recorded: the redelivery after the lease repeats it (idempotent
      // identify). This is the one window documented in docs/reliability.md.
      return answer(503, 'retry', { ...fields, reason: 'action done, record not written', error: errorText(error) }, 'error');
    }
    return answer(204, 'done', fields);
  };
}
