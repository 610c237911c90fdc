/**
 * Calls to Google's REST APIs for the ops CLI (Cloud Billing, Service Usage, Resource Manager,
 * Org Policy, Firestore admin, Cloud Logging, Cloud Monitoring) through google-auth-library with the
 * caller's application default credentials — never hand-signed requests — each bounded by a
 * timeout so an unreachable API is reported, not waited on.
 *
 * CIO_OPS_GOOGLE_API_ENDPOINT=http://host:port sends every call there instead, unauthenticated
 * (`https://<service>.googleapis.com/<path>` → `<endpoint>/<service>/<path>`), the way the emulator
 * variables redirect the client libraries: the tests serve recorded response bodies from it.
 */
import { GoogleAuth } from 'google-auth-library';

export const ENDPOINT_VARIABLE = 'CIO_OPS_GOOGLE_API_ENDPOINT';

export class GoogleApiError extends Error {
  override readonly name = 'GoogleApiError';
  constructor(
    message: string,
    /** HTTP status, or null when no answer came (unreachable, timed out, no credentials). */
    readonly status: number | null,
    readonly kind: 'http' | 'unreachable' | 'timeout' | 'credentials',
  ) {
    super(message);
  }
}

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
  if (e.response?.status) return new GoogleApiError(apiMessage(e.response.data, e.response.status), e.response.status, 'http');
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'TimeoutError' || e.code === 'ETIMEDOUT') {
    return new GoogleApiError(`no answer from ${new URL(url).host} within ${timeoutMs / 1000} s`, null, 'timeout');
  }
  if (/default credentials|Could not load the default credentials|invalid_grant|reauth/i.test(e.message ?? '')) {
    return new GoogleApiError('no usable application default credentials: run gcloud auth application-default login', null, 'credentials');
  }
  const code = e.cause?.code ?? e.code;
  return new GoogleApiError(`${new URL(url).host} unreachable${code ? ` (${code})` : ''}`, null, 'unreachable');
}

export function createGoogleApi(env: NodeJS.ProcessEnv = process.env): GoogleApi {
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
          if (!response.ok) throw new GoogleApiError(apiMessage(body, response.status), response.status, 'http');
          return body as T;
        } catch (error) {
          throw classify(error, url, timeoutMs);
        }
      },
    };
  }
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  return {
    async call<T>(service: string, path: string, options: CallOptions = {}) {
      const url = `https://${service}.googleapis.com/${path}`;
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      try {
        const client = await auth.getClient();
        // gaxios's own retries would multiply the bound; one attempt, answered or reported.
        const response = await client.request<T>({ url, method: options.method ?? 'GET', data: options.body, timeout: timeoutMs, retry: false });
        return response.data;
      } catch (error) {
        throw classify(error, url, timeoutMs);
      }
    },
  };
}
