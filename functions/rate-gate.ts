/**
 * A queue in front of a token bucket: callers wait in line, and the head is let through only when
 * the bucket has a token *at the moment it goes*. Sleeping until a reserved time and then sending
 * would not hold the rate: a stalled event loop (a GC pause, a burst of gRPC replies) wakes many
 * sleepers at once, and their requests reach the API in a bunch it answers with 429. Here a late
 * wake-up lets through at most the bucket's burst, then the spacing resumes.
 */
import { createTokenBucket } from '../shared/token-bucket.js';

export interface RateGate {
  /** How long `tokens` more would wait, behind everyone in line; takes nothing. */
  waitFor(tokens: number): number;
  /**
   * Waits in line for one token. Resolves true once it is taken; false at once, taking nothing, when
   * the wait would be longer than `maxWaitMs`.
   */
  pass(maxWaitMs: number): Promise<boolean>;
}

export function createRateGate(options: { rate: number; burst: number; now?: () => number }): RateGate {
  const now = options.now ?? (() => performance.now());
  const bucket = createTokenBucket({ rate: options.rate, burst: options.burst, now });
  const line: Array<() => void> = [];
  let timer: NodeJS.Timeout | null = null;

  function pump(): void {
    timer = null;
    while (line.length > 0) {
      const waitMs = bucket.waitFor(1);
      if (waitMs > 0) {
        timer = setTimeout(pump, Math.ceil(waitMs));
        return;
      }
      bucket.reserve(1, 0);
      line.shift()!();
    }
  }

  return {
    waitFor: (tokens) => bucket.waitFor(line.length + tokens),
    pass(maxWaitMs) {
      if (bucket.waitFor(line.length + 1) > maxWaitMs) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        line.push(() => resolve(true));
        if (timer === null) pump();
      });
    },
  };
}
