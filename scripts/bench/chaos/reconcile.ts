/**
 * Tells a repeated Customer.io call that the documented window (docs/reliability.md) explains from a real double,
 * using only what an operator has too: the handler's log. A call is repeated legitimately when an
 * earlier attempt at the same event may have made it without the done-write that would have stopped
 * the next attempt:
 *   - died: the attempt was claimed ('event claimed') and never finished (no 'event handled' line
 *     with its attempt number): the process was killed;
 *   - done-write lost: the call succeeded and the record could not be written ('action done, record
 *     not written');
 *   - answer lost: the call failed without an answer (timeout, connection error: cio_status null),
 *     so Customer.io may have applied it.
 * Each such attempt explains at most one extra call; anything beyond is a double outside the window.
 */
export type WindowCause = 'died' | 'done-write lost' | 'answer lost';

export interface HandlerLogLine {
  message?: unknown;
  event_id?: unknown;
  /** With several workspaces: the same event id in two workspaces is two events. */
  workspace?: unknown;
  attempt?: unknown;
  outcome?: unknown;
  reason?: unknown;
  cio_status?: unknown;
}

export interface PerformedCall {
  /** The call's identity (method, path, body; and the workspace, with several). */
  key: string;
  /** The events whose actions this call is (usually one), each as eventKey gives it. */
  eventIds: string[];
  /** Times the Track API answered it 200. */
  performed: number;
}

export interface RepeatReport {
  /** Extra calls the documented window explains, by cause. */
  window: Record<WindowCause, number>;
  windowTotal: number;
  /** Extra calls nothing explains. */
  doubles: Array<PerformedCall & { extra: number }>;
}

/** An event as the reconciliation tells events apart: its id, within its workspace when it has one. */
export function eventKey(eventId: string, workspace: string | null = null): string {
  return workspace === null ? eventId : `${workspace}\n${eventId}`;
}

/** Attempts per event that may have made their call without recording it, with the cause of each. */
export function unrecordedAttempts(lines: readonly HandlerLogLine[]): Map<string, WindowCause[]> {
  const claimed = new Map<string, Set<number>>();
  const finished = new Map<string, Map<number, HandlerLogLine>>();
  for (const line of lines) {
    if (typeof line.event_id !== 'string' || typeof line.attempt !== 'number') continue;
    const key = eventKey(line.event_id, typeof line.workspace === 'string' ? line.workspace : null);
    if (line.message === 'event claimed') {
      if (!claimed.has(key)) claimed.set(key, new Set());
      claimed.get(key)!.add(line.attempt);
    } else if (line.message === 'event handled') {
      if (!finished.has(key)) finished.set(key, new Map());
      finished.get(key)!.set(line.attempt, line);
    }
  }
  const result = new Map<string, WindowCause[]>();
  for (const [eventId, attempts] of claimed) {
    const causes: WindowCause[] = [];
    for (const attempt of attempts) {
      const end = finished.get(eventId)?.get(attempt);
      if (!end) causes.push('died');
      else if (end.reason === 'action done, record not written') causes.push('done-write lost');
      else if (end.outcome === 'retry' && end.reason === 'Customer.io call failed' && end.cio_status === null) causes.push('answer lost');
    }
    if (causes.length > 0) result.set(eventId, causes);
  }
  return result;
}

export function classifyRepeats(calls: readonly PerformedCall[], lines: readonly HandlerLogLine[]): RepeatReport {
  const unrecorded = unrecordedAttempts(lines);
  const window: Record<WindowCause, number> = { died: 0, 'done-write lost': 0, 'answer lost': 0 };
  const doubles: RepeatReport['doubles'] = [];
  for (const call of calls) {
    const extra = call.performed - 1;
    if (extra <= 0) continue;
    const causes = call.eventIds.flatMap((id) => unrecorded.get(id) ?? []);
    const explained = Math.min(extra, causes.length);
    for (const cause of causes.slice(0, explained)) window[cause] += 1;
    if (extra > explained) doubles.push({ ...call, extra: extra - explained });
  }
  return { window, windowTotal: Object.values(window).reduce((a, b) => a + b, 0), doubles };
}
