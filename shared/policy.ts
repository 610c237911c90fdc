/**
 * The action policy: which events change a person in Customer.io, and how. Table-driven and pure;
 * the handler executes what `decideActions` returns, and the push subscription's filter is rendered
 * from the same rules (`renderPushFilter`), so the two cannot disagree.
 */
import type { EventRow } from './row.js';

export const ACTION_RULE_NAMES = ['bounce', 'spam', 'unsubscribe', 'engagement'] as const;
export type ActionRuleName = (typeof ACTION_RULE_NAMES)[number];

export type Attributes = Record<string, string | number | boolean | null>;

interface ActionRule {
  name: ActionRuleName;
  /** Object types the rule applies to; 'any' for every object type. */
  objectTypes: readonly string[] | 'any';
  metrics: readonly string[];
  /** Row-level condition beyond object type and metric (not expressible in the attribute filter). */
  applies?: (row: EventRow) => boolean;
  attributes: (row: EventRow, at: number) => Attributes;
}

/**
 * The defaults of the architecture doc. Note what is *not* here: nothing writes `unsubscribed` in
 * answer to an unsubscribed event (Customer.io would emit another one: a loop), and nothing
 * suppresses by default (suppress deletes the person).
 */
/**
 * Attributes that hold Customer.io's own ids, not text a person or a mail server wrote: a log line
 * shows them as they are (the analysts' views keep delivery_id too, infra/privacy.ts), while every
 * other text attribute is redacted (shared/redact.ts). An id like RPIL33a7173287 would otherwise
 * lose its digits to the phone-number rule.
 */
export const ID_ATTRIBUTES: ReadonlySet<string> = new Set(['last_bounce_delivery_id']);

export const ACTION_RULES: readonly ActionRule[] = [
  {
    name: 'bounce',
    objectTypes: ['email'],
    metrics: ['bounced'],
    attributes: (row, at) => ({
      email_bounced: true,
      email_bounced_at: at,
      last_bounce_delivery_id: row.delivery_id,
      last_bounce_reason: row.failure_message,
    }),
  },
  {
    name: 'spam',
    objectTypes: ['email'],
    metrics: ['spammed'],
    attributes: (_row, at) => ({ unsubscribed: true, spam_complaint: true, spam_complaint_at: at }),
  },
  {
    name: 'unsubscribe',
    objectTypes: 'any',
    metrics: ['unsubscribed'],
    attributes: (_row, at) => ({ unsubscribed_at: at }),
  },
  {
    name: 'engagement',
    objectTypes: ['email'],
    metrics: ['opened', 'clicked'],
    // Link scanners and privacy prefetching are not a person engaging.
    applies: (row) => row.machine !== true && row.prefetched !== true,
    attributes: (row, at) => ({ last_email_engaged_at: at, last_email_metric: row.metric }),
  },
];

export interface Policy {
  actions: readonly ActionRuleName[];
  /** Metrics that also call suppress, which deletes the person. Empty by default. */
  suppressOn: readonly string[];
}

export const DEFAULT_POLICY: Policy = { actions: ACTION_RULE_NAMES, suppressOn: [] };

export type CioAction =
  | { kind: 'identify'; identifier: string; attributes: Attributes & { _update: true; _timestamp: number } }
  | { kind: 'suppress'; identifier: string };

export type Decision =
  | { kind: 'none' }
  | { kind: 'unaddressable'; rules: string[] }
  | { kind: 'act'; rules: string[]; identifier: string; actions: CioAction[] };

function activeRules(policy: Policy): ActionRule[] {
  return ACTION_RULES.filter((rule) => policy.actions.includes(rule.name));
}

function ruleMatches(rule: ActionRule, row: EventRow): boolean {
  if (row.metric === null || !rule.metrics.includes(row.metric)) return false;
  if (rule.objectTypes !== 'any' && (row.object_type === null || !rule.objectTypes.includes(row.object_type))) {
    return false;
  }
  return rule.applies?.(row) ?? true;
}

/** `cio_<cio_id>` (survives id and email changes), else the id, else the email. */
export function identifierOf(row: EventRow): string | null {
  if (row.cio_id) return `cio_${row.cio_id}`;
  return row.customer_id ?? row.email ?? null;
}

function epochSeconds(rfc3339: string | null): number | null {
  if (rfc3339 === null) return null;
  const ms = Date.parse(rfc3339);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

export function decideActions(row: EventRow, policy: Policy): Decision {
  const rules = activeRules(policy).filter((rule) => ruleMatches(rule, row));
  const suppress = row.metric !== null && policy.suppressOn.includes(row.metric);
  if (rules.length === 0 && !suppress) return { kind: 'none' };
  const names = [...rules.map((r) => r.name), ...(suppress ? ['suppress'] : [])];

  const identifier = identifierOf(row);
  if (identifier === null) return { kind: 'unaddressable', rules: names };

  // The event's own time orders updates: a late-arriving older event must not overwrite a newer one.
  const at = epochSeconds(row.event_timestamp) ?? epochSeconds(row.received_at) ?? 0;
  const actions: CioAction[] = [];
  if (rules.length > 0) {
    const attributes = Object.assign({}, ...rules.map((rule) => rule.attributes(row, at))) as Attributes;
    actions.push({ kind: 'identify', identifier, attributes: { ...attributes, _update: true, _timestamp: at } });
  }
  if (suppress) actions.push({ kind: 'suppress', identifier });
  return { kind: 'act', rules: names, identifier, actions };
}

/** Pub/Sub limits a subscription filter to 256 bytes. */
export const MAX_FILTER_BYTES = 256;

const metricIs = (metric: string) => `attributes.metric = ${JSON.stringify(metric)}`;
const anyOf = (terms: string[]) => (terms.length === 1 ? terms[0]! : `(${terms.join(' OR ')})`);

/**
 * The push subscription's attribute filter: exactly the (object_type, metric) pairs some active
 * rule or suppress could act on. Row-level conditions (machine opens) are left to the handler.
 */
export function renderPushFilter(policy: Policy): string {
  const anyType = new Set(policy.suppressOn);
  const byType = new Map<string, Set<string>>();
  for (const rule of activeRules(policy)) {
    for (const metric of rule.metrics) {
      if (rule.objectTypes === 'any') anyType.add(metric);
      else for (const type of rule.objectTypes) byType.set(type, (byType.get(type) ?? new Set()).add(metric));
    }
  }
  const clauses: string[] = [];
  for (const [type, metrics] of [...byType].sort(([a], [b]) => a.localeCompare(b))) {
    const own = [...metrics].filter((m) => !anyType.has(m));
    if (own.length > 0) clauses.push(`(attributes.object_type = ${JSON.stringify(type)} AND ${anyOf(own.map(metricIs))})`);
  }
  clauses.push(...[...anyType].sort().map(metricIs));

  // Nothing actionable: a filter no message matches, so the handler is never invoked.
  let filter = clauses.length === 0 ? 'attributes.metric = "-"' : clauses.join(' OR ');
  if (Buffer.byteLength(filter) > MAX_FILTER_BYTES) {
    // Coarser but shorter: every actionable metric regardless of object type; the handler decides.
    const metrics = new Set([...anyType, ...[...byType.values()].flatMap((s) => [...s])]);
    filter = [...metrics].sort().map(metricIs).join(' OR ');
  }
  if (Buffer.byteLength(filter) > MAX_FILTER_BYTES) {
    throw new Error(`push filter is ${Buffer.byteLength(filter)} bytes, over Pub/Sub's ${MAX_FILTER_BYTES}`);
  }
  return filter;
}
