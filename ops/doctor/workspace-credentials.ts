/**
 * The calls behind doctor's Customer.io check, per workspace: the site id and API key from the
 * workspace's secrets (Secret Manager REST, `versions/latest:access`, with the operator's
 * credentials), then the Track API's region endpoint with them (Basic auth). The judging is in
 * track-region.ts. Each call is bounded by the doctor's timeout; the values read go into the
 * request's Authorization header and nowhere else.
 */
import { SECRET_PLACEHOLDER } from '../../shared/config.js';
import { TRACK_API_URLS, type Workspace } from '../../shared/workspaces.js';
import { interpretAccess } from '../../functions/secret-manager.js';
import { workspaceSecretIds } from '../../infra/names.js';
import { GoogleApiError, type GoogleApi } from '../google-api.js';
import { unknownCheck, type Check } from './checks.js';
import { apiNotEnabled, disabledApi, disabledApiReason, notEnabledYet, type ApiState } from './disabled-api.js';
import {
  TRACK_ENDPOINT_VARIABLE,
  checkDistinctEnvironments,
  checkTrackRegion,
  credentialsCheckName,
  credentialsNotSet,
  type CredentialsResult,
  type SecretValue,
  type WorkspaceCredentials,
} from './track-region.js';

const SECRET_MANAGER = 'secretmanager.googleapis.com';

/**
 * A secret's newest value; 'absent' when it has none usable (Secret Manager's definitive answers),
 * or when Secret Manager is not enabled in the project yet (`apiState`: what the APIs check listed),
 * so the stack has created no secret yet.
 */
export async function readSecretValue(api: GoogleApi, project: string, secret: string, timeoutMs: number, apiState: ApiState | Promise<ApiState> = { project, enabled: null, projectNumber: null }): Promise<SecretValue> {
  let body: unknown;
  try {
    body = await api.call<unknown>('secretmanager', `v1/projects/${project}/secrets/${secret}/versions/latest:access`, { timeoutMs });
  } catch (error) {
    if (error instanceof GoogleApiError && error.status === 404) return { kind: 'absent', reason: 'no version yet' };
    if (error instanceof GoogleApiError && error.status === 400 && /FAILED_PRECONDITION/.test(error.message)) return { kind: 'absent', reason: 'its newest version is disabled or destroyed' };
    // Read only now: the other answers need no list of enabled APIs, so their check does not wait for it.
    const state = await apiState;
    if (apiNotEnabled(error, SECRET_MANAGER, state)) return { kind: 'absent', reason: `no secret yet: ${notEnabledYet(SECRET_MANAGER, project)} and creates them`, notCreated: true };
    const disabled = disabledApi(error, state);
    if (disabled) throw new Error(disabledApiReason(disabled, project));
    if (error instanceof GoogleApiError && error.status === 403) {
      throw new Error('Secret Manager refused to read the credentials (403): the check needs Secret Manager Secret Accessor on the Customer.io secrets (roles/secretmanager.secretAccessor; Secret Manager Admin includes it)');
    }
    throw error;
  }
  // The payload's CRC32C is checked as the functions check it.
  const access = interpretAccess(200, body);
  if (access.kind === 'absent') return access;
  // The functions read the value trimmed, and an older deploy's placeholder as no value at all.
  const value = access.data.toString('utf8').trim();
  if (value === '') return { kind: 'absent', reason: 'its newest version is empty' };
  if (value === SECRET_PLACEHOLDER) return { kind: 'absent', reason: 'it holds the placeholder an older deploy wrote' };
  return { kind: 'value', value };
}

/** GET <base>/accounts/region with the credentials as Basic auth: the status and the JSON body (null if none). */
export async function askRegion(base: string, siteId: string, apiKey: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const url = `${base.replace(/\/+$/, '')}/accounts/region`;
  const host = new URL(url).host;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Basic ${Buffer.from(`${siteId}:${apiKey}`, 'utf8').toString('base64')}`, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const e = error as { name?: string; cause?: { code?: string } };
    // The reason only: the credentials are in a header, never in the URL or the message.
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new Error(`no answer from the Track API (${host}) within ${timeoutMs / 1000} s`);
    throw new Error(`the Track API (${host}) is unreachable${e.cause?.code ? ` (${e.cause.code})` : ''}`);
  }
  const text = await response.text().catch(() => '');
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: judged as an answer without a region
  }
  return { status: response.status, body };
}

export interface CredentialsCheckOptions {
  project: string;
  prefix: string;
  /** CIO_REGION: the single workspace's region. */
  cioRegion: Workspace['region'];
  /** CIO_WORKSPACES, parsed; null with one workspace. */
  workspaces: readonly Workspace[] | null;
  env: Record<string, string | undefined>;
  timeoutMs: number;
  /** What the APIs check found enabled (to tell Secret Manager not enabled yet from a refusal). */
  apiState?: Promise<ApiState>;
}

/** One workspace: its secrets, then (when both hold a value) the region endpoint. */
async function checkOne(api: GoogleApi, c: WorkspaceCredentials, options: CredentialsCheckOptions): Promise<CredentialsResult> {
  try {
    const state = options.apiState ?? { project: c.project, enabled: null, projectNumber: null };
    const [siteId, apiKey] = await Promise.all([
      readSecretValue(api, c.project, c.secretIds.siteId, options.timeoutMs, state),
      readSecretValue(api, c.project, c.secretIds.trackApiKey, options.timeoutMs, state),
    ]);
    if (siteId.kind === 'absent' || apiKey.kind === 'absent') return credentialsNotSet(c, siteId, apiKey);
    // Either regional URL answers (Customer.io's reference); the workspace's own is the one the handler uses.
    const base = options.env[TRACK_ENDPOINT_VARIABLE]?.trim() || TRACK_API_URLS[c.workspace.region];
    const { status, body } = await askRegion(base, siteId.value, apiKey.value, options.timeoutMs);
    return checkTrackRegion(c, status, body);
  } catch (error) {
    return { environmentId: null, check: unknownCheck(credentialsCheckName(c.workspace.name), (error as Error).message) };
  }
}

/** Every workspace's check (the one workspace's with one), and a blocker for two sharing one Customer.io workspace. */
export async function checkCustomerioCredentials(api: GoogleApi, options: CredentialsCheckOptions): Promise<Check[]> {
  const { project, prefix, workspaces } = options;
  const targets: ReadonlyArray<WorkspaceCredentials['workspace']> = workspaces ?? [{ name: null, region: options.cioRegion }];
  const results = await Promise.all(
    targets.map((workspace) => checkOne(api, { workspace, workspaces, project, secretIds: workspaceSecretIds(prefix, workspace.name) }, options)),
  );
  const shared = checkDistinctEnvironments(
    results.flatMap((r, i) => (targets[i]!.name === null ? [] : [{ workspace: targets[i]!.name!, environmentId: r.environmentId }])),
    (workspace) => workspaceSecretIds(prefix, workspace),
  );
  return [...results.map((r) => r.check), ...shared];
}
