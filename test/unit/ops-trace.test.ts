import { describe, expect, it } from 'vitest';
import { UsageError } from '../../ops/cli.js';
import { parseTraceId, renderTrace, renderTraceRequest, type Trace } from '../../ops/commands/trace.js';
import { logsExplorerUrl } from '../../shared/trace-context.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

const trace = (overrides: Partial<Trace>): Trace => ({
  event_id: '01J',
  since: '2026-11-24T00:00:00.000Z',
  trace_id: null,
  logs_url: null,
  warehouse: { rows: 0, first_publish_time: null, last_publish_time: null, subscriptions: [], row: null },
  dedupe: null,
  dead_letters: [],
  logs: [],
  ...overrides,
});

describe('ops trace, as printed', () => {
  it('names the trace of the event\'s request and, deployed, links the Logs Explorer to all its entries', () => {
    const text = renderTrace(trace({ trace_id: TRACE_ID, logs_url: logsExplorerUrl('acme-prod', TRACE_ID) }));
    expect(text.split('\n').slice(0, 3)).toEqual([
      'event 01J (looked at since 2026-11-24T00:00:00.000Z)',
      `trace ${TRACE_ID}`,
      `  every log entry of its request and its handling: https://console.cloud.google.com/logs/query;query=trace%3D%22projects%2Facme-prod%2Ftraces%2F${TRACE_ID}%22?project=acme-prod`,
    ]);
  });

  it('leaves the trace\'s long fields out of the log lines it prints, and says nothing of a trace it does not know', () => {
    const text = renderTrace(trace({
      logs: [{ timestamp: null, component: 'handler', severity: 'INFO', message: 'event handled', fields: { event_id: '01J', outcome: 'done', 'logging.googleapis.com/trace': `projects/p/traces/${TRACE_ID}`, 'logging.googleapis.com/spanId': '00f067aa0ba902b7', 'logging.googleapis.com/trace_sampled': true } }],
    }));
    expect(text).toContain('  handler INFO event handled outcome=done\n');
    expect(text).not.toContain('logging.googleapis.com');
    expect(text.split('\n')[1]).toBe('');
  });
});

describe('ops trace --trace-id', () => {
  it('takes the id as Cloud Trace shows it or as the request log\'s trace field holds it, and nothing else', () => {
    expect(parseTraceId(TRACE_ID)).toBe(TRACE_ID);
    expect(parseTraceId(`projects/acme-prod/traces/${TRACE_ID}`)).toBe(TRACE_ID);
    for (const bad of [TRACE_ID.toUpperCase(), TRACE_ID.slice(1), `${TRACE_ID}0`, '0'.repeat(32), `00-${TRACE_ID}-00f067aa0ba902b7-01`, `projects/acme-prod/traces/${TRACE_ID.toUpperCase()}`, '']) {
      expect(() => parseTraceId(bad), bad).toThrow(UsageError);
    }
  });

  it('names the request, links its entries when deployed, then prints each event as trace EVENT_ID does', () => {
    const event = trace({ trace_id: TRACE_ID });
    const text = renderTraceRequest({ trace_id: TRACE_ID, since: '2026-11-24T00:00:00.000Z', logs_url: logsExplorerUrl('acme-prod', TRACE_ID), events: [event] });
    expect(text.split('\n').slice(0, 3)).toEqual([
      `request trace ${TRACE_ID}: 1 event(s) in the warehouse (rows received since 2026-11-24T00:00:00.000Z)`,
      `  every log entry of the request and its handling: ${logsExplorerUrl('acme-prod', TRACE_ID)}`,
      '',
    ]);
    expect(text.endsWith(renderTrace(event))).toBe(true);
  });
});
