/**
 * Calls to Google's REST APIs for the ops CLI (Cloud Billing, Service Usage, Resource Manager,
 * Org Policy, Firestore admin, Cloud Logging, Cloud Monitoring, Cloud Run) through
 * google-auth-library with the credentials Terraform's google provider would use (its documented
 * variables, else the application default credentials) — never hand-signed requests — each bounded
 * by a timeout so an unreachable API is reported, not waited on.
 *
 * CIO_OPS_GOOGLE_API_ENDPOINT=http://host:port sends every call there instead, unauthenticated
 * (`https://<service>.googleapis.com/<path>` → `<endpoint>/<service>/<path>`), the way the emulator
 * variables redirect the client libraries: the tests serve recorded response bodies from it.
 */
import { readFileSync } from 'node:fs';
import { ExternalAccountClient, GoogleAuth, Impersonated, JWT, OAuth2Client, UserRefreshClient, type AuthClient, type ExternalAccountClientOptions } from 'google-auth-library';
import { credentialsFailure } from './google-errors.js';

export const ENDPOINT_VARIABLE = 'CIO_OPS_GOOGLE_API_ENDPOINT';

/**
 * google.rpc.ErrorInfo, the machine-readable reason Google's APIs put in an error's `details`
 * (e.g. reason SERVICE_DISABLED, domain googleapis.com, metadata.service and metadata.consumer for a
 * call to an API that is not enabled in the consumer project).
 */
export interface ErrorInfo {
  reason: string;
  domain: string | null;
  metadata: Record<string, string>;
}

export class GoogleApiError extends Error {
  override readonly name = 'GoogleApiError';
  constructor(
    message: string,
    /** HTTP status, or null when no answer came (unreachable, timed out, no credentials). */
    readonly status: number | null,
    readonly kind: 'http' | 'unreachable' | 'timeout' | 'credentials',
    /** The answer's ErrorInfo, when it carried one. */
    readonly info: ErrorInfo | null = null,
  ) {
    super(message);
  }
}

const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo';

/** The ErrorInfo among an error body's `error.details` (the JSON mapping of google.rpc.Status); null without one. */
export function errorInfoOf(body: unknown): ErrorInfo | null {
  const details = (body as { error?: { details?: unknown } } | null | undefined)?.error?.details;
  if (!Array.isArray(details)) return null;
  for (const detail of details as Array<Record<string, unknown> | null>) {
    if (detail?.['@type'] !== ERROR_INFO_TYPE || typeof detail.reason !== 'string') continue;
    const metadata = typeof detail.metadata === 'object' && detail.metadata !== null ? detail.metadata : {};
    return {
      reason: detail.reason,
      domain: typeof detail.domain === 'string' ? detail.domain : null,
      metadata: Object.fromEntries(Object.entries(metadata).filter((e): e is [string, string] => typeof e[1] === 'string')),
    };
  }
  return null;
}

const httpError = (body: unknown, status: number) => new GoogleApiError(apiMessage(body, status), status, 'http', errorInfoOf(body));

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  timeoutMs?: number;
}

export interface GoogleApi {
  /** The JSON body of a call to `https://<service>.googleapis.com/<path>`. */
  call<T>(service: string, path: string, options?: CallOptions): Promise<T>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

function apiMessage(body: unknown, status: number): string {
  const error = (body as { error?: { message?: string; status?: string } } | undefined)?.error;
  return error?.message ? `${status} ${error.status ?? ''} ${error.message}`.replace(/\s+/g, ' ').trim() : `HTTP ${status}`;
}

/** Turns what fetch or gaxios threw into a GoogleApiError saying what happened. */
function classify(error: unknown, url: string, timeoutMs: number): GoogleApiError {
  if (error instanceof GoogleApiError) return error;
  const e = error as { name?: string; code?: string | number; message?: string; response?: { status?: number; data?: unknown }; cause?: { code?: string } };
  if (e.response?.status) return httpError(e.response.data, e.response.status);
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'TimeoutError' || e.code === 'ETIMEDOUT') {
    return new GoogleApiError(`no answer from ${new URL(url).host} within ${timeoutMs / 1000} s`, null, 'timeout');
  }
  const credentials = credentialsFailure(error);
  if (credentials) return new GoogleApiError(credentials, null, 'credentials');
  const code = e.cause?.code ?? e.code;
  return new GoogleApiError(`${new URL(url).host} unreachable${code ? ` (${code})` : ''}`, null, 'unreachable');
}

const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

/** Where the credentials come from, in the order Terraform's google provider takes them (provider reference, "Authentication Configuration"). */
export type CredentialSource =
  | { kind: 'access-token'; variable: 'GOOGLE_OAUTH_ACCESS_TOKEN' }
  | { kind: 'key-file'; variable: string; json: Record<string, unknown> }
  | { kind: 'application-default' };

export const KEY_FILE_VARIABLES = ['GOOGLE_CREDENTIALS', 'GOOGLE_CLOUD_KEYFILE_JSON', 'GCLOUD_KEYFILE_JSON'] as const;

export function credentialSource(env: Record<string, string | undefined>): CredentialSource {
  if (env.GOOGLE_OAUTH_ACCESS_TOKEN?.trim()) return { kind: 'access-token', variable: 'GOOGLE_OAUTH_ACCESS_TOKEN' };
  for (const variable of KEY_FILE_VARIABLES) {
    const value = env[variable]?.trim();
    if (!value) continue;
    // Either the path to or the contents of a JSON key file, as the provider's `credentials`.
    try {
      const text = value.startsWith('{') ? value : readFileSync(value, 'utf8');
      return { kind: 'key-file', variable, json: JSON.parse(text) as Record<string, unknown> };
    } catch (error) {
      throw new GoogleApiError(`${variable} is neither a JSON key file's path nor its contents: ${(error as Error).message}`, null, 'credentials');
    }
  }
  return { kind: 'application-default' };
}

/**
 * The client for a key file the operator gave (as Terraform's `credentials`), built with its type's
 * own constructor: GoogleAuth's `credentials` option and `fromJSON` print a deprecation warning on
 * every run (google-auth-library 10+, "externally-sourced credentials"); the file is the operator's
 * own, as it is Terraform's.
 */
function keyFileClient(json: Record<string, unknown>): AuthClient {
  const field = (name: string) => (typeof json[name] === 'string' ? (json[name] as string) : undefined);
  switch (json.type) {
    case 'service_account':
      return new JWT({ email: field('client_email'), key: field('private_key'), keyId: field('private_key_id'), scopes: SCOPES, ...(field('project_id') ? { projectId: field('project_id') } : {}) });
    case 'authorized_user':
      return new UserRefreshClient({ clientId: field('client_id'), clientSecret: field('client_secret'), refreshToken: field('refresh_token') });
    case 'external_account': {
      const client = ExternalAccountClient.fromJSON({ ...(json as unknown as ExternalAccountClientOptions), scopes: SCOPES } as ExternalAccountClientOptions);
      if (!client) throw new GoogleApiError('the key file is an external_account configuration google-auth-library cannot read', null, 'credentials');
      return client;
    }
    default:
      throw new GoogleApiError(`key files of type ${JSON.stringify(json.type ?? null)} are not supported: use service_account, authorized_user or external_account (or GOOGLE_APPLICATION_CREDENTIALS)`, null, 'credentials');
  }
}

/**
 * The client for those credentials, impersonating GOOGLE_IMPERSONATE_SERVICE_ACCOUNT when it is set,
 * as the provider does. With the project given, google-auth asks neither gcloud nor a metadata
 * server for one.
 */
export async function authClient(env: Record<string, string | undefined>, projectId?: string): Promise<AuthClient> {
  const source = credentialSource(env);
  let client: AuthClient;
  if (source.kind === 'access-token') {
    const oauth = new OAuth2Client();
    oauth.setCredentials({ access_token: env.GOOGLE_OAUTH_ACCESS_TOKEN!.trim() });
    client = oauth;
  } else {
    client = source.kind === 'key-file' ? keyFileClient(source.json) : await new GoogleAuth({ scopes: SCOPES, ...(projectId ? { projectId } : {}) }).getClient();
  }
  const target = env.GOOGLE_IMPERSONATE_SERVICE_ACCOUNT?.trim();
  return target ? new Impersonated({ sourceClient: client, targetPrincipal: target, targetScopes: SCOPES, lifetime: 3600 }) : client;
}

/**
 * The REST calls: with `credentials` when the caller resolved them up front (ops/credentials.ts),
 * else with the client authClient(env) gives on the first call; unauthenticated to the
 * CIO_OPS_GOOGLE_API_ENDPOINT stand-in when that is set.
 */
export function createGoogleApi(env: NodeJS.ProcessEnv = process.env, credentials: AuthClient | null = null): GoogleApi {
  const endpoint = env[ENDPOINT_VARIABLE]?.replace(/\/+$/, '');
  if (endpoint) {
    return {
      async call<T>(service: string, path: string, options: CallOptions = {}) {
        const url = `${endpoint}/${service}/${path}`;
        const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        try {
          const response = await fetch(url, {
            method: options.method ?? 'GET',
            headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
            body: options.body === undefined ? undefined : JSON.stringify(options.body),
            signal: AbortSignal.timeout(timeoutMs),
          });
          const text = await response.text();
          const body: unknown = text === '' ? {} : JSON.parse(text);
          if (!response.ok) throw httpError(body, response.status);
          return body as T;
        } catch (error) {
          throw classify(error, url, timeoutMs);
        }
      },
    };
  }
  let client: Promise<AuthClient> | undefined = credentials ? Promise.resolve(credentials) : undefined;
  return {
    async call<T>(service: string, path: string, options: CallOptions = {}) {
      const url = `https://${service}.googleapis.com/${path}`;
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      try {
        client ??= authClient(env);
        const authorized = await client;
        // gaxios's own retries would multiply the bound; one attempt, answered or reported.
        const response = await authorized.request<T>({ url, method: options.method ?? 'GET', data: options.body, timeout: timeoutMs, retry: false });
        return response.data;
      } catch (error) {
        throw classify(error, url, timeoutMs);
      }
    },
  };
}
