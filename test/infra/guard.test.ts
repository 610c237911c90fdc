/**
 * The deployed deliverability guard in the synthesized Terraform JSON: its schedule, its identities
 * and their least privilege, its byte cap, and the alert policies that turn its log entries into
 * notifications without repeating a breach every run.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BREACH_LABELS, GUARD_VARIABLES } from '../../shared/deliverability.js';
import { LOG_EVENTS } from '../../shared/log-events.js';
import { BREACH_RENOTIFY_SECONDS, GUARD_TIMEOUT_SECONDS } from '../../infra/constructs/deliverability-guard.js';
import { type Resource, type Synth, all, dependenciesOf, named, one, refTo, synth } from '../support/synth.js';

let s: Synth;
beforeAll(() => {
  s = synth({ ALERT_EMAIL: 'oncall@example.com' });
});

const guardFn = (x: Synth = s) => one(x, 'google_cloudfunctions2_function', named('cio-guard')) as Resource & { build_config: Record<string, unknown>; service_config: Record<string, unknown> & { environment_variables: Record<string, string> } };
const job = (x: Synth = s) => one(x, 'google_cloud_scheduler_job', named('cio-deliverability-guard')) as Resource & { http_target: { uri: string; http_method: string; oidc_token: { service_account_email: string; audience: string } } };
const account = (id: string) => refTo(s, 'google_service_account', (r) => r.account_id === id);
const mentions = (r: Resource, ref: string) => JSON.stringify(r).includes(ref);
type Policy = Resource & {
  severity: string;
  conditions: Array<{ condition_matched_log: { filter: string; label_extractors?: Record<string, string> } }>;
  alert_strategy: { notification_rate_limit: { period: string }; auto_close: string; notification_prompts: string[] };
  documentation: { subject: string; content: string };
  notification_channels: string[];
};
const policy = (displayName: string, x: Synth = s) => one(x, 'google_monitoring_alert_policy', (r) => r.display_name === displayName) as Policy;

describe('the schedule', () => {
  it('calls the guard every 15 minutes in UTC, by POST with an OIDC token for its own URL', () => {
    const uri = `\${${refTo(s, 'google_cloudfunctions2_function', named('cio-guard'))}.service_config[0].uri}`;
    expect(job()).toMatchObject({ schedule: '*/15 * * * *', time_zone: 'Etc/UTC', region: 'us-central1', http_target: { uri, http_method: 'POST', oidc_token: { audience: uri, service_account_email: `\${${account('cio-guard-invoker')}.email}` } } });
    // The Authorization header the API adds for the OIDC token is not a change to undo every plan.
    expect(job().lifecycle).toEqual({ ignore_changes: ['http_target[0].headers'] });
    expect(job().http_target).not.toHaveProperty('headers');
    // No retry_config: the next run is the retry; a slow run ends as the function's own answer.
    expect(job().retry_config).toBeUndefined();
    expect(Number(String(job().attempt_deadline).replace('s', ''))).toBeGreaterThan(GUARD_TIMEOUT_SECONDS);
    expect(guardFn().service_config.timeout_seconds).toBe(GUARD_TIMEOUT_SECONDS);
  });

  it('follows DELIVERABILITY_GUARD_INTERVAL_MINUTES, and runs only once the table function and its grant exist', () => {
    expect(job(synth({ DELIVERABILITY_GUARD_INTERVAL_MINUTES: '5' })).schedule).toBe('*/5 * * * *');
    expect(job(synth({ DELIVERABILITY_GUARD_INTERVAL_MINUTES: '60' })).schedule).toBe('0 * * * *');
    const waits = dependenciesOf(s, refTo(s, 'google_cloud_scheduler_job', () => true));
    expect(waits).toContain(refTo(s, 'google_bigquery_routine', (r) => r.dataset_id === 'cio_analytics' && r.routine_id === 'deliverability_between'));
    expect(waits).toContain(refTo(s, 'google_bigquery_dataset', (r) => r.dataset_id === 'cio_analytics'));
    expect(waits).toContain(refTo(s, 'google_project_service', (r) => r.service === 'cloudscheduler.googleapis.com'));
  });
});

describe('the guard function', () => {
  it('deploys the same bundle with entry point guard, private, one run at a time', () => {
    const receiver = one(s, 'google_cloudfunctions2_function', named('cio-receiver')) as Resource & { build_config: Record<string, unknown> };
    expect(guardFn().build_config).toEqual({ ...receiver.build_config, entry_point: 'guard' });
    expect(guardFn().service_config).toMatchObject({ ingress_settings: 'ALLOW_INTERNAL_ONLY', min_instance_count: 0, max_instance_count: 1, max_instance_request_concurrency: 1 });
    expect(guardFn().service_config.service_account_email).toBe(`\${${account('cio-guard')}.email}`);
  });

  it('sets every variable the guard reads at start-up: the thresholds, the analysts\' dataset and the byte cap', () => {
    const env = guardFn().service_config.environment_variables;
    for (const variable of GUARD_VARIABLES) expect(Object.keys(env), variable).toContain(variable);
    expect(env).toMatchObject({ DELIVERABILITY_DATASET: 'cio_analytics', DELIVERABILITY_GUARD_MAX_GB: '1', DELIVERABILITY_COMPLAINT_CRITICAL: '0.3%', DELIVERABILITY_MIN_SENT: '1000' });
    const custom = guardFn(synth({ DELIVERABILITY_GUARD_MAX_GB: '0.25', DELIVERABILITY_COMPLAINT_WARNING: '0.08%', DELIVERABILITY_MIN_DELIVERED: '5000', DELIVERABILITY_CHANNELS: 'email,sms' })).service_config.environment_variables;
    expect(custom).toMatchObject({ DELIVERABILITY_GUARD_MAX_GB: '0.25', DELIVERABILITY_COMPLAINT_WARNING: '0.08%', DELIVERABILITY_MIN_DELIVERED: '5000', DELIVERABILITY_CHANNELS: 'email,sms' });
  });
});

describe('least privilege', () => {
  it('lets the guard\'s account run BigQuery jobs and read the analysts\' dataset, and nothing else', () => {
    const guard = account('cio-guard');
    const grants = Object.entries(s.resource).flatMap(([type, resources]) => Object.values(resources).filter((r) => type.endsWith('_iam_member') && mentions(r, `${guard}.`)).map((r) => `${type} ${String(r.role)}`));
    expect(grants).toEqual(['google_project_iam_member roles/bigquery.jobUser']);
    const datasets = all(s, 'google_bigquery_dataset').filter((d) => mentions(d, `${guard}.`)).map((d) => [d.dataset_id, (d.access as Array<{ role?: string; user_by_email?: string }>).find((a) => a.user_by_email === `\${${guard}.email}`)?.role]);
    expect(datasets).toEqual([['cio_analytics', 'READER']]);
    // Nothing else names it: no secret, no table, no topic, no raw dataset.
    const others = Object.entries(s.resource).flatMap(([type, resources]) => Object.values(resources).filter((r) => mentions(r, `${guard}.`)).map(() => type));
    expect(others.sort()).toEqual(['google_bigquery_dataset', 'google_cloudfunctions2_function', 'google_project_iam_member']);
  });

  it('lets the scheduler\'s account invoke the guard and nothing else', () => {
    const invoker = account('cio-guard-invoker');
    const bindings = Object.entries(s.resource).flatMap(([type, resources]) => Object.values(resources).filter((r) => type.endsWith('_iam_member') && mentions(r, `${invoker}.`)).map((r) => [type, r.role, r.name]));
    expect(bindings).toEqual([['google_cloud_run_v2_service_iam_member', 'roles/run.invoker', `\${${refTo(s, 'google_cloudfunctions2_function', named('cio-guard'))}.service_config[0].service}`]]);
  });

  it('caps what one run may bill: DELIVERABILITY_GUARD_MAX_GB, validated with every other setting', () => {
    expect(() => synth({ DELIVERABILITY_GUARD_MAX_GB: '0', DELIVERABILITY_GUARD_INTERVAL_MINUTES: '7' })).toThrow(
      /DELIVERABILITY_GUARD_INTERVAL_MINUTES: must divide an hour evenly[^\n]*\n {2}- DELIVERABILITY_GUARD_MAX_GB: must be a number of GB above 0/,
    );
  });
});

describe('the alerts', () => {
  it('turn the guard\'s breach entries into notifications: ERROR ones critical, WARNING ones warning, to the alert email', () => {
    for (const [name, severity, policySeverity] of [['cio: deliverability critical', 'ERROR', 'CRITICAL'], ['cio: deliverability warning', 'WARNING', 'WARNING']] as const) {
      const p = policy(name);
      expect(p.severity).toBe(policySeverity);
      // A log-match condition must be a policy's only condition.
      expect(p.conditions).toHaveLength(1);
      expect(p.conditions[0]!.condition_matched_log.filter).toBe(`resource.type = "cloud_run_revision" AND resource.labels.service_name = "cio-guard" AND jsonPayload.message = "${LOG_EVENTS.deliverabilityBreach}" AND severity = ${severity}`);
      expect(p.notification_channels).toEqual([`\${${refTo(s, 'google_monitoring_notification_channel', () => true)}.name}`]);
    }
  });

  it('notify each source and measure once a day while its breach lasts, not every run', () => {
    for (const name of ['cio: deliverability critical', 'cio: deliverability warning']) {
      const p = policy(name);
      // Each combination of the labels is its own rule: the source, the measure and the threshold,
      // which stay put while the breach lasts (the rate and the counts change every run).
      expect(p.conditions[0]!.condition_matched_log.label_extractors).toEqual(Object.fromEntries(BREACH_LABELS.map((l) => [l, `EXTRACT(jsonPayload.${l})`])));
      expect(BREACH_LABELS).not.toContain('rate');
      expect(p.alert_strategy).toEqual({ notification_rate_limit: { period: `${BREACH_RENOTIFY_SECONDS}s` }, auto_close: '1800s', notification_prompts: ['OPENED'] });
    }
    // An incident stays open across runs: it closes only after two intervals without the breach.
    expect(policy('cio: deliverability critical', synth({ DELIVERABILITY_GUARD_INTERVAL_MINUTES: '30' })).alert_strategy.auto_close).toBe('3600s');
  });

  it('say which source and why, with label variables escaped for Terraform', () => {
    const { subject, content } = policy('cio: deliverability critical').documentation;
    expect(subject).toBe('cio deliverability critical: $${log.extracted_label.source} $${log.extracted_label.source_id} $${log.extracted_label.measure} rate at or above $${log.extracted_label.threshold}');
    expect(content).toContain('**$${log.extracted_label.source} $${log.extracted_label.source_id}** (action $${log.extracted_label.action_id}, channel $${log.extracted_label.channel})');
    expect(content).toContain('npm run ops -- deliverability --project acme-prod-1 --prefix cio');
    expect(content).toContain('Google Postmaster Tools');
    // Nothing else in the text that Terraform would read as an interpolation.
    expect(content.replaceAll('$${', '')).not.toContain('${');
  });

  it('raise a failing guard too, since a guard that cannot read raises nothing else', () => {
    const p = policy('cio: deliverability guard failing');
    expect(p.conditions[0]!.condition_matched_log.filter).toContain(`jsonPayload.message = "${LOG_EVENTS.deliverabilityGuardFailed}"`);
    expect(p.alert_strategy.notification_rate_limit.period).toBe('3600s');
    expect(p.documentation.content).toContain('DELIVERABILITY_GUARD_MAX_GB');
  });
});
