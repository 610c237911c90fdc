/**
 * The caller's Google credentials for the deployed target, resolved once, up front, within a bound:
 * from where Terraform's provider takes them (google-api.ts's authClient: GOOGLE_OAUTH_ACCESS_TOKEN,
 * a key file variable, else the application default credentials — GOOGLE_APPLICATION_CREDENTIALS,
 * gcloud's file from `gcloud auth application-default login`, or the metadata server on Google
 * Cloud), and one access token fetched with them. Every client of the command then uses that one credential. Missing or
 * refused credentials are one line saying what is missing and the command that fixes it — before
 * any client is built, so no library gets the chance to fail with a stack trace, or to retry an
 * unauthenticated call for seconds.
 */
import type { AuthClient } from 'google-auth-library';
import { CommandFailed } from './cli.js';
import { GoogleApiError, authClient } from './google-api.js';
import { LOGIN_COMMAND, credentialsFailure, networkCode } from './google-errors.js';

const DEFAULT_TIMEOUT_MS = 10_000;

/** Off Google Cloud, the metadata server is not probed over the network (and warns of nothing). */
export function avoidMetadataProbe(): void {
  // 'bios-only' trusts the local signs of Google Cloud (a GCE BIOS, a serverless environment's
  // variables) instead of an HTTP probe, so the operator on Compute Engine, Cloud Shell or a
  // Cloud Run job still gets the metadata server's credentials. An explicit setting wins.
  if (!process.env.METADATA_SERVER_DETECTION) process.env.METADATA_SERVER_DETECTION = 'bios-only';
}

/**
 * Resolves the application default credentials and fetches one token, within `timeoutMs`; throws
 * CommandFailed with one line (what is missing, how to fix it) otherwise.
 */
export async function resolveCredentials(project: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<AuthClient> {
  avoidMetadataProbe();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CommandFailed(`no answer within ${timeoutMs / 1000} s while getting a token with your Google credentials: check the network (or proxy), then run ${LOGIN_COMMAND} if they are old`)), timeoutMs);
  });
  try {
    return await Promise.race([
      (async () => {
        const client = await authClient(env, project);
        await client.getAccessToken();
        return client;
      })(),
      bound,
    ]);
  } catch (error) {
    if (error instanceof CommandFailed) throw error;
    if (error instanceof GoogleApiError) throw new CommandFailed(error.message);
    const credentials = credentialsFailure(error, env);
    if (credentials) throw new CommandFailed(credentials);
    const code = networkCode(error);
    if (code) throw new CommandFailed(`cannot reach Google to use your credentials (${code}): check the network (or proxy)`);
    throw new CommandFailed(`your Google credentials could not be used: ${(error as Error).message.split('\n')[0]} (${LOGIN_COMMAND} refreshes them)`);
  } finally {
    clearTimeout(timer);
  }
}
