/**
 * The guard (functions/guard.ts) behind the real Functions Framework, with the warehouse answering
 * from memory: one structured entry per breach at the severity of its level, a summary of the run,
 * an ERROR entry and a 500 when the warehouse cannot answer, and nothing for a small source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuardFunction } from '../../functions/guard.js';
import { loadDeliverabilityConfig, type DeliverabilityRow, type TimeWindow } from '../../shared/deliverability.js';
import { createMemoryLogger } from '../../shared/log.js';
import { LOG_EVENTS } from '../../shared/log-events.js';
import { serveFunction, type FunctionServer } from '../support/function-server.js';

const NOW = new Date('2026-11-30T10:00:00Z');
const row = (counts: Partial<DeliverabilityRow>): DeliverabilityRow => ({
  workspace: null, source: 'campaign', source_id: 104, action_id: 412, channel: 'email', sent: 0, delivered: 0, bounced: 0, spammed: 0, unsubscribed: 0, complaint_rate: null, bounce_rate: null, unsubscribe_rate: null, ...counts,
});
const ROWS = [
  row({ source_id: 104, action_id: 412, sent: 1200, delivered: 1190, bounced: 10, spammed: 5 }), // complaints 0.42%: critical
  row({ source: 'broadcast', source_id: 9, action_id: 42, sent: 1025, delivered: 1000, bounced: 25, spammed: 1 }), // bounces 2.44%: warning; complaints at 0.1%: warning
  row({ source_id: 105, action_id: 1, sent: 40, delivered: 40, spammed: 20 }), // 50%, but 40 delivered: nothing
  row({ source: 'transactional', source_id: 3, action_id: null, sent: 5000, delivered: 4990, bounced: 10 }), // fine
];

let logger: ReturnType<typeof createMemoryLogger>;
let windows: TimeWindow[];
let failing = false;
let server: FunctionServer;

beforeAll(async () => {
  logger = createMemoryLogger('info');
  windows = [];
  server = await serveFunction(createGuardFunction({
    config: loadDeliverabilityConfig({}),
    logger,
    now: () => NOW,
    read: async (window) => {
      windows.push(window);
      if (failing) throw new Error('Query exceeded limit for bytes billed: 1073741824. 2147483648 or higher required.\nmore detail');
      return { rows: ROWS, bytesBilled: 10_485_760 };
    },
  }));
});
afterAll(() => server?.close());

describe('the guard function', () => {
  it('judges the last 24 hours and writes one entry per breach, ERROR for critical and WARNING for warning', async () => {
    const response = await fetch(server.url, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(windows.at(-1)).toEqual({ from: new Date('2026-11-29T10:00:00Z'), to: NOW });
    const breaches = logger.entries.filter((e) => e.message === LOG_EVENTS.deliverabilityBreach);
    expect(breaches.map((e) => [e.severity, e.source, e.source_id, e.measure, e.level, e.threshold])).toEqual([
      ['ERROR', 'campaign', '104', 'complaint', 'critical', '0.3%'],
      ['WARNING', 'broadcast', '9', 'complaint', 'warning', '0.1%'],
      ['WARNING', 'broadcast', '9', 'bounce', 'warning', '2%'],
    ]);
    expect(breaches[0]).toMatchObject({
      action_id: '412', channel: 'email', numerator: 5, denominator: 1190, rate_text: '0.42%',
      window_start: '2026-11-29T10:00:00.000Z', window_end: '2026-11-30T10:00:00.000Z',
      summary: expect.stringContaining('campaign 104 action 412 (email): complaint rate 0.42% is at or above the critical threshold 0.3%'),
    });
    expect(JSON.stringify(breaches)).not.toContain('"105"');
    expect(logger.entries.find((e) => e.message === LOG_EVENTS.deliverabilityGuardRun)).toMatchObject({ severity: 'INFO', sources: 4, judged: 3, breaches: 3, bytes_billed: 10_485_760 });
    const body = (await response.json()) as { sources: number; breaches: Array<{ summary: string }> };
    expect(body).toMatchObject({ sources: 4, judged: 3, window: { from: '2026-11-29T10:00:00.000Z' } });
    expect(body.breaches).toHaveLength(3);
  });

  it('logs a failed read as one ERROR line and answers 500, so the failure is seen and the next run tries again', async () => {
    failing = true;
    const before = logger.entries.length;
    const response = await fetch(server.url, { method: 'POST' });
    failing = false;
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'the warehouse could not answer; see the log' });
    expect(logger.entries.slice(before)).toEqual([
      expect.objectContaining({ severity: 'ERROR', message: LOG_EVENTS.deliverabilityGuardFailed, error: 'Query exceeded limit for bytes billed: 1073741824. 2147483648 or higher required.' }),
    ]);
  });

  it('runs on POST only', async () => {
    const response = await fetch(server.url);
    expect(response.status).toBe(405);
  });
});
