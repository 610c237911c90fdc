import { describe, expect, it } from 'vitest';
import { StackConfigError, loadStackConfig } from '../../infra/config.js';
import { FIRESTORE_LOCATIONS, FUNCTIONS_REGIONS } from '../../infra/locations.js';

describe('loadStackConfig', () => {
  it('applies the defaults', () => {
    expect(loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1' })).toMatchObject({
      project: 'acme-prod-1', region: 'us-central1', prefix: 'cio', cioRegion: 'us', receiverMinInstances: 1,
      handlerMaxInstances: 2, handlerConcurrency: 5, retentionDays: 7, alertEmail: null, stateBucket: null,
      firestoreLocation: 'us-central1', policy: { actions: ['bounce', 'spam', 'unsubscribe', 'engagement'], suppressOn: [] },
    });
  });

  it('reads cdktf context when the environment is silent', () => {
    const context: Record<string, string> = { project: 'ctx-project', region: 'europe-west1', prefix: 'cx' };
    expect(loadStackConfig({}, (key) => context[key])).toMatchObject({ project: 'ctx-project', region: 'europe-west1', prefix: 'cx', firestoreLocation: 'europe-west1' });
  });

  it('reads the action policy from cdktf context too, the environment winning', () => {
    const context: Record<string, string> = { project: 'ctx-project', actions: 'bounce,spam', suppressOn: 'spammed' };
    expect(loadStackConfig({}, (key) => context[key]).policy).toEqual({ actions: ['bounce', 'spam'], suppressOn: ['spammed'] });
    expect(loadStackConfig({ CIO_ACTIONS: 'bounce' }, (key) => context[key]).policy).toEqual({ actions: ['bounce'], suppressOn: ['spammed'] });
    expect(() => loadStackConfig({}, (key) => ({ ...context, suppressOn: 'complained' })[key])).toThrow(/CIO_SUPPRESS_ON/);
  });

  it('reports every problem at once', () => {
    try {
      loadStackConfig({ PIPELINE_REGION: 'moon', RETENTION_DAYS: '90', CIO_SUPPRESS_ON: 'complained', ALERT_EMAIL: 'nope' });
      throw new Error('expected a StackConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(StackConfigError);
      expect((error as StackConfigError).problems).toEqual([
        'GOOGLE_CLOUD_PROJECT must be a Google Cloud project id (got "")',
        'PIPELINE_REGION must be a region Cloud Run functions runs in, such as us-central1 (got "moon")',
        'ALERT_EMAIL must be an email address',
        'RETENTION_DAYS must be a whole number from 1 to 31 (got "90")',
        'CIO_SUPPRESS_ON: unknown metric complained (got "complained")',
      ]);
    }
  });

  it('takes only the regions and Firestore locations Google documents (infra/locations.ts)', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', ...env });
        return [];
      } catch (error) {
        return (error as StackConfigError).problems;
      }
    };
    expect(problems({ PIPELINE_REGION: 'europe-west99' })).toEqual([
      expect.stringMatching(/^PIPELINE_REGION must be a region Cloud Run functions runs in, such as us-central1 \(got "europe-west99"; in that area: europe-north1, .*europe-west1,.*\)$/),
    ]);
    expect(problems({ FIRESTORE_LOCATION: 'europe' })).toEqual([
      'FIRESTORE_LOCATION must be a Firestore location: a multi-region (eur3, nam5, nam7) or a region such as us-central1 (got "europe")',
    ]);
    for (const location of ['eur3', 'nam5', 'europe-west3']) expect(problems({ PIPELINE_REGION: 'europe-west1', FIRESTORE_LOCATION: location }), location).toEqual([]);
    // FIRESTORE_LOCATION defaults to the region: every functions region must be a Firestore location too.
    expect(FUNCTIONS_REGIONS.filter((r) => !FIRESTORE_LOCATIONS.includes(r))).toEqual([]);
    expect(new Set(FUNCTIONS_REGIONS).size).toBe(FUNCTIONS_REGIONS.length);
  });

  it('gives each handler instance its share of CIO_MAX_REQUEST_RATE, and refuses a share under 1 request/s', () => {
    expect(loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1' }).cioRequestsPerInstance).toBe(50);
    expect(loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', HANDLER_MAX_INSTANCES: '3', CIO_MAX_REQUEST_RATE: '100' }).cioRequestsPerInstance).toBe(33);
    expect(() => loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', HANDLER_MAX_INSTANCES: '10', CIO_MAX_REQUEST_RATE: '5' })).toThrow(
      /CIO_MAX_REQUEST_RATE \(5\) must be at least HANDLER_MAX_INSTANCES \(10\)/,
    );
  });

  it('reads CIO_WORKSPACES with CIO_REGION as the region of a name without one; unset or empty is one workspace', () => {
    const base = { GOOGLE_CLOUD_PROJECT: 'acme-prod-1' };
    expect(loadStackConfig(base).workspaces).toBeNull();
    expect(loadStackConfig({ ...base, CIO_WORKSPACES: ' ' }).workspaces).toBeNull();
    expect(loadStackConfig({ ...base, CIO_WORKSPACES: 'acme,beta:eu' }).workspaces).toEqual([{ name: 'acme', region: 'us' }, { name: 'beta', region: 'eu' }]);
    expect(loadStackConfig({ ...base, CIO_REGION: 'eu', CIO_WORKSPACES: 'acme,beta:us' }).workspaces).toEqual([{ name: 'acme', region: 'eu' }, { name: 'beta', region: 'us' }]);
    // cdktf.json context, like every other stack setting.
    expect(loadStackConfig(base, (key) => (key === 'workspaces' ? 'acme:eu' : undefined)).workspaces).toEqual([{ name: 'acme', region: 'eu' }]);
  });

  it('reports a bad CIO_WORKSPACES with the other problems, every one of its own at once', () => {
    try {
      loadStackConfig({ CIO_WORKSPACES: 'Acme,beta:mars,beta,beta', RETENTION_DAYS: '90' });
      throw new Error('expected a StackConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(StackConfigError);
      expect((error as StackConfigError).problems).toEqual([
        'GOOGLE_CLOUD_PROJECT must be a Google Cloud project id (got "")',
        'CIO_WORKSPACES: "Acme" is not a workspace name (2–20 lower-case letters, digits and hyphens, starting with a letter); "beta:mars": the region must be us or eu; "beta" is named twice',
        'RETENTION_DAYS must be a whole number from 1 to 31 (got "90")',
      ]);
    }
  });

  it('defaults the signature window to 8 days and refuses a dedupe TTL that does not outlast it', () => {
    expect(loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1' })).toMatchObject({ signatureMaxAgeSeconds: 691_200, dedupeTtlDays: 30 });
    expect(() => loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', DEDUPE_TTL_DAYS: '7' })).toThrow(
      /DEDUPE_TTL_DAYS \(7 days\) must outlast CIO_SIGNATURE_MAX_AGE_SECONDS \(691200 s = 8\.0 days\)/,
    );
    // 0 is the explicit opt-out: no window, nothing for the TTL to outlast.
    expect(loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', CIO_SIGNATURE_MAX_AGE_SECONDS: '0', DEDUPE_TTL_DAYS: '1' })).toMatchObject({ signatureMaxAgeSeconds: 'off', dedupeTtlDays: 1 });
    expect(() => loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', CIO_SIGNATURE_MAX_AGE_SECONDS: 'a week' })).toThrow(/CIO_SIGNATURE_MAX_AGE_SECONDS: must be a whole number/);
  });

  it('reads the access mode, the retention and the warehouse readers', () => {
    expect(loadStackConfig({
      GOOGLE_CLOUD_PROJECT: 'acme-prod-1',
      RECEIVER_ACCESS: 'no-invoker-check',
      EVENTS_RETENTION_DAYS: '400',
      BIGQUERY_TIME_TRAVEL_HOURS: '96',
      // In the case people type them: stored in lower case, as the API answers them.
      WAREHOUSE_READERS: 'group:Analysts@Acme.com, user:ana@acme.com',
      WAREHOUSE_RAW_READERS: 'serviceAccount:etl@acme-prod-1.iam.gserviceaccount.com',
    })).toMatchObject({
      receiverAccess: 'no-invoker-check',
      eventsRetentionDays: 400,
      timeTravelHours: 96,
      warehouseReaders: ['group:analysts@acme.com', 'user:ana@acme.com'],
      warehouseRawReaders: ['serviceAccount:etl@acme-prod-1.iam.gserviceaccount.com'],
    });
    expect(loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1' })).toMatchObject({ receiverAccess: 'all-users', eventsRetentionDays: null, timeTravelHours: 48, warehouseReaders: [] });
    try {
      loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', EVENTS_RETENTION_DAYS: '3', BIGQUERY_TIME_TRAVEL_HOURS: '50', WAREHOUSE_READERS: 'analysts@acme.com' });
      throw new Error('expected a StackConfigError');
    } catch (error) {
      expect((error as StackConfigError).problems).toEqual([
        'EVENTS_RETENTION_DAYS must be a whole number from 8 to 36500 (got "3")',
        'BIGQUERY_TIME_TRAVEL_HOURS must be a multiple of 24 (BigQuery takes whole days)',
        'WAREHOUSE_READERS: "analysts@acme.com" is not user:, group:, serviceAccount: or domain: followed by an address or domain',
      ]);
    }
  });

  it('reads the deliverability guard\'s settings with the others, from the environment or cdktf context, every problem at once', () => {
    expect(loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1' })).toMatchObject({
      deliverability: { thresholds: { complaint: { warning: 1000, critical: 3000, minVolume: 1000 }, bounce: { warning: 20_000, critical: 50_000, minVolume: 1000 } }, windowHours: 24, channels: ['email'] },
      guard: { intervalMinutes: 15, maxGb: 1 },
    });
    const context: Record<string, string> = { minSent: '250', guardIntervalMinutes: '5' };
    expect(loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', DELIVERABILITY_BOUNCE_CRITICAL: '8%' }, (key) => context[key])).toMatchObject({
      deliverability: { thresholds: { bounce: { critical: 80_000, minVolume: 250 } } },
      guard: { intervalMinutes: 5 },
    });
    try {
      loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', DELIVERABILITY_COMPLAINT_CRITICAL: '0.05%', DELIVERABILITY_CHANNELS: 'fax', DELIVERABILITY_GUARD_INTERVAL_MINUTES: '45' });
      throw new Error('expected a StackConfigError');
    } catch (error) {
      expect((error as StackConfigError).problems).toEqual([
        'DELIVERABILITY_COMPLAINT_WARNING: (0.1%) must be below DELIVERABILITY_COMPLAINT_CRITICAL (0.05%)',
        'DELIVERABILITY_CHANNELS: must list message channels among email, push, sms, whatsapp, slack, webhook, in_app (unknown: fax) (got "fax")',
        'DELIVERABILITY_GUARD_INTERVAL_MINUTES: must divide an hour evenly: one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60 (got "45")',
      ]);
    }
  });
});
