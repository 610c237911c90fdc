/**
 * What analysts see: the events with no raw identifiers and no message content. One decision per
 * column of the row definition (a new column does not compile until it has one), rendered into the
 * analytics dataset's `events` view for BigQuery and into its twin in the local DuckDB warehouse.
 *
 * - email, recipient → a keyed hash (HMAC-SHA256 with PSEUDONYM_KEY, the same value the handler
 *   logs), so analysts can count and join people without reading addresses, and a list of
 *   candidate addresses cannot reverse it;
 * - href → scheme, host and path only: password-reset and magic-link tokens live in the query;
 * - failure_message → email addresses inside it replaced (bounce texts often quote the recipient);
 * - subject → left out (message content, often personalized);
 * - payload → the same JSON without message content (body, headers, subject) and without the fields
 *   above; subscription-preference changes keep their `content`, which is the preferences.
 */
import { hmacPads } from '../shared/pseudonym.js';
import { EVENT_COLUMNS, METADATA_COLUMNS, type EventColumnName } from '../shared/row.js';
import type { Dialect, NameResolver } from './sql.js';

type Treatment = 'keep' | 'hash' | 'url-without-query' | 'redact-emails' | 'omit' | 'redact-payload';

export const COLUMN_TREATMENT: Record<EventColumnName, Treatment> = {
  event_id: 'keep', object_type: 'keep', metric: 'keep', event_timestamp: 'keep', received_at: 'keep',
  customer_id: 'keep', cio_id: 'keep',
  email: 'hash', recipient: 'hash',
  delivery_id: 'keep', journey_id: 'keep', trigger_event_id: 'keep',
  campaign_id: 'keep', action_id: 'keep', parent_action_id: 'keep', broadcast_id: 'keep', trigger_id: 'keep',
  newsletter_id: 'keep', content_id: 'keep', transactional_message_id: 'keep', link_id: 'keep',
  subject: 'omit',
  href: 'url-without-query',
  failure_message: 'redact-emails',
  machine: 'keep', proxied: 'keep', prefetched: 'keep', synthetic: 'keep',
  payload: 'redact-payload',
};

/** Fields removed from the payload for analysts (paths under the payload root). */
export const REDACTED_PAYLOAD_FIELDS = [
  ['data', 'content'],
  ['data', 'headers'],
  ['data', 'subject'],
  ['data', 'recipient'],
  ['data', 'email_address'],
  ['data', 'identifiers', 'email'],
  ['data', 'href'],
  ['data', 'failure_message'],
] as const;

/** `data.content` of these metrics is the person's subscription preferences, not message content. */
export const CONTENT_IS_PREFERENCES = 'cio_subscription_preferences_changed';

/** Name of a hashed column in the analysts' view. */
export const hashedName = (column: string) => `${column}_hash`;

/** The columns of the analysts' `events` view, in order. */
export const ANALYTICS_COLUMNS: string[] = [
  ...EVENT_COLUMNS.flatMap(({ name }) => {
    const treatment = COLUMN_TREATMENT[name];
    if (treatment === 'omit') return [];
    return [treatment === 'hash' ? hashedName(name) : name];
  }),
  ...METADATA_COLUMNS.map((c) => c.name),
];

const EMAIL_PATTERN = '[^\\s<>@"]+@[^\\s<>@"]+';

function bigqueryPayload(column: string): string {
  const remove = (keepContent: boolean) =>
    `JSON_REMOVE(SAFE.PARSE_JSON(${column}, wide_number_mode => 'round'), ${REDACTED_PAYLOAD_FIELDS.filter(
      (path) => !(keepContent && path.join('.') === 'data.content'),
    )
      .map((path) => `'$.${path.join('.')}'`)
      .join(', ')})`;
  return `TO_JSON_STRING(IF(e.metric = '${CONTENT_IS_PREFERENCES}', ${remove(true)}, ${remove(false)}))`;
}

/** RFC 7386 merge patch with nulls: DuckDB's way to drop keys. Only applied to an object `data`. */
function duckdbPayload(column: string): string {
  const patch = (keepContent: boolean, identifiersIsObject: boolean) => {
    const data: Record<string, unknown> = {};
    for (const path of REDACTED_PAYLOAD_FIELDS) {
      if (keepContent && path.join('.') === 'data.content') continue;
      if (path.length === 3) {
        if (identifiersIsObject) data[path[1]] = { [path[2]]: null };
      } else data[path[1]] = null;
    }
    return `'${JSON.stringify({ data })}'`;
  };
  const patched = (keepContent: boolean) =>
    `json_merge_patch(${column}, CASE WHEN json_type(${column}, '$.data.identifiers') = 'OBJECT' THEN ${patch(keepContent, true)} ELSE ${patch(keepContent, false)} END)`;
  return `CASE
      WHEN NOT json_valid(${column}) THEN NULL
      WHEN json_type(${column}) <> 'OBJECT' OR json_type(${column}, '$.data') IS DISTINCT FROM 'OBJECT' THEN CAST(json(${column}) AS VARCHAR)
      WHEN e.metric = '${CONTENT_IS_PREFERENCES}' THEN ${patched(true)}
      ELSE ${patched(false)}
    END`;
}

function expression(dialect: Dialect, name: EventColumnName, treatment: Treatment): string {
  const column = `e.${name}`;
  switch (treatment) {
    case 'keep':
    case 'omit':
      return column;
    case 'hash':
      // HMAC(k, m) = SHA256(opad ‖ SHA256(ipad ‖ m)): neither engine has an HMAC function.
      return dialect === 'bigquery'
        ? `TO_HEX(SHA256(k.opad || SHA256(k.ipad || CAST(${column} AS BYTES))))`
        : `CASE WHEN ${column} IS NULL THEN NULL ELSE sha256(k.opad || unhex(sha256(k.ipad || encode(${column})))) END`;
    case 'url-without-query':
      return dialect === 'bigquery' ? `REGEXP_REPLACE(${column}, r'[?#].*$', '')` : `regexp_replace(${column}, '[?#].*$', '')`;
    case 'redact-emails':
      return dialect === 'bigquery'
        ? `REGEXP_REPLACE(${column}, r'${EMAIL_PATTERN}', '[email]')`
        : `regexp_replace(${column}, '${EMAIL_PATTERN}', '[email]', 'g')`;
    case 'redact-payload':
      return dialect === 'bigquery' ? bigqueryPayload(column) : duckdbPayload(column);
  }
}

/** The analysts' `events` view: the raw table joined to the one-row key relation. */
export function analyticsEventsSql(dialect: Dialect, raw: NameResolver): string {
  const selected = [
    ...EVENT_COLUMNS.filter(({ name }) => COLUMN_TREATMENT[name] !== 'omit').map(({ name }) => {
      const treatment = COLUMN_TREATMENT[name];
      const alias = treatment === 'hash' ? hashedName(name) : name;
      return `  ${expression(dialect, name, treatment)} AS ${alias}`;
    }),
    ...METADATA_COLUMNS.map(({ name }) => `  e.${name}`),
  ];
  return [
    '-- Events for analysts: keyed hashes instead of email addresses and recipients, URLs without',
    '-- their query, no message content (infra/privacy.ts). A filter on event_timestamp prunes the',
    "-- raw table's partitions through this projection.",
    'SELECT',
    selected.join(',\n'),
    `FROM ${raw('events')} AS e`,
    `CROSS JOIN ${raw('pseudonym_key')} AS k`,
  ].join('\n');
}

/**
 * The one-row relation (ipad, opad) holding the HMAC pads of the key. BigQuery derives them from the
 * key in SQL (the key is generated at apply time and never passes through this code); the local
 * warehouse, whose key is known here, stores them directly.
 */
export function pseudonymKeySql(dialect: 'bigquery', keyHex: string): string;
export function pseudonymKeySql(dialect: 'duckdb', key: Uint8Array): string;
export function pseudonymKeySql(dialect: Dialect, key: string | Uint8Array): string {
  if (dialect === 'bigquery') {
    const padded = "(k || REPEAT(b'\\x00', 64 - BYTE_LENGTH(k)))";
    return [
      '-- The HMAC pads of the pseudonym key (RFC 2104). Readable only by the raw dataset\'s readers;',
      '-- the analytics views are authorized to use it without seeing it.',
      `SELECT ${padded} ^ REPEAT(b'\\x36', 64) AS ipad, ${padded} ^ REPEAT(b'\\x5c', 64) AS opad`,
      `FROM (SELECT FROM_HEX('${key as string}') AS k)`,
    ].join('\n');
  }
  const { ipad, opad } = hmacPads(key as Uint8Array);
  return `SELECT unhex('${ipad.toString('hex')}') AS ipad, unhex('${opad.toString('hex')}') AS opad`;
}
