import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../../scripts/local/log-format.js';

const at = new Date('2026-11-29T08:15:30.123Z');

describe('the local terminal\'s log lines', () => {
  it('turns a JSON entry into time, component, severity, message and key=value fields', () => {
    const line = JSON.stringify({ severity: 'INFO', message: 'event handled', component: 'handler', event_id: '01J', outcome: 'done', latency_ms: 12, rules: ['bounce'] });
    expect(formatLogLine(line, 'handler', at)).toBe('08:15:30 handler  INFO    event handled  event_id=01J outcome=done latency_ms=12 rules=["bounce"]');
  });

  it('quotes values with spaces, and passes a line that is not JSON through', () => {
    expect(formatLogLine(JSON.stringify({ severity: 'WARNING', message: 'publish failed', error: 'no answer in time' }), 'receiver', at)).toBe('08:15:30 receiver WARNING publish failed  error="no answer in time"');
    expect(formatLogLine('Serving function...', 'receiver', at)).toBe('08:15:30 receiver Serving function...');
  });

  it('shows the trace an entry belongs to as its first 8 characters, last, without Cloud Logging\'s long field names', () => {
    const line = JSON.stringify({
      severity: 'INFO', message: 'event handled', component: 'handler', event_id: '01J', outcome: 'done',
      'logging.googleapis.com/trace': 'projects/local-project/traces/4bf92f3577b34da6a3ce929d0e0e4736',
      'logging.googleapis.com/spanId': '00f067aa0ba902b7', 'logging.googleapis.com/trace_sampled': false,
    });
    expect(formatLogLine(line, 'handler', at)).toBe('08:15:30 handler  INFO    event handled  event_id=01J outcome=done trace=4bf92f35');
  });
});
