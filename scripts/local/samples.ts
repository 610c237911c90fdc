/**
 * Realistic Customer.io reporting-webhook payloads for every object type and metric (reference §2–3):
 * identifiers, campaign / broadcast / newsletter / transactional sources, push recipients, open and
 * click flags, customer-shaped subscription events. Used by the sender, the benchmarks and the tests.
 */
import { randomBytes } from 'node:crypto';
import { METRICS_BY_OBJECT_TYPE, type KnownObjectType } from '../../shared/events.js';

export type Source = 'campaign' | 'broadcast' | 'newsletter' | 'transactional';
export const SOURCES: readonly Source[] = ['campaign', 'broadcast', 'newsletter', 'transactional'];

export interface SampleOptions {
  /** Distinguishes people and ids between samples. */
  seq?: number;
  source?: Source;
  /** Unix seconds of the event. */
  timestamp?: number;
  eventId?: string;
}

const ULID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID-like id, as Customer.io's event_id looks. */
export function newEventId(): string {
  const bytes = randomBytes(26);
  return Array.from(bytes, (b) => ULID_ALPHABET[b % 32]).join('');
}

export type SamplePayload = {
  event_id: string;
  object_type: string;
  metric: string;
  timestamp: number;
  data: Record<string, unknown>;
};

function recipientFor(objectType: string, seq: number): unknown {
  switch (objectType) {
    case 'email':
      return `person${seq}@example.com`;
    case 'sms':
    case 'whatsapp':
      return `+1555${String(1000000 + (seq % 9000000)).padStart(7, '0')}`;
    case 'slack':
      return `#alerts-${seq % 10}`;
    case 'webhook':
      return `https://hooks.example.com/cio/${seq}`;
    default:
      return undefined;
  }
}

function sourceIds(source: Source, seq: number): Record<string, unknown> {
  switch (source) {
    case 'campaign':
      return { campaign_id: 100 + (seq % 7), action_id: 400 + (seq % 11), journey_id: `01GJ${seq}`, trigger_event_id: `01TE${seq}` };
    case 'broadcast':
      return { broadcast_id: 9 + (seq % 3), trigger_id: 20 + seq, action_id: 42 };
    case 'newsletter':
      return { newsletter_id: 7 + (seq % 4), content_id: 70 + (seq % 2) };
    case 'transactional':
      return { transactional_message_id: 3 + (seq % 5) };
  }
}

export function samplePayload(objectType: KnownObjectType, metric: string, options: SampleOptions = {}): SamplePayload {
  const seq = options.seq ?? 1;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const identifiers = { id: `user-${seq}`, email: `person${seq}@example.com`, cio_id: `d9c1${String(seq).padStart(8, '0')}` };
  const base = { event_id: options.eventId ?? newEventId(), object_type: objectType, metric, timestamp };

  if (objectType === 'customer') {
    const data: Record<string, unknown> = { customer_id: identifiers.id, email_address: identifiers.email, identifiers };
    if (metric === 'cio_subscription_preferences_changed') data.content = '{"topics":{"topic_1":true,"topic_2":false}}';
    return { ...base, data };
  }

  const source = options.source ?? (objectType === 'push' || objectType === 'email' ? SOURCES[seq % 4]! : SOURCES[seq % 3]!);
  const data: Record<string, unknown> = {
    delivery_id: `RPIL${seq.toString(36).toUpperCase()}${randomBytes(4).toString('hex')}`,
    identifiers,
    customer_id: identifiers.id,
    ...sourceIds(source, seq),
  };
  const recipient = recipientFor(objectType, seq);
  if (recipient !== undefined) data.recipient = recipient;
  if (objectType === 'push') {
    data.recipients = [{ device_id: `device-${seq}`, device_platform: seq % 2 === 0 ? 'ios' : 'android' }];
  }
  if (objectType === 'email' && ['sent', 'delivered', 'opened', 'clicked', 'bounced', 'spammed'].includes(metric)) {
    data.subject = `Your weekly digest #${seq}`;
  }
  if (['bounced', 'dropped', 'failed', 'undeliverable', 'attempted'].includes(metric)) {
    data.failure_message = metric === 'bounced' ? '550 5.1.1 mailbox does not exist' : `${metric}: provider refused the message`;
  }
  if (metric === 'clicked') {
    data.href = `https://example.com/offer?utm_campaign=${seq}`;
    data.link_id = 1000 + (seq % 50);
    if (objectType === 'email') data.machine = seq % 5 === 0;
  }
  if (metric === 'opened' && objectType === 'email') {
    data.proxied = seq % 3 === 0;
    data.prefetched = seq % 6 === 0;
    data.synthetic = seq % 7 === 0;
  }
  return { ...base, data };
}

/** One sample per (object type, metric) pair Customer.io documents. */
export function allSamples(options: Omit<SampleOptions, 'eventId'> = {}): SamplePayload[] {
  let seq = options.seq ?? 1;
  return (Object.keys(METRICS_BY_OBJECT_TYPE) as KnownObjectType[]).flatMap((type) =>
    METRICS_BY_OBJECT_TYPE[type].map((metric) => samplePayload(type, metric, { ...options, seq: seq++ })),
  );
}
