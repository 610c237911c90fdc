/**
 * What Google's client libraries throw — gRPC statuses (Pub/Sub, Firestore), HTTP API errors
 * (BigQuery, the REST calls), network failures, credential failures — said in one line, with the
 * fix where there is one. Pure: it reads the errors' shapes and imports no client library.
 */

export const LOGIN_COMMAND = 'gcloud auth application-default login';
const CREDENTIALS_VARIABLE = 'GOOGLE_APPLICATION_CREDENTIALS';
/** Where the roles each command needs are listed. */
const ROLES_HINT = 'docs/operations.md lists the roles each ops command needs';

/** What is wrong with the caller's credentials, in one line with the fix; null when the error is not about them. */
export function credentialsFailure(error: unknown, env: NodeJS.ProcessEnv = process.env): string | null {
  const message = error instanceof Error ? error.message : String(error);
  const file = env[CREDENTIALS_VARIABLE];
  if (file && /does not exist, or it is not a file|ENOENT|Unable to read the credential file/i.test(message)) {
    return `${CREDENTIALS_VARIABLE} names ${file}, which cannot be read: point it at a credentials file, or unset it and run ${LOGIN_COMMAND}`;
  }
  if (/Could not load the default credentials/i.test(message)) {
    return `no Google credentials found (application default credentials): run ${LOGIN_COMMAND}, or set ${CREDENTIALS_VARIABLE}`;
  }
  if (/invalid_grant|invalid_rapt|reauth|Token has been expired or revoked|invalid_client|unauthorized_client/i.test(message)) {
    return `your Google credentials were refused (${message.split('\n')[0]!.slice(0, 120)}): run ${LOGIN_COMMAND} again`;
  }
  if (/UNAUTHENTICATED|invalid authentication credentials|Request had invalid authentication/i.test(message)) {
    return `Google did not accept your credentials: run ${LOGIN_COMMAND}`;
  }
  return null;
}

const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** A network error's code (ENOTFOUND, EAI_AGAIN, …), wherever the library put it. */
export function networkCode(error: unknown): string | null {
  for (let e = error as { code?: unknown; cause?: unknown; errno?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  }
  const match = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH)\b/.exec(error instanceof Error ? error.message : '');
  return match ? match[1]! : null;
}

const GRPC_CODES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

/** google.rpc.ErrorInfo's reason for a call to an API the project has not enabled (google.api.ErrorReason). */
export const SERVICE_DISABLED = 'SERVICE_DISABLED';

interface ErrorShape {
  code?: unknown;
  details?: unknown;
  message?: string;
  errors?: Array<{ reason?: string; message?: string }>;
  /** google-gax's GoogleError: the status's ErrorInfo, parsed. */
  reason?: unknown;
  errorInfoMetadata?: Record<string, string>;
}

/**
 * An API not enabled in the project, in one line with the command that enables it. google-gax
 * parses the answer's ErrorInfo (reason SERVICE_DISABLED, metadata naming the service and the
 * consumer project); BigQuery's errors carry only the message, which names both the same way
 * ("… API has not been used in project 123 before or it is disabled. Enable it by visiting
 * https://console.developers.google.com/apis/api/pubsub.googleapis.com/overview?project=123 …").
 */
function serviceDisabledLine(e: ErrorShape, text: string): string | null {
  let service: string | undefined;
  let project: string | undefined;
  if (e.reason === SERVICE_DISABLED && e.errorInfoMetadata) {
    service = e.errorInfoMetadata.service;
    project = e.errorInfoMetadata.containerInfo || /^projects\/([^/]+)$/.exec(e.errorInfoMetadata.consumer ?? '')?.[1];
  } else if (/has not been used in project|SERVICE_DISABLED|it is disabled/i.test(text)) {
    service = /apis\/api\/([a-z0-9.-]+\.googleapis\.com)/i.exec(text)?.[1];
    project = /in project ([a-z0-9-]+) before/i.exec(text)?.[1] ?? /[?&]project=([a-z0-9-]+)/i.exec(text)?.[1];
  }
  if (!service || !project) return null;
  return `the ${service} API is not enabled in project ${project}: the deploy enables it, or now: gcloud services enable ${service} --project ${project}`;
}

/** A gRPC status (google-gax's GoogleError, grpc-js's ServiceError): a code from 0 to 16 and details. */
function grpcStatus(error: ErrorShape): { code: number; name: string; details: string } | null {
  if (typeof error.code !== 'number' || error.code < 1 || error.code > 16 || !('details' in error || /^\d+ [A-Z_]+:/.test(error.message ?? ''))) return null;
  const details = typeof error.details === 'string' && error.details ? error.details : (error.message ?? '').replace(/^\d+ [A-Z_]+: ?/, '');
  return { code: error.code, name: GRPC_CODES[error.code]!, details };
}

/** The error in one line, with the fix where there is one; null when it is none of Google's. */
export function googleFailure(error: unknown): string | null {
  if (!(error instanceof Error) && (typeof error !== 'object' || error === null)) return null;
  const credentials = credentialsFailure(error);
  if (credentials) return credentials;
  const e = error as ErrorShape;
  const status = grpcStatus(e);
  if (status) {
    const said = `${status.code} ${status.name}: ${status.details}`;
    switch (status.name) {
      case 'PERMISSION_DENIED':
        return serviceDisabledLine(e, said) ?? `permission denied (${said}): ${ROLES_HINT}`;
      case 'UNAVAILABLE':
      case 'DEADLINE_EXCEEDED': {
        const code = networkCode(error);
        return `Google Cloud did not answer (${code ?? said}): check the network (or proxy)`;
      }
      case 'RESOURCE_EXHAUSTED':
        return `quota exceeded (${said}): wait and run it again, or raise the quota`;
      default:
        return `Google Cloud refused the request: ${said}`;
    }
  }
  if (typeof e.code === 'number' && e.code >= 400 && e.code < 600) {
    const reason = e.errors?.[0]?.reason;
    const message = (e.errors?.[0]?.message ?? e.message ?? '').split('\n')[0];
    if (e.code === 401) return `Google did not accept your credentials (${message}): run ${LOGIN_COMMAND}`;
    if (e.code === 403) {
      const disabled = serviceDisabledLine(e, `${reason ?? ''} ${message} ${e.message ?? ''}`);
      if (disabled) return disabled;
    }
    if (e.code === 403 && reason !== 'bytesBilledLimitExceeded' && reason !== 'quotaExceeded' && reason !== 'rateLimitExceeded') return `permission denied (403${reason ? ` ${reason}` : ''}: ${message}): ${ROLES_HINT}`;
    return `Google Cloud answered ${e.code}${reason ? ` ${reason}` : ''}: ${message}`;
  }
  const network = networkCode(error);
  if (network) {
    const host = /(?:https?:\/\/|getaddrinfo \w+ )([a-z0-9.-]+\.[a-z]{2,})/i.exec(e.message ?? '')?.[1];
    return `cannot reach ${host ?? 'Google Cloud'} (${network}): check the network (or proxy)`;
  }
  return null;
}
