/**
 * The deliverability judgement (shared/deliverability.ts): its settings, read like every other
 * setting, and the verdicts for rates above, at and below each threshold and the minimum volume.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/config.js';
import {
  BREACH_LABELS,
  DELIVERABILITY_SETTINGS,
  breachFields,
  breachLabels,
  breachesOf,
  deliverabilityEnv,
  formatPpm,
  formatRate,
  judge,
  levelOf,
  loadDeliverabilityConfig,
  loadGuardConfig,
  parsePercentage,
  readDeliverabilityConfig,
  sourceLabel,
  toDeliverabilityRow,
  worstFirst,
  type DeliverabilityRow,
} from '../../shared/deliverability.js';

const defaults = loadDeliverabilityConfig({});

function row(counts: Partial<DeliverabilityRow> = {}): DeliverabilityRow {
  return { workspace: null, source: 'campaign', source_id: 104, action_id: 412, channel: 'email', sent: 0, delivered: 0, bounced: 0, spammed: 0, unsubscribed: 0, complaint_rate: null, bounce_rate: null, unsubscribe_rate: null, ...counts };
}

describe('the settings', () => {
  it('default to Google\'s spam-rate bars, the practitioners\' bounce bars, 1,000 of volume, 24 hours, email', () => {
    expect(defaults).toEqual({
      thresholds: { complaint: { warning: 1000, critical: 3000, minVolume: 1000 }, bounce: { warning: 20_000, critical: 50_000, minVolume: 1000 } },
      windowHours: 24,
      channels: ['email'],
    });
    expect(deliverabilityEnv(defaults)).toEqual(Object.fromEntries(Object.values(DELIVERABILITY_SETTINGS).map((s) => [s.name, s.default])));
  });

  it('reads every variable', () => {
    const env = {
      DELIVERABILITY_COMPLAINT_WARNING: '0.05%', DELIVERABILITY_COMPLAINT_CRITICAL: '0.25%', DELIVERABILITY_BOUNCE_WARNING: '1.5%', DELIVERABILITY_BOUNCE_CRITICAL: '4%',
      DELIVERABILITY_MIN_DELIVERED: '500', DELIVERABILITY_MIN_SENT: '200', DELIVERABILITY_WINDOW_HOURS: '6', DELIVERABILITY_CHANNELS: 'email, sms',
    };
    const config = loadDeliverabilityConfig(env);
    expect(config).toEqual({
      thresholds: { complaint: { warning: 500, critical: 2500, minVolume: 500 }, bounce: { warning: 15_000, critical: 40_000, minVolume: 200 } },
      windowHours: 6,
      channels: ['email', 'sms'],
    });
    // Written back out, they read the same (what npm start and the stack hand on).
    expect(loadDeliverabilityConfig(deliverabilityEnv(config))).toEqual(config);
  });

  it.each([
    ['DELIVERABILITY_COMPLAINT_WARNING', '0.1', 'must be a percentage with its % sign'],
    ['DELIVERABILITY_COMPLAINT_CRITICAL', '0%', 'must be a percentage with its % sign'],
    ['DELIVERABILITY_BOUNCE_WARNING', '101%', 'must be a percentage with its % sign'],
    ['DELIVERABILITY_BOUNCE_CRITICAL', '0.00001%', 'must be a percentage with its % sign'],
    ['DELIVERABILITY_MIN_DELIVERED', '0', 'must be a whole number from 1 to 100000000'],
    ['DELIVERABILITY_MIN_SENT', 'many', 'must be a whole number from 1 to 100000000'],
    ['DELIVERABILITY_WINDOW_HOURS', '200', 'must be a whole number from 1 to 168'],
    ['DELIVERABILITY_CHANNELS', 'email,customer', 'must list message channels among email, push, sms, whatsapp, slack, webhook, in_app (unknown: customer)'],
    ['DELIVERABILITY_CHANNELS', ' , ', 'must list message channels'],
  ])('%s=%s is refused with one line naming it', (variable, value, message) => {
    expect(() => loadDeliverabilityConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadDeliverabilityConfig({ [variable]: value })).toThrow(`${variable}: ${message}`);
  });

  it('refuses a warning at or above its critical level, and reports every problem at once', () => {
    const { problems } = readDeliverabilityConfig((name) => ({ DELIVERABILITY_COMPLAINT_WARNING: '0.3%', DELIVERABILITY_BOUNCE_CRITICAL: 'high', DELIVERABILITY_WINDOW_HOURS: '0' })[name]);
    expect(problems).toEqual([
      { variable: 'DELIVERABILITY_BOUNCE_CRITICAL', message: 'must be a percentage with its % sign, above 0% and at most 100%, with up to 4 decimals, such as 0.1% (got "high")' },
      { variable: 'DELIVERABILITY_COMPLAINT_WARNING', message: '(0.3%) must be below DELIVERABILITY_COMPLAINT_CRITICAL (0.3%)' },
      { variable: 'DELIVERABILITY_WINDOW_HOURS', message: 'must be a whole number from 1 to 168 (got "0")' },
    ]);
  });

  it('keeps percentages exact: parts per million, written back as they were given', () => {
    expect([parsePercentage('0.1%'), parsePercentage('0.3%'), parsePercentage('2%'), parsePercentage('0.0001%'), parsePercentage('100%')]).toEqual([1000, 3000, 20_000, 1, 1_000_000]);
    expect([formatPpm(1000), formatPpm(3000), formatPpm(20_000), formatPpm(15_000), formatPpm(1), formatPpm(1_000_000)]).toEqual(['0.1%', '0.3%', '2%', '1.5%', '0.0001%', '100%']);
    expect([formatRate(5 / 1190), formatRate(0.05), formatRate(1 / 48), formatRate(null)]).toEqual(['0.42%', '5%', '2.08%', '—']);
  });

  it('the deployed guard also needs its dataset and byte cap, and stops at the first bad setting', () => {
    const env = { GOOGLE_CLOUD_PROJECT: 'acme-prod-1', DELIVERABILITY_DATASET: 'cio_analytics', DELIVERABILITY_GUARD_MAX_GB: '0.5' };
    expect(loadGuardConfig(env)).toMatchObject({ project: 'acme-prod-1', dataset: 'cio_analytics', maxBytesBilled: 512 * 1024 ** 2, logLevel: 'info', deliverability: defaults });
    expect(() => loadGuardConfig({ ...env, DELIVERABILITY_DATASET: '' })).toThrow('DELIVERABILITY_DATASET: must be a BigQuery dataset id');
    expect(() => loadGuardConfig({ ...env, DELIVERABILITY_GUARD_MAX_GB: '0' })).toThrow('DELIVERABILITY_GUARD_MAX_GB: must be a number of GB above 0');
    expect(() => loadGuardConfig({ ...env, DELIVERABILITY_MIN_SENT: '-1' })).toThrow('DELIVERABILITY_MIN_SENT: must be a whole number');
  });
});

describe('verdicts', () => {
  // 1,000 delivered, the minimum volume: the complaint rate at the edges of 0.1% and 0.3%.
  it.each([
    [0, 'ok'], [0.999, 'ok'], [1, 'warning'], [2, 'warning'], [2.999, 'warning'], [3, 'critical'], [50, 'critical'],
  ] as const)('%s complaints per 1,000 delivered is %s', (perThousand, level) => {
    // Scaled so fractional complaint counts become whole: k per 1,000 = 1000k per 1,000,000.
    const delivered = 1_000_000;
    const spammed = Math.round(perThousand * 1000);
    expect(levelOf(spammed, delivered, defaults.thresholds.complaint)).toBe(level);
    expect(judge(row({ delivered, spammed, sent: delivered }), defaults).measures.complaint.level).toBe(level);
  });

  it('is exact at a threshold: 3 of 1,000 is 0.3%, critical; 2 of 1,000 and 1 of 1,000 are warnings', () => {
    expect(judge(row({ sent: 1000, delivered: 1000, spammed: 3 }), defaults)).toMatchObject({ verdict: 'critical', measures: { complaint: { level: 'critical', rate: 0.003 } } });
    expect(judge(row({ sent: 1000, delivered: 1000, spammed: 2 }), defaults).verdict).toBe('warning');
    expect(judge(row({ sent: 1000, delivered: 1000, spammed: 1 }), defaults).verdict).toBe('warning');
    expect(judge(row({ sent: 1001, delivered: 1001, spammed: 1 }), defaults).verdict).toBe('ok');
  });

  it.each([
    [19, 'ok'], [20, 'warning'], [49, 'warning'], [50, 'critical'], [51, 'critical'],
  ] as const)('%s bounces per 1,000 sent is %s', (bounced, level) => {
    expect(judge(row({ sent: 1000, delivered: 1000 - bounced, bounced }), defaults).measures.bounce.level).toBe(level);
  });

  it('judges a rate only with the minimum volume: 999 delivered is not judged, 1,000 is', () => {
    const under = judge(row({ sent: 999, delivered: 999, spammed: 100, bounced: 0 }), defaults);
    expect(under).toMatchObject({ verdict: 'unjudged', measures: { complaint: { level: null, unjudged: 'volume', rate: 100 / 999 }, bounce: { level: null, unjudged: 'volume' } } });
    expect(breachesOf(under, defaults)).toEqual([]);
    // Each rate has its own denominator: enough sent, too few delivered judges bounces alone.
    const bouncy = judge(row({ sent: 1000, delivered: 900, bounced: 100, spammed: 50 }), defaults);
    expect(bouncy.measures.complaint).toMatchObject({ level: null, unjudged: 'volume' });
    expect(bouncy).toMatchObject({ verdict: 'critical', measures: { bounce: { level: 'critical' } } });
    expect(breachesOf(bouncy, defaults).map((b) => [b.measure, b.level, formatPpm(b.threshold)])).toEqual([['bounce', 'critical', '5%']]);
    // A lowered minimum judges the small source.
    const lowered = loadDeliverabilityConfig({ DELIVERABILITY_MIN_DELIVERED: '100', DELIVERABILITY_MIN_SENT: '100' });
    expect(judge(row({ sent: 999, delivered: 999, spammed: 100 }), lowered).verdict).toBe('critical');
  });

  it('judges only the configured channels', () => {
    const push = row({ channel: 'push', sent: 5000, delivered: 4000, bounced: 1000 });
    expect(judge(push, defaults)).toMatchObject({ verdict: 'unjudged', measures: { bounce: { unjudged: 'channel', rate: 0.2 } } });
    expect(judge(push, loadDeliverabilityConfig({ DELIVERABILITY_CHANNELS: 'email,push' })).verdict).toBe('critical');
  });

  it('orders worst first: critical, warning, ok, unjudged; further past the bar first; then larger', () => {
    const rows = [
      row({ source_id: 1, sent: 5000, delivered: 5000 }),
      row({ source_id: 2, sent: 1000, delivered: 1000, spammed: 1 }),
      row({ source_id: 3, sent: 1000, delivered: 1000, spammed: 4 }),
      row({ source_id: 4, sent: 10, delivered: 10, spammed: 9 }),
      row({ source_id: 5, sent: 1000, delivered: 1000, spammed: 20 }),
      row({ source_id: 6, sent: 9000, delivered: 9000 }),
      row({ source_id: 7, sent: 1000, delivered: 940, bounced: 60 }),
    ];
    const ordered = worstFirst(rows.map((r) => judge(r, defaults)), defaults).map((j) => [j.row.source_id, j.verdict]);
    expect(ordered).toEqual([[5, 'critical'], [3, 'critical'], [7, 'critical'], [2, 'warning'], [6, 'ok'], [1, 'ok'], [4, 'unjudged']]);
  });

  it('describes a breach with the source, the rate, the threshold, the counts and the window; labels only what stays put', () => {
    const window = { from: new Date('2026-11-29T10:00:00Z'), to: new Date('2026-11-30T10:00:00Z') };
    const [breach] = breachesOf(judge(row({ sent: 1200, delivered: 1190, bounced: 10, spammed: 5, unsubscribed: 2 }), defaults), defaults);
    expect(breachFields(breach!, window)).toEqual({
      source: 'campaign', source_id: '104', action_id: '412', channel: 'email', measure: 'complaint', level: 'critical', threshold: '0.3%',
      rate: 5 / 1190, rate_text: '0.42%', numerator: 5, denominator: 1190,
      counts: { sent: 1200, delivered: 1190, bounced: 10, spammed: 5, unsubscribed: 2 },
      window_start: '2026-11-29T10:00:00.000Z', window_end: '2026-11-30T10:00:00.000Z',
      summary: 'campaign 104 action 412 (email): complaint rate 0.42% is at or above the critical threshold 0.3% — 5 spam complaints of 1,190 delivered, event times 2026-11-29T10:00:00.000Z – 2026-11-30T10:00:00.000Z',
    });
    const newsletter = breachesOf(judge(row({ source: 'newsletter', source_id: 7, action_id: null, sent: 2000, delivered: 1900, bounced: 100 }), defaults), defaults);
    expect(breachFields(newsletter[0]!, window)).toMatchObject({ source: 'newsletter', action_id: 'none', measure: 'bounce', level: 'critical', threshold: '5%' });
  });

  it('keys a source by its workspace too: two workspaces\' campaign 104 are two sources, each named with its workspace', () => {
    const window = { from: new Date('2026-11-29T10:00:00Z'), to: new Date('2026-11-30T10:00:00Z') };
    const acme = row({ workspace: 'acme', sent: 1000, delivered: 1000, spammed: 3 });
    const beta = row({ workspace: 'beta', sent: 1000, delivered: 1000, spammed: 3 });
    // Equal in every count: the order between them is the workspace's, whichever comes first.
    for (const rows of [[acme, beta], [beta, acme]]) {
      expect(worstFirst(rows.map((r) => judge(r, defaults)), defaults).map((j) => j.row.workspace)).toEqual(['acme', 'beta']);
    }
    expect(sourceLabel(acme)).toBe('acme: campaign 104 action 412 (email)');
    expect(sourceLabel(row())).toBe('campaign 104 action 412 (email)');
    const [breach] = breachesOf(judge(beta, defaults), defaults);
    expect(breachFields(breach!, window)).toMatchObject({ workspace: 'beta', source: 'campaign', source_id: '104', summary: expect.stringMatching(/^beta: campaign 104 action 412 \(email\): complaint rate 0\.3%/) });
    // One workspace: the entry is as it was, with no workspace field for the alert to extract.
    expect(breachFields(breachesOf(judge(row({ sent: 1000, delivered: 1000, spammed: 3 }), defaults), defaults)[0]!, window)).not.toHaveProperty('workspace');
    expect(breachLabels(false)).toEqual(BREACH_LABELS);
    expect(breachLabels(true)).toEqual(['workspace', ...BREACH_LABELS]);
    expect(toDeliverabilityRow({ workspace: 'acme', source: 'campaign', source_id: '104', action_id: null, channel: 'email', sent: '5', delivered: 5, bounced: 0, spammed: 0, unsubscribed: 0, complaint_rate: 0, bounce_rate: 0, unsubscribe_rate: null })).toMatchObject({ workspace: 'acme', source_id: 104, sent: 5, action_id: null });
    expect(toDeliverabilityRow({ workspace: null, source: 'campaign', source_id: 1, action_id: 1, channel: 'email', sent: 0, delivered: 0, bounced: 0, spammed: 0, unsubscribed: 0, complaint_rate: null, bounce_rate: null, unsubscribe_rate: null }).workspace).toBeNull();
  });
});
