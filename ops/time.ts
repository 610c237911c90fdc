/** Times on the command line: an age before now ("30m", "6h", "2d") or an ISO 8601 time with a zone. */
import { UsageError } from './cli.js';

const AGE = /^(\d+)([smhd])$/;
/** A date and time with an explicit zone: "2026-11-28T14:00:00Z", "2026-11-28T15:00+01:00". */
const ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

export function parseTime(flag: string, value: string, now = new Date()): Date {
  const age = AGE.exec(value);
  if (age) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[age[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(age[1]) * unit * 1000);
  }
  if (!ZONED.test(value)) {
    // A time without a zone would be read as this machine's local time: wrong by hours, silently.
    const hint = /^\d{4}-\d{2}-\d{2}/.test(value) ? ' with a zone (Z or +01:00): a time without one is ambiguous' : ' (e.g. 2026-11-28T14:00:00Z)';
    throw new UsageError(`--${flag} must be an age like 30m, 6h, 2d or an ISO 8601 time${hint} (got ${JSON.stringify(value)})`);
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`--${flag} is not a valid time (got ${JSON.stringify(value)})`);
  return new Date(ms);
}

/** The window [--since, --until) (until defaults to now), refused when it is empty. */
export function parseRange(since: string, until: string | undefined, now = new Date()): { from: Date; to: Date } {
  const range = { from: parseTime('since', since, now), to: until ? parseTime('until', until, now) : now };
  if (range.from >= range.to) throw new UsageError('--since must be before --until');
  return range;
}

export const TIME_HELP = 'an age such as 30m, 6h, 2d, or an ISO 8601 time with a zone (2026-11-28T14:00:00Z)';
