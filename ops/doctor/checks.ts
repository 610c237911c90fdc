/**
 * `ops doctor`'s decisions, as pure functions of the response bodies Google's REST APIs return
 * (shapes as in their reference documentation): each turns what the project says into one line,
 * ok / warn / blocker, with the fix. The HTTP calls are elsewhere (ops/commands/doctor.ts).
 */
import type { RunService } from '../cloud-run.js';

export type CheckStatus = 'ok' | 'warn' | 'blocker' | 'unknown';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

/** cloudbilling v1 projects.getBillingInfo */
export interface BillingInfo {
  billingEnabled?: boolean;
  billingAccountName?: string;
}

export function checkBilling(body: BillingInfo): Check {
  return body.billingEnabled
    ? { name: 'billing', status: 'ok', detail: `enabled (${body.billingAccountName ?? 'account not shown'})` }
    : { name: 'billing', status: 'blocker', detail: 'not enabled on the project', fix: 'link a billing account: gcloud billing projects link PROJECT --billing-account=ACCOUNT' };
}

/** serviceusage v1 services.list (filter state:ENABLED) */
export interface ServiceList {
  services?: Array<{ name?: string; parent?: string; config?: { name?: string }; state?: string }>;
  nextPageToken?: string;
}

export function enabledServiceNames(pages: ServiceList[]): Set<string> {
  return new Set(pages.flatMap((p) => p.services ?? []).filter((s) => s.state === undefined || s.state === 'ENABLED').map((s) => s.config?.name ?? s.name?.split('/').pop() ?? ''));
}

/** The project number, from a service's parent ("projects/123456789012"). */
export function projectNumberOf(pages: ServiceList[]): string | null {
  const parent = pages.flatMap((p) => p.services ?? []).find((s) => s.parent)?.parent;
  return parent?.split('/')[1] ?? null;
}

export function checkApis(enabled: Set<string>, required: readonly string[], canEnable: boolean): Check {
  const missing = required.filter((s) => !enabled.has(s));
  if (missing.length === 0) return { name: 'APIs', status: 'ok', detail: `all ${required.length} enabled` };
  return canEnable
    ? { name: 'APIs', status: 'ok', detail: `${missing.length} not enabled yet (the apply enables them): ${missing.join(', ')}` }
    : { name: 'APIs', status: 'blocker', detail: `not enabled, and you may not enable them: ${missing.join(', ')}`, fix: 'have someone with Service Usage Admin run: gcloud services enable ' + missing.join(' ') };
}

/** cloudresourcemanager v1 projects.testIamPermissions */
export interface TestPermissionsResponse {
  permissions?: string[];
}

export function checkPermissions(granted: Set<string>, required: readonly string[]): Check {
  const missing = required.filter((p) => !granted.has(p));
  if (missing.length === 0) return { name: 'your permissions', status: 'ok', detail: `all ${required.length} the apply uses` };
  return {
    name: 'your permissions',
    status: 'blocker',
    detail: `missing ${missing.length} of ${required.length}: ${missing.join(', ')}`,
    fix: 'grant yourself Owner, or the roles listed in docs/deploy.md',
  };
}

/** orgpolicy v2 policies.getEffectivePolicy */
export interface EffectivePolicy {
  name?: string;
  spec?: {
    rules?: Array<{
      values?: { allowedValues?: string[]; deniedValues?: string[] };
      allowAll?: boolean;
      denyAll?: boolean;
      enforce?: boolean;
      condition?: unknown;
    }>;
  };
}

/** For a list constraint: is `value` allowed? null when the rules depend on conditions or groups this cannot resolve. */
export function listPolicyAllows(policy: EffectivePolicy, value: string, matches: (allowed: string, value: string) => boolean | null = (a, v) => a === v): boolean | null {
  const rules = policy.spec?.rules ?? [];
  if (rules.length === 0) return true;
  if (rules.some((r) => r.condition)) return null;
  if (rules.some((r) => r.denyAll)) return false;
  if (rules.some((r) => r.allowAll)) return true;
  const allowed = rules.flatMap((r) => r.values?.allowedValues ?? []);
  const denied = rules.flatMap((r) => r.values?.deniedValues ?? []);
  const deniedHit = denied.map((d) => matches(d, value));
  if (deniedHit.includes(true)) return false;
  if (allowed.length === 0) return deniedHit.includes(null) ? null : true;
  const allowedHit = allowed.map((a) => matches(a, value));
  if (allowedHit.includes(true)) return true;
  return allowedHit.includes(null) ? null : false;
}

export function checkDomainRestrictedSharing(policy: EffectivePolicy, receiverAccess: 'all-users' | 'no-invoker-check'): Check {
  const name = 'org policy iam.allowedPolicyMemberDomains';
  // Any allowed-values rule is a list of customer ids: allUsers is never one of them.
  const restricted = listPolicyAllows(policy, 'allUsers', () => false) !== true;
  if (!restricted) return { name, status: 'ok', detail: 'not enforced: the receiver may be public through allUsers' };
  if (receiverAccess === 'no-invoker-check') return { name, status: 'ok', detail: 'enforced; RECEIVER_ACCESS=no-invoker-check does not need allUsers' };
  return { name, status: 'blocker', detail: 'enforced: the allUsers invoker binding on the receiver will be refused', fix: 'deploy with RECEIVER_ACCESS=no-invoker-check' };
}

export function checkIngressPolicy(constraint: 'run.allowedIngress' | 'cloudfunctions.allowedIngressSettings', policy: EffectivePolicy): Check {
  const needed = constraint === 'run.allowedIngress' ? { receiver: 'all', handler: 'internal' } : { receiver: 'ALLOW_ALL', handler: 'ALLOW_INTERNAL_ONLY' };
  const name = `org policy ${constraint}`;
  const receiver = listPolicyAllows(policy, needed.receiver);
  const handler = listPolicyAllows(policy, needed.handler);
  if (receiver === false || handler === false) {
    const refused = [receiver === false ? `${needed.receiver} (receiver)` : null, handler === false ? `${needed.handler} (handler)` : null].filter(Boolean).join(' and ');
    return { name, status: 'blocker', detail: `refuses ${refused}: Customer.io must reach the receiver from the internet`, fix: `ask your organization admin to allow ${refused} for this project` };
  }
  if (receiver === null || handler === null) return { name, status: 'warn', detail: 'conditional rules: cannot tell whether the receiver and handler ingress are allowed' };
  return { name, status: 'ok', detail: `allows ${needed.receiver} (receiver) and ${needed.handler} (handler)` };
}

/** The continent-wide value groups of gcp.resourceLocations, by region prefix. */
const GROUP_PREFIXES: Record<string, readonly string[]> = {
  'in:us-locations': ['us-'],
  'in:asia-locations': ['asia-'],
  'in:australia-locations': ['australia-'],
  'in:northamerica-locations': ['northamerica-', 'us-'],
  'in:southamerica-locations': ['southamerica-'],
  'in:me-locations': ['me-'],
  'in:africa-locations': ['africa-'],
  'in:europe-locations': ['europe-'],
};

/** Whether a gcp.resourceLocations value covers a region; null for a group this cannot resolve (e.g. in:eu-locations). */
export function locationValueCovers(value: string, region: string): boolean | null {
  const v = value.replace(/^(is|under):/, '');
  if (v === region || v === `in:${region}-locations`) return true;
  if (v === 'in:global-locations' || v === 'global') return false;
  const prefixes = GROUP_PREFIXES[v];
  if (prefixes) return prefixes.some((p) => region.startsWith(p));
  // Region groups (in:us-central1-locations) name one region; zones and other groups we cannot place.
  if (/^in:[a-z]+-[a-z]+\d+-locations$/.test(v)) return false;
  return null;
}

export function checkResourceLocations(policy: EffectivePolicy, locations: Array<{ what: string; location: string }>): Check {
  const name = 'org policy gcp.resourceLocations';
  const verdicts = locations.map((l) => ({ ...l, allowed: listPolicyAllows(policy, l.location, (value) => locationValueCovers(value, l.location)) }));
  const refused = verdicts.filter((v) => v.allowed === false);
  if (refused.length > 0) {
    return {
      name,
      status: 'blocker',
      detail: `refuses ${refused.map((v) => `${v.location} (${v.what})`).join(', ')}`,
      fix: 'choose a PIPELINE_REGION (and FIRESTORE_LOCATION) the policy allows',
    };
  }
  if (verdicts.some((v) => v.allowed === null)) return { name, status: 'warn', detail: `cannot tell whether ${verdicts.filter((v) => v.allowed === null).map((v) => v.location).join(', ')} is allowed (conditional rules or value groups)` };
  return { name, status: 'ok', detail: `allows ${[...new Set(locations.map((l) => l.location))].join(', ')}` };
}

/** firestore v1 projects.databases.get (null: 404, no such database) */
export interface FirestoreDatabase {
  name?: string;
  type?: 'FIRESTORE_NATIVE' | 'DATASTORE_MODE' | string;
  locationId?: string;
}

export function checkFirestoreDatabase(database: FirestoreDatabase | null, id: string, location: string): Check {
  const name = `Firestore database ${id}`;
  if (database === null) return { name, status: 'ok', detail: 'does not exist yet; the apply creates it' };
  if (database.type === 'DATASTORE_MODE') {
    return { name, status: 'blocker', detail: 'exists in Datastore mode; the handler needs Firestore in Native mode', fix: 'choose another PIPELINE_PREFIX (the database is <prefix>-dedupe)' };
  }
  if (database.locationId && database.locationId !== location) {
    return { name, status: 'blocker', detail: `exists in ${database.locationId}, not ${location}`, fix: `set FIRESTORE_LOCATION=${database.locationId}, or choose another PIPELINE_PREFIX` };
  }
  return { name, status: 'warn', detail: 'already exists (native): fine if this stack created it; otherwise the apply stops with 409', fix: `terraform import it, or choose another PIPELINE_PREFIX` };
}

/** cloudresourcemanager v1 projects.getIamPolicy */
export interface IamPolicy {
  bindings?: Array<{ role?: string; members?: string[] }>;
}

export function checkPubsubAgent(policy: IamPolicy, projectNumber: string): Check {
  const agent = `serviceAccount:service-${projectNumber}@gcp-sa-pubsub.iam.gserviceaccount.com`;
  const present = (policy.bindings ?? []).some((b) => b.members?.includes(agent));
  return present
    ? { name: 'Pub/Sub service agent', status: 'ok', detail: 'exists' }
    : { name: 'Pub/Sub service agent', status: 'ok', detail: 'not created yet: the apply creates it (google_project_service_identity) before granting it anything' };
}

/**
 * A deployed receiver Customer.io cannot reach: Cloud Run answers 403 before the function runs, and
 * Customer.io then holds back every later webhook. `service` is run v2 services.get (null: 404, not
 * deployed); `policy` its services.getIamPolicy, read only when the invoker check is on.
 */
export function checkReceiverAccess(service: RunService | null, policy: IamPolicy | null, receiverAccess: 'all-users' | 'no-invoker-check'): Check {
  const name = 'deployed receiver access';
  if (service === null) return { name, status: 'ok', detail: 'no receiver deployed yet' };
  if (service.invokerIamDisabled === true) return { name, status: 'ok', detail: 'invoker check off: anyone may call it, the signature is the authentication' };
  const fix = `npm run ops -- invoker-check off --service ${service.name ?? 'projects/P/locations/R/services/S'}`;
  if (receiverAccess === 'no-invoker-check') {
    return { name, status: 'blocker', detail: 'the invoker check is on although RECEIVER_ACCESS=no-invoker-check: Cloud Run answers 403 to Customer.io, which then holds back every later webhook', fix };
  }
  const isPublic = (policy?.bindings ?? []).some((b) => b.role === 'roles/run.invoker' && b.members?.includes('allUsers'));
  if (isPublic) return { name, status: 'ok', detail: 'public through an allUsers invoker binding' };
  return {
    name,
    status: 'blocker',
    detail: 'the invoker check is on and no allUsers binding lets Customer.io in: Cloud Run answers 403, and Customer.io then holds back every later webhook',
    fix: 'run the deploy again (it makes the binding), or deploy with RECEIVER_ACCESS=no-invoker-check',
  };
}

/** A check that could not run: the API did not answer, or refused. */
export function unknownCheck(name: string, reason: string): Check {
  return { name, status: 'unknown', detail: `could not check: ${reason}` };
}

const MARK: Record<CheckStatus, string> = { ok: 'ok     ', warn: 'warn   ', blocker: 'BLOCKER', unknown: '??     ' };

/**
 * One line per check; checks that could not run for the same reason (an API that does not
 * answer, a refused call) share one line naming them all, where that reason first shows.
 */
export function renderChecks(checks: Check[]): string {
  const unknownByReason = new Map<string, string[]>();
  for (const c of checks) if (c.status === 'unknown') unknownByReason.set(c.detail, [...(unknownByReason.get(c.detail) ?? []), c.name]);
  const lines: string[] = [];
  for (const c of checks) {
    if (c.status !== 'unknown') {
      lines.push(`${MARK[c.status]}  ${c.name}: ${c.detail}${c.fix ? `\n         fix: ${c.fix}` : ''}`);
      continue;
    }
    const names = unknownByReason.get(c.detail);
    if (!names) continue;
    unknownByReason.delete(c.detail);
    lines.push(`${MARK.unknown}  ${names.length > 1 ? `${names.length} checks (${names.join(', ')})` : c.name}: ${c.detail}`);
  }
  return lines.join('\n');
}

/**
 * ops doctor's exit status: a blocker is 1; no blocker found but some check could not run is 3 (the
 * verdict is incomplete: a pre-deploy gate must not pass on it); every check ran, no blocker, 0.
 */
export const DOCTOR_INCOMPLETE_EXIT = 3;

export function doctorVerdict(checks: Check[]): { exitCode: 0 | 1 | 3; summary: string } {
  const blockers = checks.filter((c) => c.status === 'blocker').length;
  const unknown = checks.filter((c) => c.status === 'unknown').length;
  const couldNot = unknown ? `${unknown} check(s) could not run` : '';
  if (blockers > 0) return { exitCode: 1, summary: `${blockers} blocker(s): fix them before cdktf deploy${couldNot ? `; ${couldNot}` : ''}` };
  if (unknown > 0) return { exitCode: DOCTOR_INCOMPLETE_EXIT, summary: `no blocker found, but ${couldNot}: the verdict is incomplete` };
  return { exitCode: 0, summary: 'no blocker found' };
}
