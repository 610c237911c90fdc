/**
 * The trace a request belongs to, and how it joins log entries and Pub/Sub messages.
 *
 * Cloud Run passes the trace of every request it forwards in `traceparent` (W3C Trace Context:
 * `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`) and `X-Cloud-Trace-Context`
 * (`<32 hex trace id>/<decimal span id>;o=<0|1>`). Cloud Logging nests an application's entries
 * under the request's own log entry when they carry the special fields `logging.googleapis.com/trace`
 * (`projects/PROJECT_ID/traces/TRACE_ID`), `logging.googleapis.com/spanId` (16 hex characters) and
 * `logging.googleapis.com/trace_sampled` (docs.cloud.google.com/logging/docs/structured-logging,
 * "special fields"; cloud.google.com/trace/docs/trace-log-integration). The receiver carries its
 * trace to the handler in the message attribute `googclient_traceparent`, the name and W3C format
 * the Pub/Sub client's own OpenTelemetry propagation uses (googleapis/nodejs-pubsub,
 * src/telemetry-tracing.ts: `modernAttributeName`), so the two agree if that is ever turned on.
 * Pure: header values in, typed values out; anything malformed is no trace, never an error.
 */
import { randomBytes } from 'node:crypto';

export interface TraceContext {
  /** 32 lowercase hex characters, not all zero. */
  traceId: string;
  /** 16 lowercase hex characters, not all zero. */
  spanId: string;
  sampled: boolean;
}

/** The message attribute that carries the receiver's trace to the handler. */
export const TRACE_ATTRIBUTE = 'googclient_traceparent';

export const TRACE_LOG_FIELDS = {
  trace: 'logging.googleapis.com/trace',
  spanId: 'logging.googleapis.com/spanId',
  sampled: 'logging.googleapis.com/trace_sampled',
} as const;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const CLOUD_TRACE = /^([0-9a-fA-F]{32})(?:\/(\d{1,20}))?(?:;o=([0-9]+))?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
const MAX_U64 = 2n ** 64n - 1n;

/** W3C `traceparent`; version ff is invalid, version 00 has exactly four fields. */
export function parseTraceparent(value: string | undefined): TraceContext | null {
  const match = TRACEPARENT.exec((value ?? '').trim());
  if (!match) return null;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  return { traceId: traceId!, spanId: spanId!, sampled: (parseInt(flags!, 16) & 1) === 1 };
}

/** `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS`, the span id in decimal. */
export function parseCloudTraceContext(value: string | undefined): TraceContext | null {
  const match = CLOUD_TRACE.exec((value ?? '').trim());
  if (!match) return null;
  const [, traceId, spanDecimal, options] = match;
  const span = spanDecimal === undefined ? 0n : BigInt(spanDecimal);
  if (traceId!.toLowerCase() === ZERO_TRACE || span === 0n || span > MAX_U64) return null;
  return { traceId: traceId!.toLowerCase(), spanId: span.toString(16).padStart(16, '0'), sampled: options === '1' };
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;
const header = (headers: Headers, name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** The request's trace: `traceparent` first, then `X-Cloud-Trace-Context`; null without a valid one. */
export function traceOfHeaders(headers: Headers): TraceContext | null {
  return parseTraceparent(header(headers, 'traceparent')) ?? parseCloudTraceContext(header(headers, 'x-cloud-trace-context'));
}

/** A trace of our own, for a request that came without one (locally: no front end sets it). */
export function newTrace(random: (bytes: number) => Buffer = randomBytes): TraceContext {
  return { traceId: random(16).toString('hex'), spanId: random(8).toString('hex'), sampled: false };
}

export function formatTraceparent({ traceId, spanId, sampled }: TraceContext): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** The fields that put a log entry in the trace's group (Cloud Logging's special fields). */
export function traceLogFields(project: string, trace: TraceContext): Record<string, string | boolean> {
  return {
    [TRACE_LOG_FIELDS.trace]: `projects/${project}/traces/${trace.traceId}`,
    [TRACE_LOG_FIELDS.spanId]: trace.spanId,
    [TRACE_LOG_FIELDS.sampled]: trace.sampled,
  };
}

/** The trace id in a `projects/P/traces/T` value, or in a bare id; null for anything else. */
export function traceIdOf(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const id = /(?:^|\/traces\/)([0-9a-f]{32})$/.exec(value)?.[1];
  return id ?? null;
}

/** Logs Explorer showing every entry of the trace, in the project (the query Cloud Logging documents). */
export function logsExplorerUrl(project: string, traceId: string): string {
  const query = `trace="projects/${project}/traces/${traceId}"`;
  return `https://console.cloud.google.com/logs/query;query=${encodeURIComponent(query)}?project=${encodeURIComponent(project)}`;
}
