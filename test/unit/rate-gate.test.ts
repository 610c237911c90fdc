import { describe, expect, it, vi } from 'vitest';
import { createRateGate } from '../../functions/rate-gate.js';

/** Blocks the event loop, as a GC pause or a burst of work would. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Whether `promise` settles before the event loop's next task: without waiting on any timer. */
function settledBeforeNextTask(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true), () => (settled = true));
  return new Promise((resolve) => setImmediate(() => resolve(settled)));
}

describe('the rate gate', () => {
  // Exact spacing is checked on fake timers: on real ones, what a test can observe is when each
  // caller's continuation ran, which a busy machine can delay by milliseconds after the gate let it go.
  it('lets callers through in the order they came, one interval apart', async () => {
    vi.useFakeTimers();
    try {
      const gate = createRateGate({ rate: 50, burst: 1, now: () => Date.now() });
      const released: Array<{ i: number; at: number }> = [];
      const passes = Array.from({ length: 15 }, (_, i) => gate.pass(10_000).then((ok) => ok && released.push({ i, at: Date.now() })));
      await vi.advanceTimersByTimeAsync(15 * 20);
      await Promise.all(passes);
      expect(released.map((r) => r.i)).toEqual(Array.from({ length: 15 }, (_, i) => i));
      expect(released.map((r) => r.at - released[0]!.at)).toEqual(Array.from({ length: 15 }, (_, i) => i * 20));
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps the spacing after the event loop stalls, instead of letting the late ones through together', async () => {
    const gate = createRateGate({ rate: 100, burst: 1 });
    const at: number[] = [];
    const passes = Array.from({ length: 30 }, () => gate.pass(10_000).then(() => at.push(performance.now())));
    await new Promise((r) => setTimeout(r, 35));
    stall(200);
    await Promise.all(passes);
    // Without the gate's check at the moment of release, the ~20 callers due during the stall would
    // go within the same millisecond; with it, each waits for the next token. Observed times carry the
    // machine's scheduling noise, so the bound is half an interval, far from both.
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(5);
  });

  it('lets a burst through at once after a quiet spell, then spaces the rest', async () => {
    const gate = createRateGate({ rate: 10, burst: 3 });
    const t0 = performance.now();
    const passes = Array.from({ length: 4 }, () => gate.pass(10_000).then(() => performance.now() - t0));
    // "At once" means before any timer runs, not "within so many ms" on a busy machine.
    expect(await Promise.all(passes.map(settledBeforeNextTask))).toEqual([true, true, true, false]);
    expect(await passes[3]).toBeGreaterThanOrEqual(100 - 0.5);
  });

  it('refuses at once, taking no place in line, a caller who would wait longer than it may', async () => {
    const gate = createRateGate({ rate: 10, burst: 1 });
    const admitted = Array.from({ length: 4 }, () => gate.pass(10_000));
    // Four ahead at 10/s: a fifth would wait (nearly) 400 ms.
    const before = gate.waitFor(1);
    expect(before).toBeGreaterThan(300);
    const refused = gate.pass(100);
    expect(await settledBeforeNextTask(refused)).toBe(true);
    expect(await refused).toBe(false);
    // Had it taken a place, the next caller would wait 100 ms longer than before, not less.
    expect(gate.waitFor(1)).toBeLessThanOrEqual(before);
    expect(await Promise.all(admitted)).toEqual([true, true, true, true]);
  });
});
