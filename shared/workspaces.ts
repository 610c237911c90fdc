/**
 * Several Customer.io workspaces in one deployment. A Customer.io account holds several workspaces
 * (one per brand, product, region, or staging beside production), each with its own reporting
 * webhook and signing key, its own Track API credentials and its own data center. The webhook
 * payload carries no workspace id (reference §6), so the receiver tells them apart by the URL path
 * each workspace's webhook posts to: `/<workspace>`.
 *
 * `CIO_WORKSPACES` names them, each with its region: `acme:us,beta:eu` (a name alone takes
 * `CIO_REGION`'s region). Unset or empty is the single-workspace mode, exactly as before: the
 * receiver on every path, the unsuffixed variables, rows with a null workspace, dedupe records keyed
 * by the event id alone. One parser for the stack (at synth), both functions and the local stack.
 * Pure: no environment, no SDK.
 */

export type CioRegion = 'us' | 'eu';
export const CIO_REGIONS: readonly CioRegion[] = ['us', 'eu'];

export interface Workspace {
  /** Lower-case letters, digits and hyphens: a URL path segment, part of a secret id and a log field. */
  name: string;
  region: CioRegion;
}

export const WORKSPACES_VARIABLE = 'CIO_WORKSPACES';

/**
 * Each region's Track API (reference §5): a workspace's credentials work only in its own data
 * center. The handler calls its workspace's, the stack hands the single-workspace handler its own.
 */
export const TRACK_API_URLS = { us: 'https://track.customer.io/api/v1', eu: 'https://track-eu.customer.io/api/v1' } as const satisfies Record<CioRegion, string>;

/**
 * 2–20 characters, a letter first, no hyphen last: fits a URL path segment as it is, a Secret Manager
 * id (`<prefix>-<name>-webhook-signing-keys`), a Terraform construct id and an environment variable
 * suffix (upper-cased, hyphens as underscores).
 */
export const WORKSPACE_NAME = /^[a-z][a-z0-9-]{0,18}[a-z0-9]$/;

export class WorkspacesError extends Error {
  override readonly name = 'WorkspacesError';
}

/**
 * `CIO_WORKSPACES` as a list, or null for the single-workspace mode. Throws WorkspacesError naming
 * every problem at once (a bad name, a bad region, a repeat).
 */
export function parseWorkspaces(raw: string | undefined, defaultRegion: CioRegion = 'us'): Workspace[] | null {
  const entries = (raw ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (entries.length === 0) return null;
  const problems: string[] = [];
  const workspaces: Workspace[] = [];
  for (const entry of entries) {
    const [name = '', region = defaultRegion, ...rest] = entry.split(':').map((part) => part.trim());
    if (rest.length > 0) problems.push(`${JSON.stringify(entry)} is not name or name:region`);
    else if (!WORKSPACE_NAME.test(name)) problems.push(`${JSON.stringify(name)} is not a workspace name (2–20 lower-case letters, digits and hyphens, starting with a letter)`);
    else if (!(CIO_REGIONS as readonly string[]).includes(region)) problems.push(`${JSON.stringify(entry)}: the region must be ${CIO_REGIONS.join(' or ')}`);
    else if (workspaces.some((w) => w.name === name)) problems.push(`${JSON.stringify(name)} is named twice`);
    else workspaces.push({ name, region: region as CioRegion });
  }
  if (problems.length > 0) throw new WorkspacesError(problems.join('; '));
  return workspaces;
}

/** The list back in `CIO_WORKSPACES` syntax, each with its region spelled out (what the stack passes on). */
export function formatWorkspaces(workspaces: readonly Workspace[]): string {
  return workspaces.map((w) => `${w.name}:${w.region}`).join(',');
}

/**
 * A per-workspace variable: the single-workspace name, two underscores, the workspace's name in upper
 * case with underscores for hyphens — `CIO_SITE_ID_SECRET__ACME_EU` for `acme-eu`. The double
 * underscore keeps the base name whole whatever the workspace is called (a workspace named `secret`
 * makes `CIO_SITE_ID__SECRET`, not a second `CIO_SITE_ID_SECRET`).
 */
export function workspaceVariable(base: string, workspace: string): string {
  return `${base}__${workspace.toUpperCase().replaceAll('-', '_')}`;
}

/**
 * The workspace a request path names: `/acme` or `/acme/`, nothing after it, no query. null when
 * the path names none of them.
 */
export function workspaceOfPath(path: string, workspaces: readonly Workspace[]): Workspace | null {
  const match = /^\/([^/?#]+)\/?(?:[?#].*)?$/.exec(path);
  return match ? (workspaces.find((w) => w.name === match[1]) ?? null) : null;
}
