import { describe, expect, it } from 'vitest';
import { createRateGate } from '../../functions/rate-gate.js';

/** Blocks the event loop, as a GC pause or a burst of work would. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('the rate gate', () => {
  it('lets callers through in the order they came, one interval apart', async () => {
    const gate = createRateGate({ rate: 50, burst: 1 });
    const order: number[] = [];
    const at: number[] = [];
    await Promise.all(
      Array.from({ length: 15 }, async (_, i) => {
        expect(await gate.pass(10_000)).toBe(true);
        order.push(i);
        at.push(performance.now());
      }),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(20 - 0.5);
  });

  it('keeps the spacing after the event loop stalls, instead of letting the late ones through together', async () => {
    const gate = createRateGate({ rate: 100, burst: 1 });
    const at: number[] = [];
    const passes = Array.from({ length: 30 }, () => gate.pass(10_000).then(() => at.push(performance.now())));
    await new Promise((r) => setTimeout(r, 35));
    stall(200);
    await Promise.all(passes);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // 20 intervals' worth of callers were due during the stall: they still go 10 ms apart.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(10 - 0.5);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(150);
  });

  it('lets a burst through at once after a quiet spell, then spaces the rest', async () => {
    const gate = createRateGate({ rate: 10, burst: 3 });
    const t0 = performance.now();
    const at = await Promise.all(Array.from({ length: 4 }, () => gate.pass(10_000).then(() => performance.now() - t0)));
    expect(at.slice(0, 3).every((t) => t < 50)).toBe(true);
    expect(at[3]).toBeGreaterThanOrEqual(100 - 0.5);
  });

  it('refuses at once, taking no place in line, a caller who would wait longer than it may', async () => {
    const gate = createRateGate({ rate: 10, burst: 1 });
    const admitted = Array.from({ length: 4 }, () => gate.pass(10_000));
    // Four ahead at 10/s: a fifth would wait 400 ms.
    expect(gate.waitFor(1)).toBeGreaterThan(350);
    const started = performance.now();
    expect(await gate.pass(100)).toBe(false);
    expect(performance.now() - started).toBeLessThan(50);
    expect(gate.waitFor(1)).toBeGreaterThan(350);
    expect(await Promise.all(admitted)).toEqual([true, true, true, true]);
  });
});
