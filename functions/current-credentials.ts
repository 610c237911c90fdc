/**
 * The Track API credentials in force for each event when they come from Secret Manager: a new
 * client when the values change (a rotated API key is in use within the refresh interval, with no
 * deploy), the unconfigured executor (every action a retryable failure: the handler nacks) while a
 * secret holds no value. The rate gate is the instance's own, shared by every client it builds.
 */
import { isPlaceholderCredentials, type CioCredentials } from '../shared/config.js';
import { createUnconfiguredExecutor, type CioExecutor } from './customerio.js';

export interface CurrentCredentialsOptions {
  /** The credentials in force, or null while either secret holds no value. */
  credentials: () => Promise<CioCredentials | null>;
  /** A Track executor for these credentials. */
  build: (credentials: CioCredentials) => CioExecutor;
}

export function createCurrentCredentialsExecutor({ credentials, build }: CurrentCredentialsOptions): CioExecutor {
  const unconfigured = createUnconfiguredExecutor();
  let current: { credentials: CioCredentials; executor: CioExecutor } | null = null;
  return {
    async execute(actions) {
      const now = await credentials();
      if (now === null || isPlaceholderCredentials(now)) return unconfigured.execute(actions);
      if (current?.credentials.siteId !== now.siteId || current.credentials.trackApiKey !== now.trackApiKey) {
        current = { credentials: now, executor: build(now) };
      }
      return current.executor.execute(actions);
    },
  };
}
