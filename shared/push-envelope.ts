/**
 * The Pub/Sub push envelope, parsed once into typed values. Production sends camelCase; some
 * tooling (and older docs) use snake_case, so both are read. `deliveryAttempt` is only present with
 * a dead-letter policy, and the emulator never sends it.
 */
import type { EventRow } from './row.js';
import { EVENT_COLUMNS, attributesOf } from './row.js';
import type { TraceContext } from './trace-context.js';

export interface PushMessage {
  messageId: string;
  publishTime: string | null;
  attributes: Record<string, string>;
  data: Buffer;
  deliveryAttempt: number | null;
  subscription: string | null;
}

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const pick = (o: Obj, ...keys: string[]): unknown => {
  for (const key of keys) if (Object.hasOwn(o, key)) return o[key];
  return undefined;
};
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * The envelope Pub/Sub would push for `row` as the receiver publishes it (data and attributes):
 * what the tests, the handler bench and the cost model send to the handler. `publishTime` and
 * `deliveryAttempt` are left out unless given, as on a subscription without them.
 */
export function encodePushEnvelope(row: EventRow, options: { messageId: string; subscription: string; publishTime?: string; deliveryAttempt?: number; trace?: TraceContext }) {
  const { messageId, subscription, publishTime, deliveryAttempt, trace } = options;
  return {
    message: {
      data: Buffer.from(JSON.stringify(row)).toString('base64'),
      attributes: attributesOf(row, trace),
      messageId,
      ...(publishTime === undefined ? {} : { publishTime }),
    },
    subscription,
    ...(deliveryAttempt === undefined ? {} : { deliveryAttempt }),
  };
}

export function parsePushEnvelope(body: unknown): PushMessage {
  if (!isObj(body)) throw new EnvelopeError('push envelope must be a JSON object');
  const message = pick(body, 'message');
  if (!isObj(message)) throw new EnvelopeError('push envelope has no "message" object');
  const data = pick(message, 'data');
  if (typeof data !== 'string' || data === '' || !BASE64.test(data)) {
    throw new EnvelopeError('message.data must be non-empty base64');
  }
  const messageId = pick(message, 'messageId', 'message_id');
  const publishTime = pick(message, 'publishTime', 'publish_time');
  const rawAttributes = pick(message, 'attributes');
  const attributes: Record<string, string> = {};
  if (isObj(rawAttributes)) {
    for (const [key, value] of Object.entries(rawAttributes)) if (typeof value === 'string') attributes[key] = value;
  }
  const attempt = pick(body, 'deliveryAttempt', 'delivery_attempt');
  const subscription = pick(body, 'subscription');
  return {
    messageId: typeof messageId === 'string' ? messageId : '',
    publishTime: typeof publishTime === 'string' ? publishTime : null,
    attributes,
    data: Buffer.from(data, 'base64'),
    deliveryAttempt: typeof attempt === 'number' && Number.isInteger(attempt) ? attempt : null,
    subscription: typeof subscription === 'string' ? subscription : null,
  };
}

/** The event row inside a message, checked against the row definition's column types. */
export function decodeEventRow(data: Buffer): EventRow {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    throw new EnvelopeError('message data is not JSON');
  }
  if (!isObj(parsed)) throw new EnvelopeError('message data is not an event row object');
  const row: Obj = {};
  for (const column of EVENT_COLUMNS) {
    const value = Object.hasOwn(parsed, column.name) ? parsed[column.name] : null;
    const expected = column.type === 'INT64' ? 'number' : column.type === 'BOOL' ? 'boolean' : 'string';
    if (value === null || value === undefined) {
      if (column.mode === 'REQUIRED') throw new EnvelopeError(`event row has no ${column.name}`);
      row[column.name] = null;
    } else if (typeof value !== expected) {
      throw new EnvelopeError(`event row column ${column.name} is not a ${expected}`);
    } else {
      row[column.name] = value;
    }
  }
  if (row.event_id === '') throw new EnvelopeError('event row has an empty event_id');
  return row as EventRow;
}
