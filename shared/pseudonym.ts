/**
 * The keyed hash that stands for an email address, a phone number or a recipient wherever a raw one
 * must not appear: the handler's logs and the analysts' BigQuery views. HMAC-SHA256 with a secret key
 * (PSEUDONYM_KEY, kept in Secret Manager), so a list of candidate addresses cannot reverse it the way
 * it reverses a plain hash. The warehouse computes the same value in SQL from the same key
 * (infra/privacy.ts renders these rules for BigQuery and DuckDB), so a log line and an analyst's row
 * can be matched without either showing the address.
 *
 * One person, one hash: a value is normalized before it is hashed (surrounding whitespace trimmed,
 * ASCII letters lower-cased), so `Alice@X.com ` and `alice@x.com` hash alike. Lower-casing is kept to
 * ASCII on purpose: BigQuery, DuckDB and JavaScript agree on it byte for byte, which they do not for
 * every Unicode letter.
 */
import { createHmac } from 'node:crypto';

/** SHA-256's block size: HMAC pads the key to it. */
const BLOCK_BYTES = 64;

/** Trimmed from both ends before hashing; the same set in every engine. */
export const TRIMMED_CHARACTERS = ' \t\n\r';
export const UPPER_ASCII = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER_ASCII = 'abcdefghijklmnopqrstuvwxyz';

/**
 * What makes an identifier personal (an address or a phone number rather than an opaque id), as
 * patterns every engine runs the same way (RE2 in BigQuery and DuckDB, and JavaScript):
 * - an email address: it contains `@`;
 * - a phone number: only digits, `+`, spaces, dots, dashes and parentheses, 7 to 15 digits, and
 *   either a leading `+` or a separator between digits. A bare run of digits is what database ids
 *   look like (`0200000001` in Customer.io's own sample), so it stays as it is.
 */
export const PERSONAL_IDENTIFIER = {
  emailMarker: '@',
  phoneCharacters: '^\\+?[0-9 ().-]+$',
  phoneSeparated: '[0-9][ ().-]+[0-9]',
  nonDigit: '[^0-9]',
  minDigits: 7,
  maxDigits: 15,
} as const;

export type PersonalKind = 'email' | 'phone';

/** Trim, lower-case ASCII letters; null when nothing is left. */
export function normalizeIdentifier(value: string): string | null {
  let start = 0;
  let end = value.length;
  while (start < end && TRIMMED_CHARACTERS.includes(value[start]!)) start++;
  while (end > start && TRIMMED_CHARACTERS.includes(value[end - 1]!)) end--;
  const trimmed = value.slice(start, end).replace(/[A-Z]/g, (c) => c.toLowerCase());
  return trimmed === '' ? null : trimmed;
}

/** Whether a normalized identifier is an email address or a phone number (else null). */
export function personalKind(normalized: string): PersonalKind | null {
  if (normalized.includes(PERSONAL_IDENTIFIER.emailMarker)) return 'email';
  if (!new RegExp(PERSONAL_IDENTIFIER.phoneCharacters).test(normalized)) return null;
  const digits = normalized.replace(new RegExp(PERSONAL_IDENTIFIER.nonDigit, 'g'), '').length;
  if (digits < PERSONAL_IDENTIFIER.minDigits || digits > PERSONAL_IDENTIFIER.maxDigits) return null;
  return normalized.startsWith('+') || new RegExp(PERSONAL_IDENTIFIER.phoneSeparated).test(normalized) ? 'phone' : null;
}

/** Lowercase hex HMAC-SHA256 of the UTF-8 value, as it is (see hashIdentifier for addresses). */
export function pseudonymize(value: string, key: Uint8Array): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
}

/** The keyed hash of an identifier after normalization: what analysts and the logs see. */
export function hashIdentifier(value: string, key: Uint8Array): string | null {
  const normalized = normalizeIdentifier(value);
  return normalized === null ? null : pseudonymize(normalized, key);
}

/**
 * How an identifier appears in a log line. Opaque ids and `cio_` ids as they are; an email address
 * or a phone number (many workspaces use the address as the id) only as `email-hmac:<hex>` or
 * `phone-hmac:<hex>`, the keyed hash of the normalized value — the same hex analysts see in
 * `email_hash`, `recipient_hash` and `customer_id` — which a list of candidate addresses cannot reverse.
 */
export function loggableIdentifier(identifier: string, key: Uint8Array): string {
  const normalized = normalizeIdentifier(identifier);
  const kind = normalized === null ? null : personalKind(normalized);
  return kind === null ? identifier : `${kind}-hmac:${pseudonymize(normalized!, key)}`;
}

/**
 * HMAC's inner and outer padded keys (RFC 2104): HMAC(k, m) = H(opad ‖ H(ipad ‖ m)). SQL engines
 * without an HMAC function compute the same value from these with two SHA-256 calls; the local
 * warehouse stores them, BigQuery derives them from the key in SQL.
 */
export function hmacPads(key: Uint8Array): { ipad: Buffer; opad: Buffer } {
  if (key.length > BLOCK_BYTES) throw new Error(`a pseudonym key longer than ${BLOCK_BYTES} bytes would be hashed first; use at most ${BLOCK_BYTES}`);
  const padded = Buffer.alloc(BLOCK_BYTES);
  Buffer.from(key).copy(padded);
  return {
    ipad: Buffer.from(padded.map((b) => b ^ 0x36)),
    opad: Buffer.from(padded.map((b) => b ^ 0x5c)),
  };
}
