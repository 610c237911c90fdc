/**
 * A bound on the bytes of large bodies being processed at once.
 *
 * The buffer pool bounds the bodies held while they arrive; processing one makes copies outside it
 * (measured for a signed 1–7 MiB webhook: its text, the parsed JSON, the row, the row's JSON, the
 * message Buffer and the Pub/Sub client's request), several times the body's size, alive until the
 * publish is acknowledged and then garbage until the collector runs. 40 concurrent signed 1–7 MiB
 * bodies peaked at 534–586 MiB RSS without this bound, on an instance of 512 MiB (with it, and the
 * pool's reuse of larger idle buffers: 374–379 MiB from the compiled bundle; test/faults/large-bodies).
 * A body over the free size enters this gate once its signature verifies (a forged one never
 * does: checking the HMAC copies nothing) and leaves when its answer is done; the bodies inside add
 * up to at most `total` bytes. Arrival order, as in the pool: a large body is not starved by small
 * ones.
 */
export interface ByteGate {
  /** Resolves with a leave() function once `bytes` fit, or null after `waitMs` or an abort. */
  enter(bytes: number, waitMs: number, signal?: AbortSignal): Promise<(() => void) | null>;
  readonly inUse: number;
  readonly total: number;
}

interface Waiter {
  bytes: number;
  admit(): void;
}

export function createByteGate(total: number): ByteGate {
  let inUse = 0;
  const waiters: Waiter[] = [];

  const pass = (bytes: number) => {
    inUse += bytes;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      inUse -= bytes;
      serve();
    };
  };
  const serve = () => {
    while (waiters.length > 0 && inUse + waiters[0]!.bytes <= total) waiters.shift()!.admit();
  };

  return {
    total,
    get inUse() {
      return inUse;
    },
    enter(requested, waitMs, signal) {
      // A body larger than the whole gate still passes, alone.
      const bytes = Math.min(requested, total);
      if (signal?.aborted) return Promise.resolve(null);
      if (waiters.length === 0 && inUse + bytes <= total) return Promise.resolve(pass(bytes));
      return new Promise((resolve) => {
        const leaveQueue = () => {
          const index = waiters.indexOf(waiter);
          if (index < 0) return;
          waiters.splice(index, 1);
          clearTimeout(timer);
          signal?.removeEventListener('abort', leaveQueue);
          resolve(null);
          serve();
        };
        const waiter: Waiter = {
          bytes,
          admit: () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', leaveQueue);
            resolve(pass(bytes));
          },
        };
        const timer = setTimeout(leaveQueue, waitMs);
        waiters.push(waiter);
        signal?.addEventListener('abort', leaveQueue, { once: true });
      });
    },
  };
}
