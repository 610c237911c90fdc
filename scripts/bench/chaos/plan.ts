/**
 * The chaos soak's fault schedule: which faults, when, how long — all drawn from one seeded PRNG so a
 * failing run's schedule can be replayed with SOAK_SEED (the interleaving with the load is not
 * reproducible on a shared machine; the faults and their timing are).
 */

/** mulberry32: a small, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const FAULT_KINDS = [
  'handler-kill',
  'receiver-kill',
  'firestore-reset',
  'firestore-stall',
  'firestore-slow',
  'pubsub-reset',
  'pubsub-stall',
  'pubsub-slow',
  'track-429',
  'track-500',
  'track-hang',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_LABELS: Record<FaultKind, string> = {
  'handler-kill': 'handler killed (SIGKILL), restarted',
  'receiver-kill': 'receiver killed (SIGKILL), restarted',
  'firestore-reset': 'Firestore connections reset',
  'firestore-stall': 'Firestore black-holed',
  'firestore-slow': 'Firestore slowed',
  'pubsub-reset': 'Pub/Sub connections reset',
  'pubsub-stall': 'Pub/Sub black-holed',
  'pubsub-slow': 'Pub/Sub slowed',
  'track-429': 'Track API 429 + Retry-After burst',
  'track-500': 'Track API 500 burst',
  'track-hang': 'Track API hangs past the timeout',
};

export interface Fault {
  atMs: number;
  kind: FaultKind;
  /** How long the fault lasts: a process's downtime, a stall, a slowdown. */
  durationMs: number;
  /** Per-chunk delay of a slowdown. */
  delayMs: number;
  /** Replies in a Track API burst. */
  count: number;
}

export interface PlanOptions {
  seed: number;
  /** The span the faults fall in (they start after 5% of it and stop by 90%). */
  durationMs: number;
  perMinute: number;
}

/**
 * `perMinute` faults a minute, kinds dealt from a shuffled deck so each appears about equally often
 * (a kill several times in any run of a couple of minutes), at uniformly drawn times.
 */
export function planFaults({ seed, durationMs, perMinute }: PlanOptions): Fault[] {
  const random = seededRandom(seed);
  const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
  const total = Math.max(1, Math.round((perMinute * durationMs) / 60_000));
  const kinds: FaultKind[] = [];
  while (kinds.length < total) {
    const deck = [...FAULT_KINDS];
    for (let i = deck.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [deck[i], deck[j]] = [deck[j]!, deck[i]!];
    }
    kinds.push(...deck);
  }
  return kinds
    .slice(0, total)
    .map((kind): Fault => {
      const atMs = between(durationMs * 0.05, durationMs * 0.9);
      switch (kind) {
        case 'handler-kill':
        case 'receiver-kill':
          return { atMs, kind, durationMs: between(500, 3000), delayMs: 0, count: 0 };
        case 'firestore-stall':
        case 'pubsub-stall':
          return { atMs, kind, durationMs: between(1000, 5000), delayMs: 0, count: 0 };
        case 'firestore-slow':
        case 'pubsub-slow':
          return { atMs, kind, durationMs: between(3000, 10_000), delayMs: between(50, 400), count: 0 };
        case 'track-429':
          return { atMs, kind, durationMs: 0, delayMs: 0, count: between(10, 40) };
        case 'track-500':
          return { atMs, kind, durationMs: 0, delayMs: 0, count: between(10, 30) };
        case 'track-hang':
          return { atMs, kind, durationMs: 0, delayMs: 0, count: between(2, 6) };
        default:
          return { atMs, kind, durationMs: 0, delayMs: 0, count: 0 };
      }
    })
    .sort((a, b) => a.atMs - b.atMs);
}
