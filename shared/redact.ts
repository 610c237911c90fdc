/**
 * Free text that may quote a person: bounce and failure reasons (mail servers quote the recipient,
 * SMS and push providers the number or the device token), Customer.io's error messages, clicked
 * URLs. The rules are patterns every engine runs the same way (RE2 in BigQuery and DuckDB, and
 * JavaScript), applied in order; infra/privacy.ts renders them into the analysts' views, the handler
 * applies them to the error texts it logs and stores.
 */

export interface Redaction {
  /** What it removes, for the docs and the tests. */
  what: string;
  pattern: string;
  replacement: string;
}

/**
 * In this order: addresses first (their digits and long local parts would otherwise be cut up by the
 * later rules), then UUIDs and long token runs (before the digit rule, which would split a token
 * into pieces too short to be caught), then any run of 7 or more digits, separators allowed: phone
 * numbers, card and account numbers. SMTP codes (`550 5.1.1`) have fewer digits and stay readable.
 */
export const TEXT_REDACTIONS: readonly Redaction[] = [
  { what: 'email addresses', pattern: '[^\\s<>@"(),;:/\\[\\]]+@[^\\s<>@"(),;:/?#\\[\\]]+', replacement: '[email]' },
  { what: 'UUIDs', pattern: '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}', replacement: '[token]' },
  { what: 'token runs (20 or more letters, digits, _ + =)', pattern: '[A-Za-z0-9_+=]{20,}', replacement: '[token]' },
  { what: 'runs of 7 or more digits (phone, card, account numbers)', pattern: '\\+?[0-9](?:[ ().-]{0,2}[0-9]){6,}', replacement: '[number]' },
];

/**
 * A URL cut to scheme, host and path, as RFC 3986 parses it: the query and fragment go first
 * (password-reset and magic-link tokens, tracking ids), then the user information before the host
 * (`user:password@`). `capture` is the scheme and `//` kept in front of the host.
 */
export const URL_QUERY_AND_FRAGMENT = '[?#].*$';
export const URL_USERINFO = '^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@';

export function redactText(text: string): string {
  return TEXT_REDACTIONS.reduce((out, r) => out.replace(new RegExp(r.pattern, 'g'), r.replacement), text);
}

/** Scheme, host and path of a URL, with the text rules applied to what is left (an address in a path). */
export function redactUrl(url: string): string {
  return redactText(url.replace(new RegExp(URL_QUERY_AND_FRAGMENT), '').replace(new RegExp(URL_USERINFO), '$1'));
}
