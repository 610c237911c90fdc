/**
 * Produces Customer.io signature headers by computing the HMAC here, independently of the verifier
 * under test (a verifier checked against itself proves nothing).
 */
import { createHmac } from 'node:crypto';

export function signedHeaders(key: string, body: string | Buffer, timestamp = Math.floor(Date.now() / 1000)) {
  const ts = String(timestamp);
  const signature = createHmac('sha256', key).update(`v0:${ts}:`).update(body).digest('hex');
  return { 'content-type': 'application/json', 'x-cio-timestamp': ts, 'x-cio-signature': signature };
}
