/**
 * The functions' JSON log lines in a compact form for a person at a terminal (`npm start`): time,
 * component, severity, message, then the fields as key=value, and last the trace the entry
 * belongs to as `trace=` and its first 8 characters (enough to tell the requests apart on a screen;
 * Cloud Logging's long special fields say nothing more locally). Deployed, the JSON stays the
 * format (Cloud Logging reads it); LOCAL_LOG_FORMAT=json keeps it locally too.
 */
import { TRACE_LOG_FIELDS, traceIdOf } from '../../shared/trace-context.js';

const SEVERITY_WIDTH = 7;
const TRACE_CHARS = 8;

function text(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

export function formatLogLine(line: string, component: string, now: Date = new Date()): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an entry');
    entry = parsed as Record<string, unknown>;
  } catch {
    return `${now.toISOString().slice(11, 19)} ${component.padEnd(8)} ${line}`;
  }
  const { severity, message, component: logged, [TRACE_LOG_FIELDS.trace]: trace, [TRACE_LOG_FIELDS.spanId]: _span, [TRACE_LOG_FIELDS.sampled]: _sampled, ...fields } = entry;
  const traceId = traceIdOf(trace);
  const rest = [...Object.entries(fields).map(([k, v]) => `${k}=${text(v)}`), ...(traceId ? [`trace=${traceId.slice(0, TRACE_CHARS)}`] : [])].join(' ');
  return `${now.toISOString().slice(11, 19)} ${String(logged ?? component).padEnd(8)} ${String(severity ?? '').padEnd(SEVERITY_WIDTH)} ${String(message ?? '')}${rest ? `  ${rest}` : ''}`;
}
