import { describe, expect, it } from 'vitest';
import { EnvelopeError, decodeEventRow, encodePushEnvelope, parsePushEnvelope } from '../../shared/push-envelope.js';
import { attributesOf } from '../../shared/row.js';
import { normalizeWebhook } from '../../shared/normalize.js';

const row = normalizeWebhook({ body: Buffer.from('{"event_id":"e1","object_type":"email","metric":"bounced"}'), receivedAt: new Date(0) });
const data = Buffer.from(JSON.stringify(row)).toString('base64');

describe('encodePushEnvelope', () => {
  it('builds what parsePushEnvelope reads back: the row, its attributes, and only the fields given', () => {
    const full = parsePushEnvelope(encodePushEnvelope(row, { messageId: 'm9', subscription: 'projects/p/subscriptions/s', publishTime: 't', deliveryAttempt: 2 }));
    expect(full).toMatchObject({ messageId: 'm9', publishTime: 't', deliveryAttempt: 2, subscription: 'projects/p/subscriptions/s', attributes: attributesOf(row) });
    expect(decodeEventRow(full.data)).toEqual(row);
    expect(parsePushEnvelope(encodePushEnvelope(row, { messageId: 'm9', subscription: 's' }))).toMatchObject({ publishTime: null, deliveryAttempt: null });
  });
});

describe('parsePushEnvelope', () => {
  it('reads the camelCase envelope production sends', () => {
    const message = parsePushEnvelope({
      message: { data, attributes: { event_id: 'e1', n: 5 }, messageId: 'm1', publishTime: '2026-01-01T00:00:00Z' },
      subscription: 'projects/p/subscriptions/s',
      deliveryAttempt: 3,
    });
    expect(message).toMatchObject({ messageId: 'm1', publishTime: '2026-01-01T00:00:00Z', attributes: { event_id: 'e1' }, deliveryAttempt: 3, subscription: 'projects/p/subscriptions/s' });
    expect(decodeEventRow(message.data)).toEqual(row);
  });

  it('reads snake_case fields and a missing deliveryAttempt (the emulator sends none)', () => {
    const message = parsePushEnvelope({ message: { data, message_id: 'm2', publish_time: 't' }, delivery_attempt: 2 });
    expect(message).toMatchObject({ messageId: 'm2', publishTime: 't', deliveryAttempt: 2 });
    expect(parsePushEnvelope({ message: { data } }).deliveryAttempt).toBeNull();
  });

  it.each([
    ['a string', 'hello', 'push envelope must be a JSON object'],
    ['no message', { subscription: 's' }, 'push envelope has no "message" object'],
    ['no data', { message: {} }, 'message.data must be non-empty base64'],
    ['non-base64 data', { message: { data: '!!!' } }, 'message.data must be non-empty base64'],
  ])('rejects %s', (_label, body, message) => {
    expect(() => parsePushEnvelope(body)).toThrow(new EnvelopeError(message));
  });
});

describe('decodeEventRow', () => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value));
  it.each([
    ['non-JSON data', Buffer.from('nope'), 'message data is not JSON'],
    ['an array', encode([row]), 'message data is not an event row object'],
    ['no event_id', encode({ ...row, event_id: undefined }), 'event row has no event_id'],
    ['an empty event_id', encode({ ...row, event_id: '' }), 'event row has an empty event_id'],
    ['a wrongly typed column', encode({ ...row, campaign_id: '12' }), 'event row column campaign_id is not a number'],
  ])('rejects %s', (_label, bytes, message) => {
    expect(() => decodeEventRow(bytes)).toThrow(message);
  });

  it('fills absent optional columns with null', () => {
    expect(decodeEventRow(encode({ event_id: 'x' })).metric).toBeNull();
  });
});
