/**
 * The Customer.io Reporting Webhooks event model: object types and the metrics each one emits
 * (reference §3). The model is open: Customer.io adds metrics over time, so unknown values are
 * carried through as plain strings and stored, never rejected.
 */

export const METRICS_BY_OBJECT_TYPE = {
  customer: ['subscribed', 'unsubscribed', 'cio_subscription_preferences_changed'],
  email: [
    'drafted', 'attempted', 'sent', 'delivered', 'opened', 'clicked', 'converted',
    'unsubscribed', 'bounced', 'dropped', 'spammed', 'failed', 'undeliverable',
  ],
  push: [
    'drafted', 'attempted', 'sent', 'delivered', 'opened', 'clicked', 'converted',
    'bounced', 'dropped', 'failed', 'undeliverable',
  ],
  sms: [
    'drafted', 'attempted', 'sent', 'delivered', 'clicked', 'converted',
    'bounced', 'failed', 'undeliverable', 'replied',
  ],
  whatsapp: [
    'drafted', 'attempted', 'sent', 'delivered', 'opened', 'clicked', 'converted',
    'bounced', 'dropped', 'failed', 'undeliverable', 'replied',
  ],
  slack: ['drafted', 'attempted', 'sent', 'clicked', 'failed', 'undeliverable'],
  webhook: ['drafted', 'attempted', 'sent', 'clicked', 'failed', 'undeliverable'],
  in_app: ['drafted', 'attempted', 'sent', 'opened', 'clicked', 'converted', 'failed', 'undeliverable'],
} as const satisfies Record<string, readonly string[]>;

export type KnownObjectType = keyof typeof METRICS_BY_OBJECT_TYPE;
export type KnownMetric = (typeof METRICS_BY_OBJECT_TYPE)[KnownObjectType][number];

/** Known values autocomplete; any other string is still a valid (future) value. */
export type ObjectType = KnownObjectType | (string & {});
export type Metric = KnownMetric | (string & {});

export const OBJECT_TYPES = Object.keys(METRICS_BY_OBJECT_TYPE) as KnownObjectType[];

/** Every metric any object type can emit, sorted, without repeats. */
export const ALL_METRICS: readonly KnownMetric[] = [
  ...new Set(Object.values(METRICS_BY_OBJECT_TYPE).flat()),
].sort() as KnownMetric[];

export function isKnownObjectType(value: string): value is KnownObjectType {
  return Object.hasOwn(METRICS_BY_OBJECT_TYPE, value);
}

export function isKnownMetric(value: string): value is KnownMetric {
  return (ALL_METRICS as readonly string[]).includes(value);
}

/** True when Customer.io documents `metric` for `objectType`. */
export function isDocumentedPair(objectType: string, metric: string): boolean {
  return isKnownObjectType(objectType) && (METRICS_BY_OBJECT_TYPE[objectType] as readonly string[]).includes(metric);
}
