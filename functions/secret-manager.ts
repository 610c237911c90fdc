/**
 * Adapter: the newest version of a Secret Manager secret, over REST (`versions/latest:access`) with
 * google-auth-library and the function's own service account — no client library beyond the one
 * the functions already carry. "latest" is an alias for the most recently created version
 * (Secret Manager REST reference, projects.secrets.versions.access): when that version is disabled
 * or destroyed, or there is none, the answer is definitive (the secret holds no usable value); any
 * other failure (unreachable, timeout, 5xx, permission) says nothing about the value.
 *
 * SECRET_MANAGER_ENDPOINT=http://host:port sends every call there instead, without credentials,
 * the way the emulator variables redirect the other clients: the tests run a fake on loopback.
 */
import { GoogleAuth } from 'google-auth-library';

export const SECRET_MANAGER_URL = 'https://secretmanager.googleapis.com';

export type SecretAccess =
  /** The newest version's payload. */
  | { kind: 'value'; data: Buffer; version: string }
  /** No usable newest version: none at all, or it is disabled or destroyed. */
  | { kind: 'absent'; reason: string };

/** An access that failed without an answer about the value; the last value read still stands. */
export class SecretAccessError extends Error {
  override readonly name = 'SecretAccessError';
  constructor(message: string, readonly status: number | null) {
    super(message);
  }
}

export interface SecretReader {
  /** The newest version of `secret` (projects/P/secrets/S). Throws SecretAccessError when that cannot be told. */
  latest(secret: string): Promise<SecretAccess>;
}

interface AccessResponse {
  name?: string;
  payload?: { data?: string; dataCrc32c?: string };
}

interface ApiError {
  error?: { code?: number; status?: string; message?: string };
}

/** CRC32C (Castagnoli), which Secret Manager returns with each payload so clients can check it. */
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Turns one HTTP answer of versions.access into what it says about the secret. */
export function interpretAccess(status: number, body: unknown): SecretAccess {
  if (status === 200) {
    const { name, payload } = (body ?? {}) as AccessResponse;
    if (typeof payload?.data !== 'string') throw new SecretAccessError('answer without payload data', status);
    const data = Buffer.from(payload.data, 'base64');
    if (payload.dataCrc32c !== undefined && Number(payload.dataCrc32c) !== crc32c(data)) {
      throw new SecretAccessError('payload does not match its CRC32C checksum', status);
    }
    return { kind: 'value', data, version: name?.split('/').pop() ?? 'latest' };
  }
  const error = (body as ApiError | undefined)?.error;
  const detail = `${status} ${error?.status ?? ''} ${error?.message ?? ''}`.replace(/\s+/g, ' ').trim();
  // NOT_FOUND: no version (or no secret); FAILED_PRECONDITION: the newest version is disabled or destroyed.
  if (status === 404 || (status === 400 && error?.status === 'FAILED_PRECONDITION')) return { kind: 'absent', reason: detail };
  throw new SecretAccessError(`Secret Manager answered ${detail}`, status);
}

export interface SecretReaderOptions {
  /** SECRET_MANAGER_ENDPOINT, or null for Secret Manager with the application default credentials. */
  endpoint: string | null;
  /** Bound on each call; past it the call counts as failed. */
  timeoutMs: number;
}

export function createSecretManagerReader({ endpoint, timeoutMs }: SecretReaderOptions): SecretReader {
  const path = (secret: string) => `v1/${secret}/versions/latest:access`;
  const failed = (secret: string, error: unknown) =>
    error instanceof SecretAccessError ? error : new SecretAccessError(`${secret}: ${(error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message}`, null);
  if (endpoint) {
    return {
      async latest(secret) {
        try {
          const response = await fetch(`${endpoint}/${path(secret)}`, { signal: AbortSignal.timeout(timeoutMs) });
          const text = await response.text();
          return interpretAccess(response.status, text === '' ? {} : JSON.parse(text));
        } catch (error) {
          throw failed(secret, error);
        }
      },
    };
  }
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  return {
    async latest(secret) {
      try {
        const client = await auth.getClient();
        // Every status is interpreted here; gaxios neither throws on one nor retries (the refresh does).
        const response = await client.request<unknown>({ url: `${SECRET_MANAGER_URL}/${path(secret)}`, timeout: timeoutMs, retry: false, validateStatus: () => true });
        return interpretAccess(response.status, response.data);
      } catch (error) {
        throw failed(secret, error);
      }
    },
  };
}
