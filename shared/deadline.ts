/** Bounding an awaited step in time, so an answer always leaves before the caller gives up. */

export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
  constructor(what: string, readonly ms: number) {
    super(`${what} did not finish within ${ms} ms`);
  }
}

export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(what, ms)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The same bound for many concurrent operations without a timer each: one interval sweeps the
 * pending ones in deadline order. On a hot path (every webhook awaits its publish) a timer per
 * request costs measurable CPU; this costs a map entry. Precision: `ms` plus at most one tick.
 */
export function createDeadlineGroup(ms: number, what: string, tickMs = Math.max(5, Math.min(100, Math.floor(ms / 20)))) {
  // Insertion order is deadline order: every entry gets the same `ms`.
  const pending = new Map<(error: Error) => void, number>();
  let timer: NodeJS.Timeout | undefined;
  const sweep = () => {
    const now = performance.now();
    for (const [reject, due] of pending) {
      if (due > now) break;
      pending.delete(reject);
      reject(new DeadlineExceededError(what, ms));
    }
    if (pending.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  return function bound<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      pending.set(reject, performance.now() + ms);
      if (timer === undefined) {
        timer = setInterval(sweep, tickMs);
        timer.unref();
      }
      work.then(
        (value) => {
          if (pending.delete(reject)) resolve(value);
        },
        (error: unknown) => {
          if (pending.delete(reject)) reject(error);
        },
      );
    });
  };
}
