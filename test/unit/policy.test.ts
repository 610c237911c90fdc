import { describe, expect, it } from 'vitest';
import { ALL_METRICS, METRICS_BY_OBJECT_TYPE } from '../../shared/events.js';
import { normalizeWebhook } from '../../shared/normalize.js';
import { DEFAULT_POLICY, MAX_FILTER_BYTES, decideActions, identifierOf, renderPushFilter, type Policy } from '../../shared/policy.js';
import type { EventRow } from '../../shared/row.js';

const T = 1_700_000_000;
function rowOf(objectType: string, metric: string, data: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): EventRow {
  const body = JSON.stringify({ event_id: `${objectType}-${metric}`, object_type: objectType, metric, timestamp: T, data: { identifiers: { id: '42', email: 'p@example.com', cio_id: 'abc' }, ...data }, ...extra });
  return normalizeWebhook({ body: Buffer.from(body), receivedAt: new Date((T + 60) * 1000) });
}

describe('default policy', () => {
  it('email bounced → identify email_bounced with the reason', () => {
    expect(decideActions(rowOf('email', 'bounced', { delivery_id: 'd1', failure_message: '550 no such user' }), DEFAULT_POLICY)).toEqual({
      kind: 'act',
      rules: ['bounce'],
      identifier: 'cio_abc',
      actions: [{
        kind: 'identify',
        identifier: 'cio_abc',
        attributes: { email_bounced: true, email_bounced_at: T, last_bounce_delivery_id: 'd1', last_bounce_reason: '550 no such user', _update: true, _timestamp: T },
      }],
    });
  });

  it('email spammed → identify unsubscribed and spam_complaint', () => {
    const decision = decideActions(rowOf('email', 'spammed'), DEFAULT_POLICY);
    expect(decision).toMatchObject({ kind: 'act', actions: [{ kind: 'identify', attributes: { unsubscribed: true, spam_complaint: true, spam_complaint_at: T, _update: true, _timestamp: T } }] });
  });

  it.each(['customer', 'email'])('%s unsubscribed → identify unsubscribed_at, never unsubscribed (echo loop)', (objectType) => {
    const decision = decideActions(rowOf(objectType, 'unsubscribed'), DEFAULT_POLICY);
    expect(decision).toMatchObject({ kind: 'act', actions: [{ kind: 'identify', attributes: { unsubscribed_at: T, _update: true, _timestamp: T } }] });
    if (decision.kind !== 'act' || decision.actions[0]?.kind !== 'identify') throw new Error('unreachable');
    expect(decision.actions[0].attributes).not.toHaveProperty('unsubscribed');
  });

  it.each(['opened', 'clicked'])('human email %s → identify last_email_engaged_at', (metric) => {
    expect(decideActions(rowOf('email', metric), DEFAULT_POLICY)).toMatchObject({
      kind: 'act',
      actions: [{ kind: 'identify', attributes: { last_email_engaged_at: T, last_email_metric: metric, _update: true, _timestamp: T } }],
    });
  });

  it.each([
    ['machine click', 'clicked', { machine: true }],
    ['prefetched open', 'opened', { prefetched: true }],
  ])('a %s is not engagement', (_label, metric, flags) => {
    expect(decideActions(rowOf('email', metric, flags), DEFAULT_POLICY)).toEqual({ kind: 'none' });
  });

  it('a proxied (but not prefetched) open is engagement', () => {
    expect(decideActions(rowOf('email', 'opened', { proxied: true }), DEFAULT_POLICY).kind).toBe('act');
  });

  it('push opens and sms clicks are warehouse-only', () => {
    expect(decideActions(rowOf('push', 'opened'), DEFAULT_POLICY)).toEqual({ kind: 'none' });
    expect(decideActions(rowOf('sms', 'clicked'), DEFAULT_POLICY)).toEqual({ kind: 'none' });
  });

  it('every other documented pair makes no call', () => {
    const actionable = new Set(['email/bounced', 'email/spammed', 'email/opened', 'email/clicked', 'customer/unsubscribed', 'email/unsubscribed']);
    for (const [type, metrics] of Object.entries(METRICS_BY_OBJECT_TYPE)) {
      for (const metric of metrics) {
        const decision = decideActions(rowOf(type, metric), DEFAULT_POLICY);
        expect(decision.kind, `${type}/${metric}`).toBe(actionable.has(`${type}/${metric}`) ? 'act' : 'none');
      }
    }
  });

  it('never suppresses by default (suppress deletes the person)', () => {
    for (const metric of ALL_METRICS) {
      const decision = decideActions(rowOf('email', metric), DEFAULT_POLICY);
      if (decision.kind === 'act') expect(decision.actions.map((a) => a.kind)).not.toContain('suppress');
    }
  });

  it('uses received_at for _timestamp when the event has no timestamp', () => {
    const decision = decideActions(rowOf('email', 'bounced', {}, { timestamp: 'bad' }), DEFAULT_POLICY);
    expect(decision).toMatchObject({ actions: [{ attributes: { _timestamp: T + 60, email_bounced_at: T + 60 } }] });
  });
});

describe('configured policy', () => {
  it('suppresses only for metrics in CIO_SUPPRESS_ON, after the identify', () => {
    const policy: Policy = { ...DEFAULT_POLICY, suppressOn: ['spammed'] };
    expect(decideActions(rowOf('email', 'spammed'), policy)).toMatchObject({
      rules: ['spam', 'suppress'],
      actions: [{ kind: 'identify' }, { kind: 'suppress', identifier: 'cio_abc' }],
    });
    expect(decideActions(rowOf('email', 'bounced'), policy)).toMatchObject({ actions: [{ kind: 'identify' }] });
  });

  it('suppress alone when its metric has no identify rule', () => {
    expect(decideActions(rowOf('sms', 'bounced'), { ...DEFAULT_POLICY, suppressOn: ['bounced'] })).toMatchObject({ actions: [{ kind: 'suppress' }] });
  });

  it('disabled rules make no call', () => {
    expect(decideActions(rowOf('email', 'opened'), { actions: ['bounce'], suppressOn: [] })).toEqual({ kind: 'none' });
  });
});

describe('identifier', () => {
  it.each([
    [{ identifiers: { id: '42', email: 'p@example.com', cio_id: 'abc' } }, 'cio_abc'],
    [{ identifiers: { id: '42', email: 'p@example.com' } }, '42'],
    [{ identifiers: { email: 'p@example.com' } }, 'p@example.com'],
    [{ identifiers: {}, customer_id: '', email_address: 'q@example.com' }, 'q@example.com'],
  ])('%o → %s', (data, expected) => {
    const body = JSON.stringify({ event_id: 'i', object_type: 'email', metric: 'bounced', data });
    expect(identifierOf(normalizeWebhook({ body: Buffer.from(body), receivedAt: new Date() }))).toBe(expected);
  });

  it('an event with no identifier is unaddressable, not dropped silently', () => {
    const body = JSON.stringify({ event_id: 'i', object_type: 'email', metric: 'bounced', data: { identifiers: {} } });
    expect(decideActions(normalizeWebhook({ body: Buffer.from(body), receivedAt: new Date() }), DEFAULT_POLICY)).toEqual({ kind: 'unaddressable', rules: ['bounce'] });
  });
});

describe('renderPushFilter', () => {
  it('renders the default policy', () => {
    expect(renderPushFilter(DEFAULT_POLICY)).toBe(
      '(attributes.object_type = "email" AND (attributes.metric = "bounced" OR attributes.metric = "spammed" OR attributes.metric = "opened" OR attributes.metric = "clicked")) OR attributes.metric = "unsubscribed"',
    );
  });

  it('lets through exactly the pairs the policy can act on', () => {
    const filter = renderPushFilter(DEFAULT_POLICY);
    // A tiny evaluator for the rendered grammar, to check the filter against decideActions.
    const matches = (type: string, metric: string) =>
      filter.split(/ OR (?![^(]*\))/).some((clause) => {
        const typeMatch = /attributes\.object_type = "([^"]+)"/.exec(clause);
        const metrics = [...clause.matchAll(/attributes\.metric = "([^"]+)"/g)].map((m) => m[1]);
        return (!typeMatch || typeMatch[1] === type) && metrics.includes(metric);
      });
    for (const [type, metrics] of Object.entries(METRICS_BY_OBJECT_TYPE)) {
      for (const metric of metrics) {
        const acts = decideActions(rowOf(type, metric), DEFAULT_POLICY).kind === 'act';
        expect(matches(type, metric), `${type}/${metric}`).toBe(acts);
      }
    }
  });

  it('adds suppress metrics for any object type', () => {
    expect(renderPushFilter({ ...DEFAULT_POLICY, suppressOn: ['dropped'] })).toContain('OR attributes.metric = "dropped"');
  });

  it('matches nothing when no rule is active', () => {
    expect(renderPushFilter({ actions: [], suppressOn: [] })).toBe('attributes.metric = "-"');
  });

  it('stays within 256 bytes for every configuration, falling back to metrics only', () => {
    const everything: Policy = { ...DEFAULT_POLICY, suppressOn: ['bounced', 'spammed', 'dropped', 'failed'] };
    const filter = renderPushFilter(everything);
    expect(Buffer.byteLength(filter)).toBeLessThanOrEqual(MAX_FILTER_BYTES);
    expect(filter).not.toContain('object_type');
  });

  it('refuses a policy whose filter cannot fit', () => {
    expect(() => renderPushFilter({ ...DEFAULT_POLICY, suppressOn: [...ALL_METRICS] })).toThrow(/over Pub\/Sub's 256/);
  });
});
