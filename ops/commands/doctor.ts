/**
 * `ops doctor`: what in a project would make the first apply fail, checked before it runs, with the
 * caller's own credentials and the stack's configuration. Read-only: every call is a get, a list or
 * a testIamPermissions. Each check is bounded in time and reports an API it cannot reach instead of
 * waiting on it.
 */
import { loadStackConfig, StackConfigError, type StackConfig } from '../../infra/config.js';
import { REQUIRED_SERVICES, RETENTION_SERVICES } from '../../infra/constructs/services.js';
import { pipelineNames } from '../../infra/names.js';
import { CommandFailed, UsageError, parse, positiveInt } from '../cli.js';
import { getService, serviceName } from '../cloud-run.js';
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
  projectNumberOf,
  renderChecks,
  unknownCheck,
  type BillingInfo,
  type Check,
  type EffectivePolicy,
  type FirestoreDatabase,
  type IamPolicy,
  type ServiceList,
  type TestPermissionsResponse,
} from '../doctor/checks.js';
import { permissionsFor, stackResourceTypes } from '../doctor/permissions.js';
import { TRACK_ENDPOINT_VARIABLE } from '../doctor/track-region.js';
import { checkCustomerioCredentials } from '../doctor/workspace-credentials.js';
import { apiNotEnabled, disabledApi, disabledApiReason, notEnabledYet, type ApiState } from '../doctor/disabled-api.js';
import { resolveCredentials } from '../credentials.js';
import { ENDPOINT_VARIABLE, GoogleApiError, createGoogleApi, type GoogleApi } from '../google-api.js';

export const DOCTOR_HELP = `usage: npm run ops -- doctor [--project ID] [--timeout SECONDS] [--json]

Checks a project before the first deploy, with your application default credentials and the
stack's configuration (the Deploy variables: GOOGLE_CLOUD_PROJECT, PIPELINE_REGION, RECEIVER_ACCESS,
…): billing; the APIs the stack enables (or whether you may enable them); your permissions for
every resource the stack creates (derived from the synthesized stack, asked of Resource Manager's
testIamPermissions); the organization policies that break the stack (iam.allowedPolicyMemberDomains,
run.allowedIngress, cloudfunctions.allowedIngressSettings, gcp.resourceLocations); an existing
Firestore database with the stack's id; the Pub/Sub service agent; once deployed, whether
Customer.io can reach the receiver (RECEIVER_ACCESS: an allUsers binding, or the invoker check
off); and each Customer.io workspace's Track API credentials and region (one with CIO_REGION, each
of CIO_WORKSPACES with several): the site id and API key read from the workspace's secrets, then
Customer.io's region endpoint asked with them — ok with the workspace's environment_id, a BLOCKER
for refused credentials (401) or a region other than the configured one, warn while a secret has
no value yet (normal until step 2 of the deploy). Before the first deploy, Firestore, Cloud Run
and Secret Manager are usually not enabled yet (the apply enables them): Google's 403
SERVICE_DISABLED from them (or a 403 of one the API list shows disabled) means nothing of theirs
exists yet, and their checks say so (ok; warn for the secrets), not a missing role; an API disabled
in your credentials' quota project instead is named with the command that enables it. No
credential is ever printed. One line per check: ok, warn, BLOCKER (with the fix) or ?? (could not
check, and why: checks that failed for one reason share a line). Changes nothing. Without usable
Google credentials it says so in one line and checks nothing.

  --project ID         the project (default: GOOGLE_CLOUD_PROJECT)
  --prefix P           resource name prefix (default: PIPELINE_PREFIX or cio)
  --timeout SECONDS    bound on each API call (default 10)
  --json               the checks as one JSON document

${TRACK_ENDPOINT_VARIABLE}=URL sends the region requests to that Track API base instead of each
workspace's regional one (tests and stand-ins).

exit status: 0 every check ran and found no blocker, 1 a blocker found (or no credentials),
2 wrong arguments, 3 no blocker found but a check could not run (the verdict is incomplete)`;

/** The APIs the stack enables whose resources doctor looks for (infra/constructs/services.ts). */
const FIRESTORE = 'firestore.googleapis.com';
const CLOUD_RUN = 'run.googleapis.com';
const RESOURCE_MANAGER = 'cloudresourcemanager.googleapis.com';

/** testIamPermissions takes at most 100 permissions per call. */
const PERMISSIONS_PER_CALL = 100;

async function allPages(api: GoogleApi, path: string, timeoutMs: number): Promise<ServiceList[]> {
  const pages: ServiceList[] = [];
  let token: string | undefined;
  do {
    const page = await api.call<ServiceList>('serviceusage', `${path}${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`, { timeoutMs });
    pages.push(page);
    token = page.nextPageToken;
  } while (token && pages.length < 20);
  return pages;
}

async function granted(api: GoogleApi, project: string, permissions: string[], timeoutMs: number): Promise<Set<string>> {
  const have = new Set<string>();
  for (let i = 0; i < permissions.length; i += PERMISSIONS_PER_CALL) {
    const body = await api.call<TestPermissionsResponse>('cloudresourcemanager', `v1/projects/${project}:testIamPermissions`, {
      method: 'POST',
      body: { permissions: permissions.slice(i, i + PERMISSIONS_PER_CALL) },
      timeoutMs,
    });
    for (const p of body.permissions ?? []) have.add(p);
  }
  return have;
}

async function effectivePolicy(api: GoogleApi, project: string, constraint: string, timeoutMs: number): Promise<EffectivePolicy> {
  return api.call<EffectivePolicy>('orgpolicy', `v2/projects/${project}/policies/${constraint}:getEffectivePolicy`, { timeoutMs });
}

export async function runDoctor(api: GoogleApi, config: StackConfig, env: Record<string, string | undefined>, timeoutMs: number): Promise<Check[]> {
  const { project } = config;
  const names = pipelineNames(config.prefix);
  const required = [...REQUIRED_SERVICES, ...(config.eventsRetentionDays !== null ? RETENTION_SERVICES : [])];
  const permissions = permissionsFor(await stackResourceTypes(env));
  // Listed once: the APIs check judges the list, and the checks of what the stack creates read it
  // to tell an API not enabled yet (nothing of it can exist) from a refusal.
  const servicePages = allPages(api, `v1/projects/${project}/services?filter=state:ENABLED&pageSize=200`, timeoutMs);
  const apiState: Promise<ApiState> = servicePages.then(
    (pages) => ({ project, enabled: enabledServiceNames(pages), projectNumber: projectNumberOf(pages) }),
    () => ({ project, enabled: null, projectNumber: null }),
  );
  /** Whether `error`, from a call to `service`, means that API is not enabled in the project yet. */
  const notEnabled = async (error: unknown, service: string) => apiNotEnabled(error, service, await apiState);

  /** Runs one check; an API that fails or does not answer becomes an "could not check" line. */
  const guarded = async (name: string, run: () => Promise<Check | Check[]>): Promise<Check[]> => {
    try {
      const result = await run();
      return Array.isArray(result) ? result : [result];
    } catch (error) {
      const disabled = disabledApi(error, await apiState);
      if (disabled) return [unknownCheck(name, disabledApiReason(disabled, project))];
      if (error instanceof GoogleApiError) return [unknownCheck(name, error.message)];
      return [unknownCheck(name, (error as Error).message)];
    }
  };

  const [billing, apisAndPermissions, drs, runIngress, functionsIngress, locations, database, agent, receiverAccess, customerio] = await Promise.all([
    guarded('billing', async () => checkBilling(await api.call<BillingInfo>('cloudbilling', `v1/projects/${project}/billingInfo`, { timeoutMs }))),
    guarded('APIs and your permissions', async () => {
      const [pages, have] = await Promise.all([servicePages, granted(api, project, permissions, timeoutMs)]);
      return [checkApis(enabledServiceNames(pages), required, have.has('serviceusage.services.enable')), checkPermissions(have, permissions)];
    }),
    guarded('org policy iam.allowedPolicyMemberDomains', async () => checkDomainRestrictedSharing(await effectivePolicy(api, project, 'iam.allowedPolicyMemberDomains', timeoutMs), config.receiverAccess)),
    guarded('org policy run.allowedIngress', async () => checkIngressPolicy('run.allowedIngress', await effectivePolicy(api, project, 'run.allowedIngress', timeoutMs))),
    guarded('org policy cloudfunctions.allowedIngressSettings', async () =>
      checkIngressPolicy('cloudfunctions.allowedIngressSettings', await effectivePolicy(api, project, 'cloudfunctions.allowedIngressSettings', timeoutMs)),
    ),
    guarded('org policy gcp.resourceLocations', async () =>
      checkResourceLocations(await effectivePolicy(api, project, 'gcp.resourceLocations', timeoutMs), [
        { what: 'functions, topic, dataset', location: config.region },
        { what: 'dedupe database', location: config.firestoreLocation },
      ]),
    ),
    guarded(`Firestore database ${names.dedupeDatabase}`, async () => {
      let found: FirestoreDatabase | null;
      try {
        found = await api.call<FirestoreDatabase>('firestore', `v1/projects/${project}/databases/${names.dedupeDatabase}`, { timeoutMs });
      } catch (error) {
        if (await notEnabled(error, FIRESTORE)) return { name: `Firestore database ${names.dedupeDatabase}`, status: 'ok', detail: `does not exist yet: ${notEnabledYet(FIRESTORE, project)}` };
        if (!(error instanceof GoogleApiError && error.status === 404)) throw error;
        found = null;
      }
      return checkFirestoreDatabase(found, names.dedupeDatabase, config.firestoreLocation);
    }),
    guarded('Pub/Sub service agent', async () => {
      try {
        const { projectNumber } = await api.call<{ projectNumber?: string }>('cloudresourcemanager', `v1/projects/${project}`, { timeoutMs });
        if (!projectNumber) throw new Error('the project has no number in its Resource Manager record');
        return checkPubsubAgent(await api.call<IamPolicy>('cloudresourcemanager', `v1/projects/${project}:getIamPolicy`, { method: 'POST', body: {}, timeoutMs }), projectNumber);
      } catch (error) {
        if (!(await notEnabled(error, RESOURCE_MANAGER))) throw error;
        return { name: 'Pub/Sub service agent', status: 'ok', detail: `not looked up: ${notEnabledYet(RESOURCE_MANAGER, project)}; it also creates the agent before granting it anything` };
      }
    }),
    guarded('deployed receiver access', async () => {
      const name = serviceName(project, config.region, names.receiver);
      let service: Awaited<ReturnType<typeof getService>>;
      try {
        service = await getService(api, name, timeoutMs);
      } catch (error) {
        if (!(await notEnabled(error, CLOUD_RUN))) throw error;
        return { name: 'deployed receiver access', status: 'ok', detail: `no receiver deployed yet: ${notEnabledYet(CLOUD_RUN, project)}` };
      }
      const needsPolicy = service !== null && service.invokerIamDisabled !== true && config.receiverAccess === 'all-users';
      const policy = needsPolicy ? await api.call<IamPolicy>('run', `v2/${name}:getIamPolicy`, { timeoutMs }) : null;
      return checkReceiverAccess(service, policy, config.receiverAccess);
    }),
    // Each workspace's check reports its own failures (a secret it could not read, a Track API that did not answer).
    checkCustomerioCredentials(api, { project, prefix: config.prefix, cioRegion: config.cioRegion, workspaces: config.workspaces, env, timeoutMs, apiState }),
  ]);
  return [...billing, ...apisAndPermissions, ...drs, ...runIngress, ...functionsIngress, ...locations, ...database, ...agent, ...receiverAccess, ...customerio];
}

export async function doctor(args: string[]): Promise<number> {
  const { values } = parse(args, { project: { type: 'string' }, prefix: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return void process.stdout.write(`${DOCTOR_HELP}\n`), 0;
  const timeoutMs = positiveInt('timeout', values.timeout, 10) * 1000;
  const env: Record<string, string | undefined> = { ...process.env };
  if (values.project) env.GOOGLE_CLOUD_PROJECT = values.project;
  if (values.prefix) env.PIPELINE_PREFIX = values.prefix;
  if (!env.GOOGLE_CLOUD_PROJECT) throw new UsageError('name the project with --project or GOOGLE_CLOUD_PROJECT');
  let config: StackConfig;
  try {
    config = loadStackConfig(env);
  } catch (error) {
    if (error instanceof StackConfigError) throw new CommandFailed(`the stack configuration itself is invalid: ${error.problems.join('; ')}`);
    throw error;
  }
  // The recorded-answers endpoint (tests) takes no credentials; Google's APIs do: resolved once,
  // up front, so missing ones are one line, not every check failing on its own.
  const credentials = env[ENDPOINT_VARIABLE] ? null : await resolveCredentials(config.project, env, timeoutMs);
  const checks = await runDoctor(createGoogleApi(env, credentials), config, env, timeoutMs);
  const blockers = checks.filter((c) => c.status === 'blocker').length;
  const unknown = checks.filter((c) => c.status === 'unknown').length;
  const verdict = doctorVerdict(checks);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ project: config.project, region: config.region, checks, blockers, unknown, exit_code: verdict.exitCode })}\n`);
  } else {
    process.stdout.write(`checking ${config.project} for a deploy to ${config.region} (prefix ${config.prefix})\n${renderChecks(checks)}\n${verdict.summary}\n`);
  }
  return verdict.exitCode;
}
