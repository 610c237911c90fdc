import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, planFaults, seededRandom } from '../../scripts/bench/chaos/plan.js';
import { classifyRepeats, eventKey, type HandlerLogLine } from '../../scripts/bench/chaos/reconcile.js';

describe('the chaos schedule', () => {
  it('is the same for the same seed, and another for another', () => {
    const a = planFaults({ seed: 42, durationMs: 120_000, perMinute: 20 });
    expect(planFaults({ seed: 42, durationMs: 120_000, perMinute: 20 })).toEqual(a);
    expect(planFaults({ seed: 43, durationMs: 120_000, perMinute: 20 })).not.toEqual(a);
    expect(Array.from({ length: 3 }, seededRandom(7))).toEqual(Array.from({ length: 3 }, seededRandom(7)));
  });

  it('deals every kind about equally often, inside the load, in time order', () => {
    const plan = planFaults({ seed: 1, durationMs: 120_000, perMinute: 22 });
    expect(plan).toHaveLength(44);
    const counts = FAULT_KINDS.map((kind) => plan.filter((f) => f.kind === kind).length);
    expect(counts.every((n) => n === 4)).toBe(true);
    expect(plan.every((f) => f.atMs >= 6000 && f.atMs <= 108_000)).toBe(true);
    expect(plan.map((f) => f.atMs)).toEqual([...plan.map((f) => f.atMs)].sort((x, y) => x - y));
  });
});

const claimed = (event_id: string, attempt: number): HandlerLogLine => ({ message: 'event claimed', event_id, attempt });
const handled = (event_id: string, attempt: number, fields: Partial<HandlerLogLine> = {}): HandlerLogLine => ({ message: 'event handled', event_id, attempt, outcome: 'done', ...fields });
const call = (eventId: string, performed: number) => ({ key: `PUT /customers/${eventId}`, eventIds: [eventId], performed });

describe('repeated calls: the documented window or a double', () => {
  it('a call made once is neither', () => {
    expect(classifyRepeats([call('a', 1)], [claimed('a', 1), handled('a', 1)])).toEqual({
      window: { died: 0, 'done-write lost': 0, 'answer lost': 0 },
      windowTotal: 0,
      doubles: [],
    });
  });

  it('a repeat after an attempt that died, lost its done-write, or lost its answer is the window', () => {
    const report = classifyRepeats(
      [call('a', 2), call('b', 2), call('c', 2)],
      [
        claimed('a', 1), claimed('a', 2), handled('a', 2),
        claimed('b', 1), handled('b', 1, { outcome: 'retry', reason: 'action done, record not written' }), claimed('b', 2), handled('b', 2),
        claimed('c', 1), handled('c', 1, { outcome: 'retry', reason: 'Customer.io call failed', cio_status: null }), claimed('c', 2), handled('c', 2),
      ],
    );
    expect(report.window).toEqual({ died: 1, 'done-write lost': 1, 'answer lost': 1 });
    expect(report.windowTotal).toBe(3);
    expect(report.doubles).toEqual([]);
  });

  it('a repeat after a recorded done, or after a failure Customer.io answered, is a double', () => {
    const report = classifyRepeats(
      [call('a', 2), call('b', 2)],
      [
        claimed('a', 1), handled('a', 1),
        claimed('b', 1), handled('b', 1, { outcome: 'retry', reason: 'Customer.io call failed', cio_status: 500 }), claimed('b', 2), handled('b', 2),
      ],
    );
    expect(report.windowTotal).toBe(0);
    expect(report.doubles.map((d) => [d.key, d.extra])).toEqual([['PUT /customers/a', 1], ['PUT /customers/b', 1]]);
  });

  it('one unrecorded attempt explains one extra call, not two', () => {
    const report = classifyRepeats([call('a', 3)], [claimed('a', 1), claimed('a', 2), handled('a', 2)]);
    expect(report.windowTotal).toBe(1);
    expect(report.doubles).toMatchObject([{ key: 'PUT /customers/a', extra: 1 }]);
  });

  it('with several workspaces, tells the same event id in two of them apart', () => {
    const inWorkspace = (workspace: string, line: HandlerLogLine): HandlerLogLine => ({ ...line, workspace });
    const report = classifyRepeats(
      [
        { key: 'acme\tPUT /customers/a', eventIds: [eventKey('a', 'acme')], performed: 2 },
        { key: 'beta\tPUT /customers/a', eventIds: [eventKey('a', 'beta')], performed: 2 },
      ],
      [
        // acme's first attempt died: its repeat is the window. beta's was recorded: its repeat is a double.
        inWorkspace('acme', claimed('a', 1)), inWorkspace('acme', claimed('a', 2)), inWorkspace('acme', handled('a', 2)),
        inWorkspace('beta', claimed('a', 1)), inWorkspace('beta', handled('a', 1)),
      ],
    );
    expect(report.window.died).toBe(1);
    expect(report.doubles.map((d) => [d.key, d.extra])).toEqual([['beta\tPUT /customers/a', 1]]);
  });
});
