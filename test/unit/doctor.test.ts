/**
 * `ops doctor`'s decisions on response bodies shaped like Google's REST reference documents
 * (Cloud Billing, Service Usage, Resource Manager, Org Policy v2, Firestore admin).
 */
import { describe, expect, it } from 'vitest';
import {
  checkApis,
  checkBilling,
  checkDomainRestrictedSharing,
  checkFirestoreDatabase,
  checkIngressPolicy,
  checkPermissions,
  checkPubsubAgent,
  checkReceiverAccess,
  checkResourceLocations,
  doctorVerdict,
  enabledServiceNames,
  listPolicyAllows,
  locationValueCovers,
  projectNumberOf,
  renderChecks,
  unknownCheck,
  type Check,
  type EffectivePolicy,
} from '../../ops/doctor/checks.js';
import { PERMISSIONS_BY_RESOURCE_TYPE, permissionsFor, stackResourceTypes } from '../../ops/doctor/permissions.js';
import { apiNotEnabled, disabledApi, disabledApiReason } from '../../ops/doctor/disabled-api.js';
import { GoogleApiError, errorInfoOf } from '../../ops/google-api.js';

const notSet: EffectivePolicy = { name: 'projects/123/policies/x', spec: {} };
const allowList = (...allowedValues: string[]): EffectivePolicy => ({ name: 'projects/123/policies/x', spec: { rules: [{ values: { allowedValues } }] } });

describe('billing', () => {
  it('needs billing enabled', () => {
    expect(checkBilling({ billingEnabled: true, billingAccountName: 'billingAccounts/0X0X0X-0X0X0X-0X0X0X' }).status).toBe('ok');
    expect(checkBilling({ billingEnabled: false })).toMatchObject({ status: 'blocker', fix: expect.stringContaining('gcloud billing projects link') });
    // A project with no billing info says nothing about billingEnabled.
    expect(checkBilling({}).status).toBe('blocker');
  });
});

describe('APIs', () => {
  const pages = [
    { services: [{ name: 'projects/123456789012/services/pubsub.googleapis.com', parent: 'projects/123456789012', config: { name: 'pubsub.googleapis.com' }, state: 'ENABLED' }], nextPageToken: 'n' },
    { services: [{ name: 'projects/123456789012/services/bigquery.googleapis.com', parent: 'projects/123456789012', config: { name: 'bigquery.googleapis.com' }, state: 'ENABLED' }] },
  ];

  it('reads enabled services across pages, and the project number', () => {
    expect([...enabledServiceNames(pages)].sort()).toEqual(['bigquery.googleapis.com', 'pubsub.googleapis.com']);
    expect(projectNumberOf(pages)).toBe('123456789012');
  });

  it('is fine with disabled APIs the caller may enable, a blocker otherwise', () => {
    const enabled = enabledServiceNames(pages);
    expect(checkApis(enabled, ['pubsub.googleapis.com'], false).status).toBe('ok');
    expect(checkApis(enabled, ['pubsub.googleapis.com', 'run.googleapis.com'], true)).toMatchObject({ status: 'ok', detail: expect.stringContaining('run.googleapis.com') });
    expect(checkApis(enabled, ['pubsub.googleapis.com', 'run.googleapis.com'], false)).toMatchObject({ status: 'blocker', fix: expect.stringContaining('gcloud services enable run.googleapis.com') });
  });
});

describe('permissions', () => {
  it('lists what is missing', () => {
    expect(checkPermissions(new Set(['a', 'b']), ['a', 'b']).status).toBe('ok');
    expect(checkPermissions(new Set(['a']), ['a', 'b', 'c'])).toMatchObject({ status: 'blocker', detail: 'missing 2 of 3: b, c' });
  });

  it('maps every resource type the stack synthesizes, in every configuration, and nothing else', async () => {
    const synthesized = new Set<string>();
    for (const env of [{}, { RECEIVER_ACCESS: 'no-invoker-check', EVENTS_RETENTION_DAYS: '400', ALERT_EMAIL: 'oncall@example.com' }, { CIO_WORKSPACES: 'acme,beta:eu' }]) {
      const types = await stackResourceTypes({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', ...env });
      expect(types.length).toBeGreaterThan(20);
      expect(() => permissionsFor(types)).not.toThrow();
      for (const type of types) synthesized.add(type);
    }
    // A stale entry would have doctor ask operators for permissions the deploy never uses.
    expect(Object.keys(PERMISSIONS_BY_RESOURCE_TYPE).sort()).toEqual([...synthesized].sort());
    const permissions = permissionsFor(await stackResourceTypes({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', RECEIVER_ACCESS: 'no-invoker-check' }));
    expect(permissions).toEqual(expect.arrayContaining(['iam.serviceAccounts.actAs', 'pubsub.topics.setIamPolicy', 'bigquery.tables.setIamPolicy', 'run.services.update', 'run.operations.get', 'datastore.databases.create']));
    expect(() => permissionsFor(['google_compute_instance'])).toThrow(/no permissions are mapped for google_compute_instance/);
    for (const list of Object.values(PERMISSIONS_BY_RESOURCE_TYPE)) for (const p of list) expect(p).toMatch(/^[a-z]+\.[a-zA-Z]+\.[a-zA-Z]+$/);
  });
});

describe('organization policies', () => {
  it('reads list constraints: unset, allowAll, denyAll, values, and conditions it cannot judge', () => {
    expect(listPolicyAllows(notSet, 'x')).toBe(true);
    expect(listPolicyAllows({ spec: { rules: [{ allowAll: true }] } }, 'x')).toBe(true);
    expect(listPolicyAllows({ spec: { rules: [{ denyAll: true }] } }, 'x')).toBe(false);
    expect(listPolicyAllows(allowList('a', 'b'), 'b')).toBe(true);
    expect(listPolicyAllows(allowList('a'), 'b')).toBe(false);
    expect(listPolicyAllows({ spec: { rules: [{ values: { deniedValues: ['b'] } }] } }, 'b')).toBe(false);
    expect(listPolicyAllows({ spec: { rules: [{ values: { allowedValues: ['a'] }, condition: { expression: 'resource.matchTag("env", "prod")' } }] } }, 'a')).toBeNull();
  });

  it('Domain Restricted Sharing: a blocker for allUsers, fine with RECEIVER_ACCESS=no-invoker-check', () => {
    const drs = allowList('C0abc123', 'is:principalSet://iam.googleapis.com/organizations/123');
    expect(checkDomainRestrictedSharing(drs, 'all-users')).toMatchObject({ status: 'blocker', fix: 'deploy with RECEIVER_ACCESS=no-invoker-check' });
    expect(checkDomainRestrictedSharing(drs, 'no-invoker-check').status).toBe('ok');
    expect(checkDomainRestrictedSharing(notSet, 'all-users').status).toBe('ok');
  });

  it('ingress: the receiver needs all, the handler internal', () => {
    expect(checkIngressPolicy('run.allowedIngress', notSet).status).toBe('ok');
    expect(checkIngressPolicy('run.allowedIngress', allowList('all', 'internal')).status).toBe('ok');
    expect(checkIngressPolicy('run.allowedIngress', allowList('internal'))).toMatchObject({ status: 'blocker', detail: expect.stringContaining('all (receiver)') });
    expect(checkIngressPolicy('cloudfunctions.allowedIngressSettings', allowList('ALLOW_INTERNAL_ONLY', 'ALLOW_INTERNAL_AND_GCLB'))).toMatchObject({ status: 'blocker', detail: expect.stringContaining('ALLOW_ALL (receiver)') });
    expect(checkIngressPolicy('cloudfunctions.allowedIngressSettings', allowList('ALLOW_ALL', 'ALLOW_INTERNAL_ONLY')).status).toBe('ok');
  });

  it('resource locations: regions, region groups and continent groups', () => {
    expect(locationValueCovers('in:us-locations', 'us-central1')).toBe(true);
    expect(locationValueCovers('in:us-locations', 'europe-west1')).toBe(false);
    expect(locationValueCovers('in:us-central1-locations', 'us-central1')).toBe(true);
    expect(locationValueCovers('in:us-east1-locations', 'us-central1')).toBe(false);
    expect(locationValueCovers('us-central1', 'us-central1')).toBe(true);
    expect(locationValueCovers('in:eu-locations', 'europe-west1')).toBeNull();
    const where = [{ what: 'functions', location: 'europe-west1' }, { what: 'dedupe database', location: 'europe-west1' }];
    expect(checkResourceLocations(allowList('in:us-locations'), where)).toMatchObject({ status: 'blocker', detail: expect.stringContaining('europe-west1 (functions)') });
    expect(checkResourceLocations(allowList('in:europe-locations'), where).status).toBe('ok');
    expect(checkResourceLocations(allowList('in:eu-locations'), where).status).toBe('warn');
    expect(checkResourceLocations(notSet, where).status).toBe('ok');
  });
});

describe('the dedupe database and the Pub/Sub agent', () => {
  it('is fine when the database does not exist, a blocker in Datastore mode or another location', () => {
    expect(checkFirestoreDatabase(null, 'cio-dedupe', 'us-central1').status).toBe('ok');
    expect(checkFirestoreDatabase({ name: 'projects/p/databases/cio-dedupe', type: 'DATASTORE_MODE', locationId: 'us-central1' }, 'cio-dedupe', 'us-central1').status).toBe('blocker');
    expect(checkFirestoreDatabase({ name: 'projects/p/databases/cio-dedupe', type: 'FIRESTORE_NATIVE', locationId: 'nam5' }, 'cio-dedupe', 'us-central1')).toMatchObject({ status: 'blocker', fix: expect.stringContaining('FIRESTORE_LOCATION=nam5') });
    expect(checkFirestoreDatabase({ name: 'projects/p/databases/cio-dedupe', type: 'FIRESTORE_NATIVE', locationId: 'us-central1' }, 'cio-dedupe', 'us-central1').status).toBe('warn');
  });

  it('finds the Pub/Sub agent in the project policy, and is fine without it', () => {
    const policy = { bindings: [{ role: 'roles/pubsub.serviceAgent', members: ['serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com'] }] };
    expect(checkPubsubAgent(policy, '123456789012').detail).toBe('exists');
    expect(checkPubsubAgent({ bindings: [] }, '123456789012')).toMatchObject({ status: 'ok', detail: expect.stringContaining('the apply creates it') });
  });
});

describe('a deployed receiver Customer.io can reach', () => {
  // run v2 services.get, as the REST reference shapes it (fields not read here trimmed).
  const service = (invokerIamDisabled?: boolean) => ({
    name: 'projects/acme-prod-1/locations/us-central1/services/cio-receiver',
    uid: '5d1b2c4e-0000-4000-8000-000000000000',
    generation: '3',
    creator: 'service-123456789012@gcf-admin-robot.iam.gserviceaccount.com',
    ingress: 'INGRESS_TRAFFIC_ALL',
    uri: 'https://cio-receiver-abcdefghij-uc.a.run.app',
    reconciling: false,
    ...(invokerIamDisabled === undefined ? {} : { invokerIamDisabled }),
  });
  // run v2 services.getIamPolicy
  const publicPolicy = { version: 1, etag: 'BwYx', bindings: [{ role: 'roles/run.invoker', members: ['allUsers'] }] };
  const privatePolicy = { version: 1, etag: 'BwYx', bindings: [{ role: 'roles/run.invoker', members: ['serviceAccount:cio-push-invoker@acme-prod-1.iam.gserviceaccount.com'] }] };

  it('with RECEIVER_ACCESS=no-invoker-check: a blocker when the check is on (Cloud Run answers 403), with the command that fixes it', () => {
    expect(checkReceiverAccess(service(true), null, 'no-invoker-check')).toMatchObject({ status: 'ok', detail: expect.stringContaining('invoker check off') });
    for (const on of [service(false), service()]) {
      expect(checkReceiverAccess(on, null, 'no-invoker-check')).toMatchObject({
        status: 'blocker',
        detail: expect.stringContaining('Cloud Run answers 403 to Customer.io, which then holds back every later webhook'),
        fix: 'npm run ops -- invoker-check off --service projects/acme-prod-1/locations/us-central1/services/cio-receiver',
      });
    }
  });

  it('with RECEIVER_ACCESS=all-users: fine with the allUsers binding or the check off, a blocker with neither', () => {
    expect(checkReceiverAccess(service(), publicPolicy, 'all-users')).toMatchObject({ status: 'ok', detail: 'public through an allUsers invoker binding' });
    expect(checkReceiverAccess(service(true), null, 'all-users').status).toBe('ok');
    expect(checkReceiverAccess(service(false), privatePolicy, 'all-users')).toMatchObject({ status: 'blocker', fix: expect.stringContaining('run the deploy again') });
    expect(checkReceiverAccess(service(false), {}, 'all-users').status).toBe('blocker');
  });

  it('is fine before the first deploy', () => {
    expect(checkReceiverAccess(null, null, 'no-invoker-check')).toMatchObject({ status: 'ok', detail: 'no receiver deployed yet' });
  });
});

describe('the verdict', () => {
  const ok: Check = { name: 'billing', status: 'ok', detail: 'enabled' };
  const blocker: Check = { name: 'your permissions', status: 'blocker', detail: 'missing 1 of 80', fix: 'grant yourself Owner' };
  const cannot = (name: string, reason = 'no answer from cloudbilling.googleapis.com within 10 s') => unknownCheck(name, reason);

  it.each([
    ['every check ran, no blocker', 0, [ok], 'no blocker found'],
    ['a blocker', 1, [ok, blocker], '1 blocker(s): fix them before cdktf deploy'],
    ['a blocker and a check that could not run', 1, [blocker, cannot('billing')], '1 blocker(s): fix them before cdktf deploy; 1 check(s) could not run'],
    // Nothing found because nothing could be looked at is not a pass.
    ['no blocker, but a check could not run', 3, [ok, cannot('org policy run.allowedIngress')], 'no blocker found, but 1 check(s) could not run: the verdict is incomplete'],
  ] as const)('%s: exit %i', (_, exitCode, checks, summary) => {
    expect(doctorVerdict([...checks])).toEqual({ exitCode, summary });
  });

  it('says a reason shared by several checks once, naming them, where it first shows', () => {
    const text = renderChecks([ok, cannot('APIs and your permissions'), cannot('Pub/Sub service agent'), cannot('Firestore database cio-dedupe', 'HTTP 500'), blocker]);
    expect(text.split('\n')).toEqual([
      'ok       billing: enabled',
      '??       2 checks (APIs and your permissions, Pub/Sub service agent): could not check: no answer from cloudbilling.googleapis.com within 10 s',
      '??       Firestore database cio-dedupe: could not check: HTTP 500',
      'BLOCKER  your permissions: missing 1 of 80',
      '         fix: grant yourself Owner',
    ]);
  });
});

describe('an API that is not enabled (403 SERVICE_DISABLED) before the first deploy', () => {
  // The JSON error body Google answers (google.rpc.Status with a google.rpc.ErrorInfo of domain
  // googleapis.com, as google.api.ErrorReason documents SERVICE_DISABLED).
  const body = (metadata: Record<string, string>, reason = 'SERVICE_DISABLED') => ({
    error: {
      code: 403,
      message: 'Cloud Firestore API has not been used in project 345678901234 before or it is disabled.',
      status: 'PERMISSION_DENIED',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com', metadata },
        { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'Cloud Firestore API has not been used in project 345678901234 before or it is disabled.' },
      ],
    },
  });
  const error = (b: unknown, status = 403) => new GoogleApiError('403 PERMISSION_DENIED …', status, 'http', errorInfoOf(b));
  const state = { project: 'acme-fresh-1', projectNumber: '345678901234', enabled: new Set(['bigquery.googleapis.com', 'serviceusage.googleapis.com']) };
  const firestore = 'firestore.googleapis.com';

  it('reads the ErrorInfo out of the error body, and nothing out of a body without one', () => {
    expect(errorInfoOf(body({ service: firestore, consumer: 'projects/345678901234' }))).toEqual({ reason: 'SERVICE_DISABLED', domain: 'googleapis.com', metadata: { service: firestore, consumer: 'projects/345678901234' } });
    expect(errorInfoOf({ error: { code: 403, message: 'Permission denied', status: 'PERMISSION_DENIED' } })).toBeNull();
    expect(errorInfoOf('not json')).toBeNull();
  });

  it.each([
    ['the consumer by number', { service: firestore, consumer: 'projects/345678901234' }],
    ['the consumer by id, with containerInfo', { service: firestore, consumer: 'projects/acme-fresh-1', containerInfo: 'acme-fresh-1' }],
    ['no consumer named', { service: firestore }],
  ])('is "not enabled yet" for the checked project: %s', (_, metadata) => {
    expect(apiNotEnabled(error(body(metadata)), firestore, state)).toBe(true);
    expect(disabledApi(error(body(metadata)), state)).toMatchObject({ service: firestore, checked: true });
  });

  it('is not, for another project (the credentials\' quota project), another API, another reason, or a 403 of an enabled API', () => {
    const quota = error(body({ service: firestore, consumer: 'projects/456789012345', containerInfo: 'acme-ops-tools' }));
    expect(apiNotEnabled(quota, firestore, state)).toBe(false);
    expect(disabledApi(quota, state)).toEqual({ service: firestore, project: 'acme-ops-tools', checked: false });
    expect(disabledApiReason(disabledApi(quota, state)!, 'acme-fresh-1')).toBe(
      'firestore.googleapis.com is not enabled in acme-ops-tools, the project your credentials charge API calls to (their quota project), not acme-fresh-1 (SERVICE_DISABLED): gcloud services enable firestore.googleapis.com --project acme-ops-tools, or gcloud auth application-default set-quota-project acme-fresh-1',
    );
    expect(apiNotEnabled(error(body({ service: 'run.googleapis.com', consumer: 'projects/345678901234' })), firestore, state)).toBe(false);
    expect(apiNotEnabled(error(body({ service: firestore }, 'BILLING_DISABLED')), firestore, state)).toBe(false);
    const refused = error({ error: { code: 403, message: 'The caller does not have permission', status: 'PERMISSION_DENIED' } });
    expect(apiNotEnabled(refused, firestore, { ...state, enabled: new Set([firestore]) })).toBe(false);
    expect(apiNotEnabled(refused, firestore, { ...state, enabled: null })).toBe(false);
  });

  it('takes a 403 without a reason, of an API the project\'s enabled list does not hold, for "not enabled yet"', () => {
    const bare = error({ error: { code: 403, message: 'Permission denied', status: 'PERMISSION_DENIED' } });
    expect(apiNotEnabled(bare, firestore, state)).toBe(true);
    expect(apiNotEnabled(new GoogleApiError('HTTP 500', 500, 'http'), firestore, state)).toBe(false);
  });

  it('names the command that enables an API the checks need in the checked project', () => {
    const orgpolicy = error(body({ service: 'orgpolicy.googleapis.com', consumer: 'projects/345678901234' }));
    expect(disabledApiReason(disabledApi(orgpolicy, state)!, 'acme-fresh-1')).toBe(
      'orgpolicy.googleapis.com is not enabled in acme-fresh-1 (SERVICE_DISABLED): gcloud services enable orgpolicy.googleapis.com --project acme-fresh-1, then run doctor again',
    );
  });
});
