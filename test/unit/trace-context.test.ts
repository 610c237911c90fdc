import { describe, expect, it } from 'vitest';
import {
  TRACE_ATTRIBUTE, formatTraceparent, logsExplorerUrl, newTrace, parseCloudTraceContext, parseTraceparent, traceIdOf, traceLogFields, traceOfHeaders,
} from '../../shared/trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('the trace of a request', () => {
  it('reads W3C traceparent (the example of the W3C recommendation)', () => {
    expect(parseTraceparent(`00-${TRACE}-00f067aa0ba902b7-01`)).toEqual({ traceId: TRACE, spanId: '00f067aa0ba902b7', sampled: true });
    expect(parseTraceparent(`00-${TRACE}-00f067aa0ba902b7-00`)?.sampled).toBe(false);
    // A later version may append fields; version 00 may not.
    expect(parseTraceparent(`01-${TRACE}-00f067aa0ba902b7-01-extra`)?.traceId).toBe(TRACE);
  });

  it.each([
    ['empty', ''],
    ['version ff', `ff-${TRACE}-00f067aa0ba902b7-01`],
    ['version 00 with more fields', `00-${TRACE}-00f067aa0ba902b7-01-x`],
    ['all-zero trace', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['all-zero span', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-00f067aa0ba902b7-01`],
    ['short trace', `00-${TRACE.slice(1)}-00f067aa0ba902b7-01`],
    ['log injection', `00-${TRACE}-00f067aa0ba902b7-01\n{"severity":"ERROR"}`],
  ])('refuses a traceparent that is %s', (_label, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });

  it('reads X-Cloud-Trace-Context, turning the decimal span id into the 16 hex characters Cloud Logging wants', () => {
    // Google's example: span 74 is 000000000000004a.
    expect(parseCloudTraceContext(`${TRACE}/74;o=1`)).toEqual({ traceId: TRACE, spanId: '000000000000004a', sampled: true });
    expect(parseCloudTraceContext(`${TRACE}/18446744073709551615;o=0`)).toEqual({ traceId: TRACE, spanId: 'ffffffffffffffff', sampled: false });
    expect(parseCloudTraceContext(`${TRACE.toUpperCase()}/1`)?.traceId).toBe(TRACE);
    for (const bad of [`${TRACE}/18446744073709551616`, `${TRACE}/0`, `${TRACE}`, 'abc/1', `${TRACE}/1;o=1 x`]) expect(parseCloudTraceContext(bad), bad).toBeNull();
  });

  it('prefers traceparent, falls back to X-Cloud-Trace-Context, and is null without either', () => {
    const other = 'a'.repeat(32);
    expect(traceOfHeaders({ traceparent: `00-${TRACE}-00f067aa0ba902b7-01`, 'x-cloud-trace-context': `${other}/1;o=1` })?.traceId).toBe(TRACE);
    expect(traceOfHeaders({ traceparent: 'garbage', 'x-cloud-trace-context': `${other}/1;o=1` })?.traceId).toBe(other);
    expect(traceOfHeaders({})).toBeNull();
  });

  it('makes one of its own, unsampled, and writes it back as a traceparent', () => {
    const trace = newTrace();
    expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(parseTraceparent(formatTraceparent(trace))).toEqual(trace);
    expect(TRACE_ATTRIBUTE).toBe('googclient_traceparent');
  });

  it('gives log entries Cloud Logging\'s special fields, and finds the id back in them', () => {
    const fields = traceLogFields('acme-prod', { traceId: TRACE, spanId: '00f067aa0ba902b7', sampled: true });
    expect(fields).toEqual({
      'logging.googleapis.com/trace': `projects/acme-prod/traces/${TRACE}`,
      'logging.googleapis.com/spanId': '00f067aa0ba902b7',
      'logging.googleapis.com/trace_sampled': true,
    });
    expect(traceIdOf(fields['logging.googleapis.com/trace'])).toBe(TRACE);
    expect(traceIdOf(TRACE)).toBe(TRACE);
    expect(traceIdOf('projects/p/traces/xyz')).toBeNull();
    expect(logsExplorerUrl('acme-prod', TRACE)).toBe(`https://console.cloud.google.com/logs/query;query=trace%3D%22projects%2Facme-prod%2Ftraces%2F${TRACE}%22?project=acme-prod`);
  });
});
