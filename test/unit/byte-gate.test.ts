import { describe, expect, it } from 'vitest';
import { createByteGate } from '../../functions/byte-gate.js';

const MiB = 1024 * 1024;

describe('the processing gate for large bodies', () => {
  it('lets bodies in while their bytes fit, and the next one as soon as one leaves', async () => {
    const gate = createByteGate(8 * MiB);
    const a = (await gate.enter(5 * MiB, 0))!;
    const waiting = gate.enter(5 * MiB, 5_000);
    expect(gate.inUse).toBe(5 * MiB);
    a();
    a();
    const b = (await waiting)!;
    expect(gate.inUse).toBe(5 * MiB);
    b();
    expect(gate.inUse).toBe(0);
  });

  it('serves in arrival order, times out, and lets an aborted wait go', async () => {
    const gate = createByteGate(8 * MiB);
    const held = (await gate.enter(8 * MiB, 0))!;
    const order: string[] = [];
    const large = gate.enter(6 * MiB, 5_000).then((leave) => (order.push('large'), leave));
    const small = gate.enter(1 * MiB, 5_000).then((leave) => (order.push('small'), leave));
    expect(await gate.enter(1 * MiB, 20)).toBeNull();
    const gone = new AbortController();
    const aborted = gate.enter(1 * MiB, 5_000, gone.signal);
    gone.abort();
    expect(await aborted).toBeNull();
    held();
    (await large)!();
    (await small)!();
    expect(order).toEqual(['large', 'small']);
    expect(gate.inUse).toBe(0);
  });

  it('lets a body larger than the whole gate in alone', async () => {
    const gate = createByteGate(4 * MiB);
    const leave = (await gate.enter(7 * MiB, 0))!;
    expect(await gate.enter(1, 10)).toBeNull();
    leave();
    expect(await gate.enter(1, 0)).not.toBeNull();
  });
});
