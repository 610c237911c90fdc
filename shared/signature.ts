/**
 * Customer.io reporting-webhook signatures (reference §1):
 *   X-CIO-Signature = hex(HMAC-SHA256(key, "v0:" + X-CIO-Timestamp + ":" + raw body))
 * Pure: takes the raw bytes, the header values, the keys and the current time; reads nothing else.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureFailureReason =
  | 'missing_timestamp'
  | 'missing_signature'
  | 'malformed_timestamp'
  | 'malformed_signature'
  | 'no_matching_key'
  | 'timestamp_too_old'
  | 'timestamp_too_new';

const MESSAGES: Record<SignatureFailureReason, string> = {
  missing_timestamp: 'X-CIO-Timestamp header is missing',
  missing_signature: 'X-CIO-Signature header is missing',
  malformed_timestamp: 'X-CIO-Timestamp is not a Unix time in seconds',
  malformed_signature: 'X-CIO-Signature is not 64 hex characters',
  no_matching_key:
    'no signing key produced this signature (is the key the reporting webhook\'s signing key, and is the raw body hashed as "v0:<timestamp>:<body>"?)',
  timestamp_too_old: 'X-CIO-Timestamp is older than the allowed maximum age',
  timestamp_too_new: 'X-CIO-Timestamp is further in the future than the allowed clock skew',
};

export class SignatureVerificationError extends Error {
  override readonly name = 'SignatureVerificationError';
  constructor(readonly reason: SignatureFailureReason) {
    super(MESSAGES[reason]);
  }
}

export interface VerifySignatureOptions {
  /** The request body exactly as received. */
  body: Uint8Array;
  /** X-CIO-Timestamp header value, verbatim. */
  timestamp: string | undefined;
  /** X-CIO-Signature header value. */
  signature: string | undefined;
  /** Accepted signing keys; any match passes (rotation). */
  keys: readonly string[];
  now: Date;
  /** Reject timestamps older than this many seconds, and more than MAX_CLOCK_SKEW_SECONDS ahead; `'off'` disables both. */
  maxAgeSeconds: number | 'off';
}

export interface VerifiedSignature {
  timestampSeconds: number;
  /** now − timestamp; negative when the sender's clock is ahead. */
  ageSeconds: number;
}

/**
 * How far ahead of the receiver's clock an X-CIO-Timestamp may be. Customer.io stamps the time it
 * sends the request, so only clock skew puts a genuine one ahead, and synchronized clocks differ by
 * far less than this; 5 minutes is the customary tolerance (Stripe's and Standard Webhooks'
 * verifiers default to it). Allowing the whole replay window ahead too would let a request stamped
 * in the future stay replayable for its lead plus the window.
 */
export const MAX_CLOCK_SKEW_SECONDS = 300;

// Unix seconds, no sign, no fraction; 12 digits reach the year 33658, enough to refuse overflow.
const TIMESTAMP = /^\d{1,12}$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

function hmac(key: string, timestamp: string, body: Uint8Array): Buffer {
  return createHmac('sha256', key).update(`v0:${timestamp}:`).update(body).digest();
}

/** The X-CIO-Signature value Customer.io would send; used by the sender and the ops CLI. */
export function computeSignature(key: string, timestamp: string, body: Uint8Array): string {
  return hmac(key, timestamp, body).toString('hex');
}

function checkFormat(timestamp: string | undefined, signature: string | undefined): asserts timestamp is string {
  if (timestamp === undefined || timestamp === '') throw new SignatureVerificationError('missing_timestamp');
  if (signature === undefined || signature === '') throw new SignatureVerificationError('missing_signature');
  if (!TIMESTAMP.test(timestamp)) throw new SignatureVerificationError('malformed_timestamp');
  if (!HEX_SHA256.test(signature)) throw new SignatureVerificationError('malformed_signature');
}

function checkWindow(timestamp: string, now: Date, maxAgeSeconds: number | 'off'): VerifiedSignature {
  const timestampSeconds = Number(timestamp);
  const ageSeconds = Math.floor(now.getTime() / 1000) - timestampSeconds;
  if (maxAgeSeconds !== 'off') {
    if (ageSeconds > maxAgeSeconds) throw new SignatureVerificationError('timestamp_too_old');
    if (-ageSeconds > MAX_CLOCK_SKEW_SECONDS) throw new SignatureVerificationError('timestamp_too_new');
  }
  return { timestampSeconds, ageSeconds };
}

/**
 * The checks that need no body: both headers present and well-formed, and the timestamp inside the
 * window. The receiver runs these before it reads a byte of the body, so a request that cannot
 * verify costs nothing to reject. (verifySignature checks the HMAC before the window, so there a
 * forged old request reads as a bad signature; here, without the body, it can only read as old.)
 */
export function checkSignatureHeaders(options: Pick<VerifySignatureOptions, 'timestamp' | 'signature' | 'now' | 'maxAgeSeconds'>): VerifiedSignature {
  checkFormat(options.timestamp, options.signature);
  return checkWindow(options.timestamp, options.now, options.maxAgeSeconds);
}

export function verifySignature(options: VerifySignatureOptions): VerifiedSignature {
  const { body, timestamp, signature, keys, now, maxAgeSeconds } = options;
  checkFormat(timestamp, signature);
  const expected = Buffer.from(signature!, 'hex');
  const matched = keys.some((key) => {
    const actual = hmac(key, timestamp, body);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  });
  if (!matched) throw new SignatureVerificationError('no_matching_key');
  return checkWindow(timestamp, now, maxAgeSeconds);
}
