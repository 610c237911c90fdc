/**
 * The keyed hash that stands for an email address or recipient wherever a raw one must not appear:
 * the handler's logs and the analysts' BigQuery views. HMAC-SHA256 with a secret key (PSEUDONYM_KEY,
 * kept in Secret Manager), so a list of candidate addresses cannot reverse it the way it reverses a
 * plain hash. The warehouse computes the same value in SQL from the same key (infra/sql/), so a log
 * line and an analyst's row can be matched without either showing the address.
 */
import { createHmac } from 'node:crypto';

/** SHA-256's block size: HMAC pads the key to it. */
const BLOCK_BYTES = 64;

/** Lowercase hex HMAC-SHA256 of the UTF-8 value. */
export function pseudonymize(value: string, key: Uint8Array): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex');
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
