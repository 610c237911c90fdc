/**
 * What analysts see: the events with no raw identifiers and no message content, built from an
 * allow-list. Every column of the row definition has a decision (a new column does not compile until
 * it has one), and the payload is rebuilt from the fields decided below: a field nobody decided on —
 * whatever a channel adds tomorrow — never reaches analysts. The rules are rendered into the
 * analytics dataset's `events` view for BigQuery and into its twin in the local DuckDB warehouse,
 * from the same definitions the handler's logs use (shared/pseudonym.ts, shared/redact.ts).
 *
 * - keep: the value as it is, when it is a string, number or boolean (an object or array there is
 *   left out: nobody decided what is inside it);
 * - hash: the keyed hash (HMAC-SHA256 with PSEUDONYM_KEY) of the normalized value — trimmed,
 *   ASCII lower-cased — so analysts count and join people without reading addresses;
 * - hash-if-personal: ids kept as they are, unless they are an email address or a phone number
 *   (many workspaces use the address as the id), then hashed like an address;
 * - url: scheme, host and path only (no credentials, query or fragment), text rules applied;
 * - text: addresses, UUIDs, token runs and runs of 7+ digits replaced (bounce texts quote them);
 * - preferences: a preference change's `content` kept as `{"topics": …}` only;
 * - omit / not listed: left out.
 */
import { LOWER_ASCII, PERSONAL_IDENTIFIER, TRIMMED_CHARACTERS, UPPER_ASCII, hmacPads } from '../shared/pseudonym.js';
import { TEXT_REDACTIONS, URL_QUERY_AND_FRAGMENT, URL_USERINFO } from '../shared/redact.js';
import { EVENT_COLUMNS, METADATA_COLUMNS, type EventColumnName } from '../shared/row.js';
import type { Dialect, NameResolver } from './sql.js';

export type ColumnTreatment = 'keep' | 'hash' | 'hash-if-personal' | 'url' | 'text' | 'omit' | 'payload';

export const COLUMN_TREATMENT: Record<EventColumnName, ColumnTreatment> = {
  event_id: 'keep', object_type: 'keep', metric: 'keep', event_timestamp: 'keep', received_at: 'keep',
  customer_id: 'hash-if-personal', cio_id: 'keep',
  email: 'hash', recipient: 'hash',
  delivery_id: 'keep', journey_id: 'keep', trigger_event_id: 'keep',
  campaign_id: 'keep', action_id: 'keep', parent_action_id: 'keep', broadcast_id: 'keep', trigger_id: 'keep',
  newsletter_id: 'keep', content_id: 'keep', transactional_message_id: 'keep', link_id: 'keep',
  subject: 'omit',
  href: 'url',
  failure_message: 'text',
  machine: 'keep', proxied: 'keep', prefetched: 'keep', synthetic: 'keep',
  payload: 'payload',
  // The deployment's own name for a Customer.io workspace (CIO_WORKSPACES), not a person's.
  workspace: 'keep',
};

export type FieldRule = 'keep' | 'hash' | 'hash-if-personal' | 'url' | 'text' | 'preferences' | { object: PayloadFields } | { each: PayloadFields };
export interface PayloadFields {
  readonly [field: string]: FieldRule;
}

/** `data.content` of this metric is the person's subscription preferences, not message content. */
export const CONTENT_IS_PREFERENCES = 'cio_subscription_preferences_changed';

const identifiers: FieldRule = { object: { id: 'hash-if-personal', email: 'hash', cio_id: 'keep' } };

/**
 * The payload's shapes (Customer.io's reporting-webhook spec) and, for each field, the decision. A
 * subscription change triggered from a message carries the customer shape under a channel's
 * object_type, so the shapes are told apart by their fields, never by object_type: the view applies
 * their union, and a field both shapes carry has one rule.
 */
export const PAYLOAD_SHAPES = {
  /** email, push, sms, whatsapp, in_app, slack, webhook events. */
  message: {
    delivery_id: 'keep', identifiers, customer_id: 'hash-if-personal',
    campaign_id: 'keep', action_id: 'keep', parent_action_id: 'keep', journey_id: 'keep', trigger_event_id: 'keep',
    broadcast_id: 'keep', trigger_id: 'keep', newsletter_id: 'keep', content_id: 'keep', transactional_message_id: 'keep',
    recipient: 'hash', href: 'url', link_id: 'keep', failure_message: 'text',
    machine: 'keep', proxied: 'keep', prefetched: 'keep', synthetic: 'keep',
    // Push: the platform per device; the device token (device_id) is left out.
    recipients: { each: { device_platform: 'keep' } },
  },
  /** customer subscribed, unsubscribed, cio_subscription_preferences_changed. */
  customer: {
    customer_id: 'hash-if-personal', email_address: 'hash', identifiers,
    content: 'preferences',
  },
} as const satisfies Record<string, PayloadFields>;

/** Fields Customer.io sends that are left out on purpose (the rest of the unknown is left out too). */
export const LEFT_OUT_PAYLOAD_FIELDS = [
  'data.subject', // message content, often personalized
  'data.content', // message bodies (body-content option); kept only as a preference change's topics
  'data.headers', // message headers (body-content option)
  'data.recipients[].device_id', // push tokens
] as const;

function unionOfShapes(): PayloadFields {
  const union: Record<string, FieldRule> = {};
  for (const shape of Object.values(PAYLOAD_SHAPES) as PayloadFields[]) {
    for (const [field, rule] of Object.entries(shape)) {
      if (field in union && JSON.stringify(union[field]) !== JSON.stringify(rule)) throw new Error(`payload field data.${field} has two rules`);
      union[field] = rule;
    }
  }
  return union;
}

/** The analytics payload, from its root: the envelope's fields, and `data` from the shapes. */
export const PAYLOAD_FIELDS: PayloadFields = {
  event_id: 'keep',
  object_type: 'keep',
  metric: 'keep',
  timestamp: 'keep',
  data: { object: unionOfShapes() },
};

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

/**
 * The SQL each engine needs for the rules above. Patterns are the shared ones, unchanged: RE2 runs
 * them in both engines as JavaScript does in the handler.
 */
interface SqlDialect {
  name: Dialect;
  string(text: string): string;
  replaceAll(expr: string, pattern: string, replacement: string): string;
  matches(expr: string, pattern: string): string;
  normalize(expr: string): string;
  digitCount(expr: string): string;
  startsWithPlus(expr: string): string;
  /** The keyed hash of a normalized text, with the pads of relation `k`. */
  hash(normalized: string): string;
  /** The payload parsed as JSON, NULL when it does not parse. */
  parse(payload: string): string;
  isObject(json: string): string;
  extract(json: string, path: string): string;
  isScalar(json: string): string;
  /** Text of a JSON string or number; NULL for anything else. */
  text(json: string): string;
  fromText(text: string): string;
  /** JSON as its text. */
  serialize(json: string): string;
  /** A JSON object without null members, NULL when nothing is left (BigQuery strips once at the root). */
  object(members: Array<[string, string]>): string;
  /** A JSON array of `element(item)` over the array at `json` (`item` names the element). */
  array(json: string, element: (item: string) => string): string;
  /** The finished payload as text. */
  finish(root: string, parsed: string): string;
}

const sqlString = (text: string) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** A BigQuery raw string literal; the shared patterns contain no quote, and this keeps it so. */
const raw = (pattern: string) => {
  if (pattern.includes("'")) throw new Error(`pattern ${pattern} contains a quote`);
  return `r'${pattern}'`;
};

const BIGQUERY: SqlDialect = {
  name: 'bigquery',
  string: sqlString,
  replaceAll: (expr, pattern, replacement) => `REGEXP_REPLACE(${expr}, ${raw(pattern)}, ${raw(replacement.replace('$1', '\\1'))})`,
  matches: (expr, pattern) => `REGEXP_CONTAINS(${expr}, ${raw(pattern)})`,
  normalize: (expr) => `NULLIF(TRANSLATE(TRIM(${expr}, ${JSON.stringify(TRIMMED_CHARACTERS).replaceAll('"', "'")}), '${UPPER_ASCII}', '${LOWER_ASCII}'), '')`,
  digitCount: (expr) => `LENGTH(REGEXP_REPLACE(${expr}, ${raw(PERSONAL_IDENTIFIER.nonDigit)}, ''))`,
  startsWithPlus: (expr) => `STARTS_WITH(${expr}, '+')`,
  // HMAC(k, m) = SHA256(opad ‖ SHA256(ipad ‖ m)): BigQuery has no HMAC function.
  hash: (normalized) => `TO_HEX(SHA256(k.opad || SHA256(k.ipad || CAST(${normalized} AS BYTES))))`,
  parse: (payload) => `SAFE.PARSE_JSON(${payload}, wide_number_mode => 'round')`,
  isObject: (json) => `JSON_TYPE(${json}) = 'object'`,
  extract: (json, path) => `JSON_QUERY(${json}, '${path}')`,
  isScalar: (json) => `JSON_TYPE(${json}) IN ('string', 'number', 'boolean')`,
  text: (json) => `IF(JSON_TYPE(${json}) IN ('string', 'number'), LAX_STRING(${json}), NULL)`,
  fromText: (text) => `TO_JSON(${text})`,
  serialize: (json) => `TO_JSON_STRING(${json})`,
  object: (members) => `JSON_OBJECT(\n${members.map(([k, v]) => `  '${k}', ${v}`).join(',\n')}\n)`,
  array: (json, element) => `TO_JSON(ARRAY(SELECT ${element('item')} FROM UNNEST(JSON_QUERY_ARRAY(${json})) AS item))`,
  // Null members, then objects and arrays left empty, go in one pass; an empty root is JSON null.
  finish: (root, parsed) => `IF(${BIGQUERY.isObject(parsed)}, NULLIF(TO_JSON_STRING(JSON_STRIP_NULLS(${root}, remove_empty => TRUE)), 'null'), NULL)`,
};

const DUCKDB_TEXT_TYPES = `('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE')`;

const DUCKDB: SqlDialect = {
  name: 'duckdb',
  string: (text) => `'${text.replaceAll("'", "''")}'`,
  replaceAll: (expr, pattern, replacement) => `regexp_replace(${expr}, '${pattern}', '${replacement.replace('$1', '\\1')}', 'g')`,
  matches: (expr, pattern) => `regexp_matches(${expr}, '${pattern}')`,
  normalize: (expr) =>
    `NULLIF(translate(trim(${expr}, ${[...TRIMMED_CHARACTERS].map((c) => (c === ' ' ? "' '" : `chr(${c.charCodeAt(0)})`)).join(' || ')}), '${UPPER_ASCII}', '${LOWER_ASCII}'), '')`,
  digitCount: (expr) => `length(regexp_replace(${expr}, '${PERSONAL_IDENTIFIER.nonDigit}', '', 'g'))`,
  startsWithPlus: (expr) => `starts_with(${expr}, '+')`,
  hash: (normalized) => `CASE WHEN ${normalized} IS NULL THEN NULL ELSE sha256(k.opad || unhex(sha256(k.ipad || encode(${normalized})))) END`,
  parse: (payload) => `CASE WHEN json_valid(${payload}) THEN json(${payload}) END`,
  isObject: (json) => `json_type(${json}) = 'OBJECT'`,
  extract: (json, path) => `json_extract(${json}, '${path}')`,
  isScalar: (json) => `json_type(${json}) IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN')`,
  text: (json) => `CASE WHEN json_type(${json}) IN ${DUCKDB_TEXT_TYPES} THEN json_extract_string(${json}, '$') END`,
  fromText: (text) => `to_json(${text})`,
  serialize: (json) => `CAST(${json} AS VARCHAR)`,
  // RFC 7386 merge patch into {} drops null members; an object left empty becomes NULL, so its parent drops it.
  object: (members) => `nullif(json_merge_patch('{}', json_object(\n${members.map(([k, v]) => `  '${k}', ${v}`).join(',\n')}\n)), '{}')`,
  array: (json, element) =>
    `CASE WHEN json_type(${json}) = 'ARRAY' THEN nullif(to_json(list_filter(list_transform(json_extract(${json}, '$[*]'), lambda item: ${element('item')}), lambda x: x IS NOT NULL)), '[]') END`,
  finish: (root, parsed) => `CASE WHEN ${DUCKDB.isObject(parsed)} THEN CAST(${root} AS VARCHAR) END`,
};

const DIALECTS: Record<Dialect, SqlDialect> = { bigquery: BIGQUERY, duckdb: DUCKDB };

/** Trimmed and ASCII lower-cased, NULL when empty: shared/pseudonym.ts normalizeIdentifier in SQL. */
export function normalizeSql(dialect: Dialect, expr: string): string {
  return DIALECTS[dialect].normalize(expr);
}

/** Whether a normalized text is an email address or a phone number: shared/pseudonym.ts personalKind in SQL. */
export function isPersonalSql(dialect: Dialect, normalized: string): string {
  const d = DIALECTS[dialect];
  const p = PERSONAL_IDENTIFIER;
  const phone = `(${d.matches(normalized, p.phoneCharacters)} AND ${d.digitCount(normalized)} BETWEEN ${p.minDigits} AND ${p.maxDigits} AND (${d.startsWithPlus(normalized)} OR ${d.matches(normalized, p.phoneSeparated)}))`;
  return `(${d.matches(normalized, p.emailMarker)} OR ${phone})`;
}

/** shared/redact.ts redactText in SQL: every replacement, in order. */
export function redactTextSql(dialect: Dialect, expr: string): string {
  return TEXT_REDACTIONS.reduce((inner, r) => DIALECTS[dialect].replaceAll(inner, r.pattern, r.replacement), expr);
}

/** shared/redact.ts redactUrl in SQL. */
export function redactUrlSql(dialect: Dialect, expr: string): string {
  const d = DIALECTS[dialect];
  return redactTextSql(dialect, d.replaceAll(d.replaceAll(expr, URL_QUERY_AND_FRAGMENT, ''), URL_USERINFO, '$1'));
}

/** The keyed hash of a text, normalized first: shared/pseudonym.ts hashIdentifier in SQL. */
export function hashSql(dialect: Dialect, expr: string): string {
  return DIALECTS[dialect].hash(normalizeSql(dialect, expr));
}

const indent = (sql: string, by = '  ') => sql.replaceAll('\n', `\n${by}`);

/** A leaf of the payload allow-list outside arrays: one named column per stage of the view. */
interface Leaf {
  slug: string;
  path: string;
  rule: Exclude<FieldRule, { object: PayloadFields }>;
}

function leavesOf(fields: PayloadFields, prefix = ''): Leaf[] {
  return Object.entries(fields).flatMap(([field, rule]) => {
    const path = prefix ? `${prefix}.${field}` : field;
    if (typeof rule === 'object' && 'object' in rule) return leavesOf(rule.object, path);
    if (typeof rule === 'object' && Object.values(rule.each).some((r) => r !== 'keep')) throw new Error(`${path}[]: only kept fields are supported inside arrays`);
    return [{ slug: path.replaceAll('.', '_'), path, rule }];
  });
}

const TEXT_RULES = new Set(['hash', 'hash-if-personal', 'url', 'text', 'preferences']);
const HASH_RULES = new Set(['hash', 'hash-if-personal']);

/** Columns of the row treated like payload leaves, by the same names in every stage. */
function columnLeaves(): Leaf[] {
  return EVENT_COLUMNS.flatMap(({ name }) => {
    const treatment = COLUMN_TREATMENT[name];
    return treatment === 'hash' || treatment === 'hash-if-personal' || treatment === 'url' || treatment === 'text' ? [{ slug: `column_${name}`, path: name, rule: treatment }] : [];
  });
}

/** The payload object for `fields` under `prefix`, each member from the last stage's named columns. */
function payloadObject(d: SqlDialect, fields: PayloadFields, prefix = ''): string {
  const members = Object.entries(fields).map(([field, rule]): [string, string] => {
    const path = prefix ? `${prefix}.${field}` : field;
    if (typeof rule === 'object' && 'object' in rule) return [field, indent(payloadObject(d, rule.object, path))];
    return [field, indent(leafValue(d, { slug: path.replaceAll('.', '_'), path, rule }))];
  });
  return d.object(members);
}

function leafValue(d: SqlDialect, { slug, rule }: Leaf): string {
  const json = `j_${slug}`;
  const keep = (value: string) => `CASE WHEN ${d.isScalar(value)} THEN ${value} END`;
  if (typeof rule === 'object') {
    return d.array(json, (item) => d.object(Object.keys(rule.each).map((field) => [field, keep(d.extract(item, `$.${field}`))])));
  }
  switch (rule) {
    case 'keep':
      return keep(json);
    case 'hash':
      return d.fromText(d.hash(`n_${slug}`));
    case 'hash-if-personal':
      return `CASE WHEN personal_${slug} THEN ${d.fromText(d.hash(`n_${slug}`))} ELSE ${keep(json)} END`;
    case 'url':
      return d.fromText(redactUrlSql(d.name, `t_${slug}`));
    case 'text':
      return d.fromText(redactTextSql(d.name, `t_${slug}`));
    case 'preferences':
      // Only the `topics` of the preferences (a JSON string) are kept, as a JSON string again.
      return `CASE WHEN metric = '${CONTENT_IS_PREFERENCES}' AND ${d.isObject(`topics_${slug}`)} THEN ${d.fromText(d.serialize(d.object([['topics', `topics_${slug}`]])))} END`;
  }
}

function columnValue(d: SqlDialect, name: EventColumnName, treatment: ColumnTreatment): string {
  const slug = `column_${name}`;
  switch (treatment) {
    case 'keep':
    case 'omit':
      return name;
    case 'hash':
      return d.hash(`n_${slug}`);
    case 'hash-if-personal':
      return `CASE WHEN personal_${slug} THEN ${d.hash(`n_${slug}`)} ELSE ${name} END`;
    case 'url':
      return redactUrlSql(d.name, name);
    case 'text':
      return redactTextSql(d.name, name);
    case 'payload':
      return d.finish(payloadObject(d, PAYLOAD_FIELDS), 'payload_json');
  }
}

/** `WITH name AS (SELECT *, expr AS alias, … FROM previous)`: one stage of named columns. */
const stage = (name: string, from: string, columns: Array<[string, string]>, comment: string) =>
  `${name} AS (\n  -- ${comment}\n  SELECT *,\n${columns.map(([alias, expr]) => `    ${expr} AS ${alias}`).join(',\n')}\n  FROM ${from}\n)`;

/**
 * The analysts' `events` view. Stages, each adding named columns, keep it readable: the payload
 * parsed once, its allow-listed fields extracted, their text, normalized text and whether it is
 * personal; the last SELECT applies the rules, joined to the key's pads. No key in this text.
 */
export function analyticsEventsSql(dialect: Dialect, raw: NameResolver): string {
  const d = DIALECTS[dialect];
  const leaves = leavesOf(PAYLOAD_FIELDS);
  const columns = columnLeaves();
  const textOf = (leaf: Leaf) => (leaf.path in COLUMN_TREATMENT && leaf.slug.startsWith('column_') ? leaf.path : `t_${leaf.slug}`);
  const stages = [
    stage('parsed', raw('events'), [['payload_json', d.parse('payload')]], 'the payload, parsed once (NULL when it is not JSON)'),
    stage('fields', 'parsed', leaves.map((l) => [`j_${l.slug}`, d.extract('payload_json', `$.${l.path}`)]), 'the allow-listed payload fields (infra/privacy.ts PAYLOAD_SHAPES); nothing else is read'),
    stage('texts', 'fields', leaves.filter((l) => TEXT_RULES.has(l.rule as string)).map((l) => [`t_${l.slug}`, d.text(`j_${l.slug}`)]), 'their text, for the fields a rule reads as text'),
    stage(
      'normalized',
      'texts',
      [
        ...[...columns, ...leaves].filter((l) => HASH_RULES.has(l.rule as string)).map((l): [string, string] => [`n_${l.slug}`, normalizeSql(dialect, textOf(l))]),
        ...leaves.filter((l) => l.rule === 'preferences').map((l): [string, string] => [`topics_${l.slug}`, d.extract(d.parse(`t_${l.slug}`), '$.topics')]),
      ],
      'identifiers trimmed and lower-cased (ASCII) before hashing: one person, one hash',
    ),
    stage('classified', 'normalized', [...columns, ...leaves].filter((l) => l.rule === 'hash-if-personal').map((l) => [`personal_${l.slug}`, isPersonalSql(dialect, `n_${l.slug}`)]), 'ids that are an email address or a phone number'),
  ];
  const selected = [
    ...EVENT_COLUMNS.filter(({ name }) => COLUMN_TREATMENT[name] !== 'omit').map(({ name }) => {
      const treatment = COLUMN_TREATMENT[name];
      const alias = treatment === 'hash' ? hashedName(name) : name;
      const value = columnValue(d, name, treatment);
      return value === alias ? `  ${alias}` : `  ${indent(value)} AS ${alias}`;
    }),
    ...METADATA_COLUMNS.map(({ name }) => `  ${name}`),
  ];
  return [
    '-- Events for analysts (infra/privacy.ts): keyed hashes instead of addresses and phone numbers,',
    '-- URLs without credentials or query, redacted failure texts, a payload rebuilt from an allow-list.',
    "-- A filter on event_timestamp prunes the raw table's partitions through these stages.",
    `WITH ${stages.join(',\n')}`,
    'SELECT',
    selected.join(',\n'),
    'FROM classified',
    `CROSS JOIN ${keyPadsSql(dialect, raw)} AS k`,
  ].join('\n');
}

/**
 * The raw dataset's one-row table holding the pseudonym key, loaded from a private object and never
 * written in SQL. (Not `pseudonym_key`: that was the view whose text held the key; it goes away.)
 */
export const KEY_TABLE = 'pseudonym_hmac_key';
/**
 * One STRING column, hex. No column description and the default mode: a WRITE_TRUNCATE load writes
 * the table's schema again, and whatever it would not carry over would show as a change on the next
 * plan.
 */
export const KEY_TABLE_SCHEMA = [{ name: 'key_hex', type: 'STRING' }] as const;

/**
 * The relation `k` (ipad, opad) the hashes read: HMAC's pads (RFC 2104) derived from the key table
 * in BigQuery; locally, a view of pads computed from the local stack's own key.
 */
function keyPadsSql(dialect: Dialect, raw: NameResolver): string {
  if (dialect === 'duckdb') return raw(KEY_TABLE);
  const padded = "(FROM_HEX(key_hex) || REPEAT(b'\\x00', 64 - BYTE_LENGTH(FROM_HEX(key_hex))))";
  // The provider's load job only waits for the job to exist (provider issue #9826): a load that
  // failed leaves the table empty with a clean apply. Then every analytics query fails with this
  // error (and the deliverability guard's failure alert fires) instead of answering no rows.
  const key = `(SELECT IF(COUNT(*) = 1, ANY_VALUE(key_hex), ERROR(CONCAT('${KEY_NOT_LOADED} (', CAST(COUNT(*) AS STRING), ' rows)'))) AS key_hex FROM ${raw(KEY_TABLE)})`;
  return `(SELECT ${padded} ^ REPEAT(b'\\x36', 64) AS ipad, ${padded} ^ REPEAT(b'\\x5c', 64) AS opad FROM ${key})`;
}

/** What an analytics query answers while the key table does not hold exactly one key. */
export const KEY_NOT_LOADED = `the pseudonym key table ${KEY_TABLE} does not hold exactly one key: its load job failed or has not finished (docs/privacy.md)`;

/** The local warehouse's key relation: the pads of the local stack's key (a development key). */
export function localKeySql(key: Uint8Array): string {
  const { ipad, opad } = hmacPads(key);
  return `SELECT unhex('${ipad.toString('hex')}') AS ipad, unhex('${opad.toString('hex')}') AS opad`;
}

/**
 * Rows partition expiration never reaches, removed by the daily retention query once they were
 * received longer ago than the retention: rows without an event time (the __NULL__ partition), rows
 * dated more than a day after they arrived (a future date sits in a partition that expires years
 * late, or never: past 2159 it is in __UNPARTITIONED__), and rows dated before 1960 (also
 * __UNPARTITIONED__). event_timestamp keeps its meaning; only how long such a row lives changes.
 */
export function retentionDeleteSql(dialect: Dialect, table: string, days: number): string {
  const cutoff = dialect === 'bigquery' ? `TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL ${days} DAY)` : `current_timestamp - INTERVAL ${days} DAY`;
  const dayAfter = dialect === 'bigquery' ? 'TIMESTAMP_ADD(received_at, INTERVAL 1 DAY)' : 'received_at + INTERVAL 1 DAY';
  return [
    `DELETE FROM ${table}`,
    `WHERE (event_timestamp IS NULL OR event_timestamp > ${dayAfter} OR event_timestamp < TIMESTAMP '1960-01-01')`,
    `  AND received_at < ${cutoff}`,
  ].join('\n');
}
