/**
 * `ops doctor`'s check of each Customer.io workspace's Track API credentials and region, as pure
 * functions of what Secret Manager and the Track API answer. Customer.io's region endpoint,
 * `GET /api/v1/accounts/region` with the workspace's site id and API key as Basic auth, answers
 * `{"url": "https://track.customer.io", "region": "us", "environment_id": 3}` on either regional URL,
 * the environment id being the workspace the credentials belong to, and 401 to credentials it does
 * not accept (docs.customer.io/integrations/api/track/tag/trackregion/getRegion/). A wrong region
 * is not harmless (docs.customer.io/api/track/, "Overview"): an EU workspace's calls sent to the US
 * URL are redirected but pass through US servers, and a US workspace's calls sent to the EU URL fail.
 *
 * No value of a secret is ever part of a check: only the secrets' ids, the region and the id.
 */
import { formatWorkspaces, type CioRegion, type Workspace } from '../../shared/workspaces.js';
import type { Check } from './checks.js';

/** Overrides the Track API base (`https://track.customer.io/api/v1` or the EU one) for every workspace: tests and stand-ins. */
export const TRACK_ENDPOINT_VARIABLE = 'CIO_OPS_TRACK_API_URL';

/** The Track API's answer to GET /api/v1/accounts/region. */
export interface RegionAnswer {
  url?: string;
  region?: string;
  environment_id?: number;
}

/** What versions/latest:access said about one secret: its value, or that it has none usable. */
/** `notCreated`: the secret cannot exist yet (its API is not enabled: the stack has not been applied). */
export type SecretValue = { kind: 'value'; value: string } | { kind: 'absent'; reason: string; notCreated?: true };

/** The workspace a check is about: one of CIO_WORKSPACES, or (name null) the single workspace. */
export interface WorkspaceCredentials {
  workspace: { name: string | null; region: CioRegion };
  /** The deployment's workspaces (null with one), to spell out the corrected CIO_WORKSPACES. */
  workspaces: readonly Workspace[] | null;
  project: string;
  secretIds: { siteId: string; trackApiKey: string };
}

export const credentialsCheckName = (workspace: string | null) => (workspace === null ? 'Customer.io credentials' : `Customer.io workspace ${workspace}`);

/** A check with the environment id the credentials answered (to find two workspaces sharing one). */
export interface CredentialsResult {
  check: Check;
  environmentId: number | null;
}

/**
 * One or both secrets have no usable value (call it only then). Normal until step 2 of the deploy (the stack creates
 * them empty); the handler holds the workspace's actionable events back until they have one, and
 * nothing is lost. A warning, not an unknown: the check ran and found the state it reports.
 */
export function credentialsNotSet(c: WorkspaceCredentials, siteId: SecretValue, apiKey: SecretValue): CredentialsResult {
  const missing = [siteId.kind === 'absent' ? c.secretIds.siteId : null, apiKey.kind === 'absent' ? c.secretIds.trackApiKey : null].filter((s): s is string => s !== null);
  const reasons = [...new Set([siteId, apiKey].flatMap((s) => (s.kind === 'absent' ? [s.reason] : [])))];
  return {
    environmentId: null,
    check: {
      name: credentialsCheckName(c.workspace.name),
      status: 'warn',
      detail: `not set yet: ${missing.join(' and ')} ${missing.length > 1 ? 'have' : 'has'} no value (${reasons.join('; ')}); until ${missing.length > 1 ? 'they have' : 'it has'}, the handler holds this workspace's actions back (nothing is lost), and the credentials and region cannot be checked`,
      fix: `${siteId.kind === 'absent' && siteId.notCreated && apiKey.kind === 'absent' && apiKey.notCreated ? 'deploy (step 1 creates them), then ' : ''}add ${missing.length > 1 ? 'them' : 'it'} (docs/deploy.md, step 2): ${missing.map((s) => `gcloud secrets versions add ${s} --project ${c.project} --data-file=-`).join('; ')}`,
    },
  };
}

const where = (c: WorkspaceCredentials) => (c.workspace.name === null ? 'CIO_REGION' : 'CIO_WORKSPACES');

/** The setting that puts the workspace in `region`, spelled out. */
function regionFix(c: WorkspaceCredentials, region: CioRegion): string {
  if (c.workspace.name === null || c.workspaces === null) return `set CIO_REGION=${region} and deploy again`;
  const corrected = c.workspaces.map((w) => (w.name === c.workspace.name ? { ...w, region } : w));
  return `set CIO_WORKSPACES=${formatWorkspaces(corrected)} (${c.workspace.name}:${region}) and deploy again`;
}

/** The Track API's answer to the region request, judged. `status` is the HTTP status. */
export function checkTrackRegion(c: WorkspaceCredentials, status: number, body: unknown): CredentialsResult {
  const name = credentialsCheckName(c.workspace.name);
  const secrets = `${c.secretIds.siteId} and ${c.secretIds.trackApiKey}`;
  if (status === 401) {
    return {
      environmentId: null,
      check: {
        name,
        status: 'blocker',
        detail: 'Customer.io refused the site id and API key (401): every Track API call of the handler for this workspace would be refused, and its events held back until they dead-letter',
        fix: `put the workspace's Track API site id into ${c.secretIds.siteId} and its Track API key (not an App API key) into ${c.secretIds.trackApiKey} (Customer.io: Settings › Workspace Settings › API and Webhook Credentials): gcloud secrets versions add SECRET --project ${c.project} --data-file=-`,
      },
    };
  }
  if (status !== 200) return { environmentId: null, check: { name, status: 'unknown', detail: `could not check: the Track API answered ${status} to the region request with ${secrets}` } };
  const answer = (body ?? {}) as RegionAnswer;
  const environmentId = typeof answer.environment_id === 'number' ? answer.environment_id : null;
  const env = environmentId === null ? '' : ` (environment_id ${environmentId})`;
  if (answer.region !== 'us' && answer.region !== 'eu') {
    return { environmentId, check: { name, status: 'unknown', detail: `could not check: the Track API accepted the credentials but answered region ${JSON.stringify(answer.region ?? null)}, neither us nor eu` } };
  }
  const configured = c.workspace.region;
  if (answer.region === configured) {
    return { environmentId, check: { name, status: 'ok', detail: `credentials accepted; region ${answer.region}, as ${where(c)} says${env}` } };
  }
  const consequence =
    configured === 'us'
      ? 'the handler calls track.customer.io, and Customer.io redirects an EU workspace\'s calls from there: they pass through US servers, where data could be logged'
      : 'the handler calls track-eu.customer.io, where a US workspace\'s calls fail';
  return {
    environmentId,
    check: {
      name,
      status: 'blocker',
      detail: `Customer.io says the workspace is in region ${answer.region}${env}, but ${where(c)} says ${configured}: ${consequence}`,
      fix: regionFix(c, answer.region),
    },
  };
}

/**
 * Two workspaces whose credentials answer the same environment id are one Customer.io workspace:
 * one of them holds the other's site id and key, and its events would be acted on in the wrong
 * workspace (on whoever has the same id there). One blocker per shared id.
 */
export function checkDistinctEnvironments(results: ReadonlyArray<{ workspace: string; environmentId: number | null }>, secretIdsOf: (workspace: string) => { siteId: string; trackApiKey: string }): Check[] {
  const byEnvironment = new Map<number, string[]>();
  for (const r of results) if (r.environmentId !== null) byEnvironment.set(r.environmentId, [...(byEnvironment.get(r.environmentId) ?? []), r.workspace]);
  return [...byEnvironment.entries()]
    .filter(([, names]) => names.length > 1)
    .map(([environmentId, names]) => ({
      name: `Customer.io workspaces ${names.join(', ')}`,
      status: 'blocker' as const,
      detail: `their credentials are of one Customer.io workspace (environment_id ${environmentId}): all but one hold another workspace's site id and key, and their events would be acted on in the wrong workspace`,
      fix: `put each workspace's own Track API site id and key into its secrets: ${names.map((n) => `${secretIdsOf(n).siteId} and ${secretIdsOf(n).trackApiKey}`).join('; ')}`,
    }));
}
