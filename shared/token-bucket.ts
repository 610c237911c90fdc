/**
 * A token bucket that hands out reservations: `rate` tokens a second, at most `burst` at once. A
 * caller asks for tokens with the longest it is willing to wait; it gets the wait (0 when tokens are
 * there) and the tokens are its, or it gets a refusal and nothing is taken. Reservations queue in
 * the order they are made, so the rate holds however many callers ask at once. Pure: the clock is
 * passed in.
 *
 * Implemented as GCRA (the "virtual scheduling" form of a token bucket): one number, the theoretical
 * arrival time of the next token, instead of a token count and a refill timer.
 */
export interface TokenBucketOptions {
  /** Tokens per second. */
  rate: number;
  /** Tokens available at once after a quiet spell. */
  burst: number;
  now: () => number;
}

export type Reservation = { granted: true; waitMs: number } | { granted: false; waitMs: number };

export interface TokenBucket {
  /** Reserves `tokens` if they are available within `maxWaitMs`; `waitMs` says when (or, refused, how long it would have been). */
  reserve(tokens: number, maxWaitMs: number): Reservation;
  /** How long a reservation of `tokens` made now would wait, taking nothing. */
  waitFor(tokens: number): number;
}

export function createTokenBucket({ rate, burst, now }: TokenBucketOptions): TokenBucket {
  if (!(rate > 0) || !(burst >= 1)) throw new Error('a token bucket needs rate > 0 and burst >= 1');
  const interval = 1000 / rate;
  const tolerance = (burst - 1) * interval;
  /** When the next token is due (ms); up to `tolerance` of it may be taken early. */
  let due = Number.NEGATIVE_INFINITY;
  // The last of `tokens` is due at start + (tokens - 1) × interval; it may go `tolerance` early.
  const waitAt = (t: number, tokens: number) => Math.max(0, Math.max(due, t) + (tokens - 1) * interval - tolerance - t);
  return {
    reserve(tokens, maxWaitMs) {
      const t = now();
      const waitMs = waitAt(t, tokens);
      if (waitMs > maxWaitMs) return { granted: false, waitMs };
      due = Math.max(due, t) + tokens * interval;
      return { granted: true, waitMs };
    },
    waitFor: (tokens) => waitAt(now(), tokens),
  };
}
