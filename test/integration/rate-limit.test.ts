/**
 * The handler keeps to its share of the Track API rate: every request, retries included, waits its
 * turn at the instance's rate gate right before it is sent; an event that would wait too long is
 * nacked (429) with nothing sent, and comes back later. Against a fake Track API that enforces a limit with 429s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CioRateLimitedError, createTrackExecutor, createTrackLimiter } from '../../functions/customerio.js';
import { createRateGate, type RateGate } from '../../functions/rate-gate.js';
import type { CioAction } from '../../shared/policy.js';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { eventRow, startHandlerHarness } from '../support/handler-harness.js';

let fake: FakeTrackApi;
beforeAll(async () => {
  fake = await startFakeTrackApi();
});
afterAll(async () => {
  await fake?.close();
});

const identify = (n: number): CioAction => ({ kind: 'identify', identifier: `cio_${n}`, attributes: { email_bounced: true, _update: true, _timestamp: 1 } });
const executor = (limiter: RateGate, deadlineMs = 10_000) =>
  createTrackExecutor({ credentials: { siteId: 's', trackApiKey: 'k' }, region: 'us', trackUrl: fake.url, deadlineMs, limiter });
/** Strictly one request per 1/rate seconds: these tests count tokens exactly. */
const strict = (rate: number) => createRateGate({ rate, burst: 1 });

/** Most requests that arrived in any one-second window. */
function peakPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= 1000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

describe('the Track executor\'s limiter', () => {
  it('sends no faster than its rate, however many events ask at once', async () => {
    fake.reset();
    // The moments requests leave the gate: a busy machine can only make them later, never closer.
    const gate = createTrackLimiter(20);
    const left: number[] = [];
    const recorded: RateGate = {
      waitFor: (tokens) => gate.waitFor(tokens),
      pass: async (maxWaitMs) => {
        const passed = await gate.pass(maxWaitMs);
        if (passed) left.push(performance.now());
        return passed;
      },
    };
    const cio = executor(recorded);
    await Promise.all(Array.from({ length: 60 }, (_, i) => cio.execute([identify(i)])));
    expect(fake.requests).toHaveLength(60);
    // 20/s with the project's burst of 2: the gate lets 60 requests go over at least (60 − 2) / 20 s.
    expect(left).toHaveLength(60);
    expect(Math.max(...left) - Math.min(...left)).toBeGreaterThanOrEqual(2899);
    // And the Track API sees at most 22 in any second. The fake sees them when they arrive, not when
    // they left the gate: on a loaded machine one can reach it late enough to land in its successors'
    // second, so the bound here allows two such stragglers. Without the gate all 60 arrive within one
    // second.
    expect(peakPerSecond(fake.arrivals)).toBeLessThanOrEqual(22 + 2);
  });

  it('counts retries as requests: a 500 and its retry take two tokens', async () => {
    fake.reset();
    fake.script({ status: 500 });
    const limiter = strict(5);
    await executor(limiter).execute([identify(1)]);
    expect(fake.requests.map((r) => r.answered)).toEqual([500, 200]);
    // The bucket (burst 1 at 5/s) was drained by both: the next token is up to a fifth of a second away.
    expect(limiter.waitFor(1)).toBeGreaterThan(0);
  });

  it('refuses, sending nothing, a request that would wait in line longer than it may', async () => {
    fake.reset();
    const limiter = strict(2);
    const waiting = executor(limiter).execute([identify(3), identify(4)]);
    // Two ahead at 2/s (one sent, one in line): a third would wait about a second.
    await new Promise((r) => setTimeout(r, 50));
    const cio = createTrackExecutor({ credentials: { siteId: 's', trackApiKey: 'k' }, region: 'us', trackUrl: fake.url, deadlineMs: 10_000, maxQueueMs: 300, limiter });
    await expect(cio.execute([identify(5)])).rejects.toBeInstanceOf(CioRateLimitedError);
    // Refused at once, not when its turn came: the one in line ahead of it (due ½ s in) is not sent yet.
    expect(fake.requests.map((r) => r.path)).not.toContain('/customers/cio_4');
    await waiting;
    expect(fake.requests.map((r) => r.path)).toEqual(['/customers/cio_3', '/customers/cio_4']);
  });

  it('gives up a retry that would wait past the deadline for a token, as retryable', async () => {
    fake.reset();
    fake.script({ status: 503 });
    const cio = executor(strict(1), 600);
    await expect(cio.execute([identify(2)])).rejects.toBeInstanceOf(CioRateLimitedError);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('the handler over its rate budget', () => {
  it('nacks what would wait too long for its turn, sending nothing, and acts on it once when it comes back', async () => {
    fake.reset();
    // 2/s (burst 2) and a 5 s deadline, so a request waits in line at most 5/3 s: of 10 events at
    // once, those whose turn is more than that away are nacked.
    const harness = await startHandlerHarness({ fake, env: { CIO_REQUESTS_PER_SECOND: '2', CIO_DEADLINE_SECONDS: '5' } });
    try {
      const rows = Array.from({ length: 10 }, (_, i) => eventRow('email', 'bounced', { seq: 700 + i }));
      const first = await Promise.all(rows.map((row) => harness.push(row)));
      const nacked = rows.filter((_, i) => first[i] === 429);
      expect(first.filter((s) => s === 204).length).toBeGreaterThanOrEqual(4);
      expect(nacked.length).toBeGreaterThanOrEqual(3);
      expect(fake.requests.filter((r) => r.answered === 200)).toHaveLength(10 - nacked.length);
      for (const row of nacked) {
        expect(harness.handled(row.event_id)[0]).toMatchObject({ outcome: 'retry', reason: 'over the Track API rate budget' });
        // The claim is let go, so the redelivery can take it at once.
        expect(await harness.record(row.event_id)).toMatchObject({ status: 'failed', attempts: 1 });
      }
      // Pub/Sub brings them back; with time they all get their turn, each acted on once.
      for (let round = 0; round < 20; round++) {
        const pending = [];
        for (const row of rows) if ((await harness.record(row.event_id))?.status !== 'done') pending.push(row);
        if (pending.length === 0) break;
        await new Promise((r) => setTimeout(r, 500));
        await Promise.all(pending.map((row) => harness.push(row)));
      }
      for (const row of rows) expect((await harness.record(row.event_id))?.status).toBe('done');
      const calls = fake.requests.filter((r) => r.answered === 200).map((r) => r.path);
      expect(calls).toHaveLength(10);
      expect(new Set(calls).size).toBe(10);
    } finally {
      await harness.close();
    }
  });
});
