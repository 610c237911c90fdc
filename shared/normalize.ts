/**
 * Raw webhook body → event row. Lenient by design (reference §2): Customer.io's own examples omit
 * "required" fields, test sends carry numeric ids as strings, and new fields appear. This function
 * never throws: anything it cannot read becomes null, and the raw body is always kept verbatim.
 */
import { createHash } from 'node:crypto';
import type { EventRow } from './row.js';

/** Longest value kept in a STRING column other than `payload` (which is stored whole). */
export const MAX_FIELD_CHARS = 16_384;

/**
 * Longest event_id kept as it is, in UTF-8 bytes. Customer.io's ids are 26-character ULIDs; the id
 * also travels as a Pub/Sub attribute, which Pub/Sub caps at 1,024 bytes, and is the key the dead
 * letters and `ops trace` are looked up by. A longer id is stored as EVENT_ID_HASH_PREFIX + the hex
 * SHA-256 of the id: refusing it would make Customer.io hold back every later webhook behind it,
 * and cutting it would give two ids with a common beginning one dedupe record (the second event's
 * actions would be skipped), while the hash keeps every id distinct and a retry's id the same. The
 * whole id stays in `payload`.
 */
export const MAX_EVENT_ID_BYTES = 256;
export const EVENT_ID_HASH_PREFIX = 'event_id-sha256:';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own properties only: `__proto__` or `constructor` keys in a payload are plain data here. */
function field(obj: JsonObject | undefined, key: string): unknown {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function toText(value: unknown): string | null {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else if (typeof value === 'bigint') text = value.toString();
  else return null;
  if (text.length === 0) return null;
  // Lone surrogates are not UTF-8; BigQuery would refuse the whole row.
  const wellFormed = text.toWellFormed();
  return wellFormed.length > MAX_FIELD_CHARS ? wellFormed.slice(0, MAX_FIELD_CHARS).toWellFormed() : wellFormed;
}

const INTEGER = /^-?\d{1,20}$/;

/** INT64 columns: safe integers and numeric strings; anything else (and precision loss) is null. */
function toInt(value: unknown): number | null {
  const parsed = typeof value === 'number' ? value : typeof value === 'string' && INTEGER.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(parsed)) return null;
  // -0 would serialize as 0: store the value JSON can carry.
  return parsed === 0 ? 0 : parsed;
}

function toBool(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 1 || value === '1') return true;
  if (value === 'false' || value === 0 || value === '0') return false;
  return null;
}

// BigQuery TIMESTAMP range: 0001-01-01 .. 9999-12-31.
const MIN_EPOCH_SECONDS = -62_135_596_800;
const MAX_EPOCH_SECONDS = 253_402_300_799;

/** Unix seconds (number or numeric string) → RFC 3339 in UTC, or null. */
export function unixSecondsToRfc3339(value: unknown): string | null {
  let seconds: number;
  if (typeof value === 'number') seconds = value;
  else if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) seconds = Number(value.trim());
  else return null;
  if (!Number.isFinite(seconds) || seconds < MIN_EPOCH_SECONDS || seconds > MAX_EPOCH_SECONDS) return null;
  return new Date(Math.round(seconds * 1000)).toISOString();
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A body read as JSON once: the receiver checks it and the normalizer reads it from the same parse. */
export type ParsedBody = { json: true; value: unknown } | { json: false };

export function bodyText(body: Uint8Array): string {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
}

export function parseBody(text: string): ParsedBody {
  try {
    return { json: true, value: JSON.parse(text) as unknown };
  } catch {
    return { json: false };
  }
}

/** The row's event_id: the payload's (hashed when over MAX_EVENT_ID_BYTES), else the body's hash. */
function eventIdOf(value: unknown, body: Uint8Array): string {
  const id = typeof value === 'string' ? value.toWellFormed() : toText(value);
  if (id === null || id === '') return `sha256:${sha256Hex(body)}`;
  return Buffer.byteLength(id) > MAX_EVENT_ID_BYTES ? `${EVENT_ID_HASH_PREFIX}${sha256Hex(id)}` : id;
}

export interface NormalizeInput {
  /** The request body exactly as received. */
  body: Uint8Array;
  receivedAt: Date;
  /** The body already parsed (parseBody of its UTF-8 text); parsed here when absent. */
  parsed?: ParsedBody;
  /** The body's UTF-8 text, when the caller already decoded it (a large body is not decoded twice). */
  text?: string;
  /** The workspace whose URL received it (CIO_WORKSPACES); null or absent with one workspace. */
  workspace?: string | null;
}

export function normalizeWebhook({ body, receivedAt, parsed, text, workspace = null }: NormalizeInput): EventRow {
  const payload = text ?? bodyText(body);
  const read = parsed ?? parseBody(payload);
  const root = read.json && isObject(read.value) ? read.value : undefined;
  const rawData = field(root, 'data');
  const data = isObject(rawData) ? rawData : undefined;
  const rawIdentifiers = field(data, 'identifiers');
  const identifiers = isObject(rawIdentifiers) ? rawIdentifiers : undefined;
  const fromData = (key: string) => toText(field(data, key));
  const intFromData = (key: string) => toInt(field(data, key));
  const flagFromData = (key: string) => toBool(field(data, key));

  return {
    event_id: eventIdOf(field(root, 'event_id'), body),
    object_type: toText(field(root, 'object_type')),
    metric: toText(field(root, 'metric')),
    event_timestamp: unixSecondsToRfc3339(field(root, 'timestamp')),
    received_at: receivedAt.toISOString(),
    customer_id: toText(field(identifiers, 'id')) ?? fromData('customer_id'),
    cio_id: toText(field(identifiers, 'cio_id')),
    email: toText(field(identifiers, 'email')) ?? fromData('email_address'),
    recipient: fromData('recipient'),
    delivery_id: fromData('delivery_id'),
    journey_id: fromData('journey_id'),
    trigger_event_id: fromData('trigger_event_id'),
    campaign_id: intFromData('campaign_id'),
    action_id: intFromData('action_id'),
    parent_action_id: intFromData('parent_action_id'),
    broadcast_id: intFromData('broadcast_id'),
    trigger_id: intFromData('trigger_id'),
    newsletter_id: intFromData('newsletter_id'),
    content_id: intFromData('content_id'),
    transactional_message_id: intFromData('transactional_message_id'),
    link_id: intFromData('link_id'),
    subject: fromData('subject'),
    href: fromData('href'),
    failure_message: fromData('failure_message'),
    machine: flagFromData('machine'),
    proxied: flagFromData('proxied'),
    prefetched: flagFromData('prefetched'),
    synthetic: flagFromData('synthetic'),
    payload,
    workspace,
  };
}
