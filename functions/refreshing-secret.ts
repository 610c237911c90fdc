/**
 * A value a function reads from Secret Manager at run time and reads again every refresh interval,
 * so a new version is in use within that interval without a deploy or a restart. The read happens
 * when a request asks for the value and the last read is older than the interval (instances get
 * CPU only while they serve requests); the request waits for it briefly, and with no answer by then
 * it uses the value it has while the read finishes in the background.
 *
 * - A newest version that holds a valid value: that value.
 * - No version, or the newest disabled or destroyed (a definitive answer), or the deploy
 *   placeholder: null, "not configured" — the receiver answers 503 and the handler nacks, as they
 *   did with the placeholder, so Customer.io and Pub/Sub hold the events back.
 * - A read that fails (unreachable, timeout, 5xx, no permission): the last value read stays, and
 *   the read is tried again after RETRY_MS. A newest version whose content is not valid (an empty
 *   key list): the last value read stays too, with an ERROR at every refresh until a valid one is added.
 */
import type { Logger } from '../shared/log.js';
import { SecretAccessError, type SecretReader } from './secret-manager.js';

/** After a failed read, the next one is this soon (or the refresh interval, if shorter). */
export const RETRY_MS = 5_000;

export interface RefreshingSecretOptions<T> {
  /** projects/P/secrets/S. */
  secret: string;
  /** The variable the value stands for, for the logs (the value itself is never logged). */
  variable: string;
  reader: SecretReader;
  /** The secret's text (trimmed) to a value; null for the deploy placeholder; throws if not valid. */
  parse: (text: string) => T | null;
  refreshMs: number;
  /** How long a request waits for a refresh of a value it already has. */
  staleWaitMs: number;
  logger: Logger;
  nowMs?: () => number;
}

export interface RefreshingSecret<T> {
  /** The current value, or null while the secret holds none. Never rejects. */
  get(): Promise<T | null>;
}

type State<T> = { kind: 'unread' } | { kind: 'value'; value: T; version: string } | { kind: 'none'; reason: string };

export function createRefreshingSecret<T>({ secret, variable, reader, parse, refreshMs, staleWaitMs, logger, nowMs = Date.now }: RefreshingSecretOptions<T>): RefreshingSecret<T> {
  let state: State<T> = { kind: 'unread' };
  let nextReadAt = 0;
  let reading: Promise<void> | null = null;
  const fields = { secret, variable };

  async function read(): Promise<void> {
    let access;
    try {
      access = await reader.latest(secret);
    } catch (error) {
      nextReadAt = nowMs() + Math.min(refreshMs, RETRY_MS);
      const detail = error instanceof SecretAccessError ? error.message : String(error);
      logger.warn(state.kind === 'value' ? 'secret read failed; the value read before stays in use' : 'secret read failed; no value yet', { ...fields, error: detail });
      return;
    }
    nextReadAt = nowMs() + refreshMs;
    // "Not configured" is logged when it starts or its reason changes, not at every read.
    const unchanged = (reason: string) => state.kind === 'none' && state.reason === reason;
    if (access.kind === 'absent') {
      if (!unchanged(access.reason)) logger.error('secret has no usable newest version (none, disabled or destroyed): not configured until one is added', { ...fields, reason: access.reason });
      state = { kind: 'none', reason: access.reason };
      return;
    }
    if (state.kind === 'value' && state.version === access.version) return;
    let value: T | null;
    try {
      value = parse(access.data.toString('utf8').trim());
    } catch (error) {
      // Read again at the next interval (a version's content never changes); logged at each.
      logger.error(`newest version of the secret is not valid: ${(error as Error).message}`, { ...fields, version: access.version, kept: state.kind === 'value' ? state.version : null });
      return;
    }
    if (value === null) {
      const reason = `version ${access.version} holds the deploy placeholder`;
      if (!unchanged(reason)) logger.error('secret holds the deploy placeholder: not configured until a real value is added', { ...fields, version: access.version });
      state = { kind: 'none', reason };
      return;
    }
    logger.info('secret read', { ...fields, version: access.version, previous: state.kind === 'value' ? state.version : null });
    state = { kind: 'value', value, version: access.version };
  }

  return {
    async get() {
      if (!reading && nowMs() >= nextReadAt) reading = read().finally(() => (reading = null));
      if (reading) {
        // Nothing read yet: wait for the read (the reader bounds it). A value in hand: wait briefly.
        if (state.kind === 'unread') await reading;
        else {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([reading, new Promise<void>((resolve) => (timer = setTimeout(resolve, staleWaitMs)))]);
          clearTimeout(timer);
        }
      }
      return state.kind === 'value' ? state.value : null;
    },
  };
}
