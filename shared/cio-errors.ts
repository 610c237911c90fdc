/**
 * How a failed Customer.io call ends (architecture doc): retry it (nack) or record it as a permanent
 * rejection (ack). Credentials problems retry: dropping actions silently is worse than a backlog.
 */
export type FailureClass = 'retryable' | 'permanent';

/** `status` is the HTTP status, or null for network errors and timeouts. */
export function classifyCioFailure(status: number | null): FailureClass {
  if (status === null) return 'retryable';
  if (status === 401 || status === 403 || status === 408 || status === 429 || status >= 500) return 'retryable';
  if (status >= 400) return 'permanent';
  return 'retryable';
}

/**
 * Whether a failure is worth another attempt within the same delivery: a network error, a timeout,
 * throttling or a server error may clear in seconds; credentials will not (those wait for Pub/Sub's
 * redelivery instead). The statuses customerio-node itself retries.
 */
export function isTransientCioFailure(status: number | null): boolean {
  return status === null || status === 408 || status === 429 || status >= 500;
}
