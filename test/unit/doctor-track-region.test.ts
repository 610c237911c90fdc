/**
 * `ops doctor`'s Customer.io check on answers shaped like Customer.io's reference for
 * GET /api/v1/accounts/region (docs.customer.io/integrations/api/track/tag/trackregion/getRegion/):
 * `{"url": "https://track.customer.io", "region": "us", "environment_id": 3}`, or 401.
 */
import { describe, expect, it } from 'vitest';
import { doctorVerdict } from '../../ops/doctor/checks.js';
import { checkDistinctEnvironments, checkTrackRegion, credentialsNotSet, type WorkspaceCredentials } from '../../ops/doctor/track-region.js';
import { workspaceSecretIds } from '../../infra/names.js';
import { parseWorkspaces } from '../../shared/workspaces.js';

const workspaces = parseWorkspaces('acme:us,beta:eu')!;
const beta: WorkspaceCredentials = { workspace: workspaces[1]!, workspaces, project: 'acme-prod-1', secretIds: workspaceSecretIds('cio', 'beta') };
const single: WorkspaceCredentials = { workspace: { name: null, region: 'us' }, workspaces: null, project: 'acme-prod-1', secretIds: workspaceSecretIds('cio', null) };

const US = { url: 'https://track.customer.io', region: 'us', environment_id: 3 };
const EU = { url: 'https://track-eu.customer.io', region: 'eu', environment_id: 7 };

describe('a workspace\'s credentials and region', () => {
  it('is ok when Customer.io accepts them and says the configured region, with the environment id', () => {
    expect(checkTrackRegion(beta, 200, EU)).toEqual({
      environmentId: 7,
      check: { name: 'Customer.io workspace beta', status: 'ok', detail: 'credentials accepted; region eu, as CIO_WORKSPACES says (environment_id 7)' },
    });
    expect(checkTrackRegion(single, 200, US).check).toEqual({ name: 'Customer.io credentials', status: 'ok', detail: 'credentials accepted; region us, as CIO_REGION says (environment_id 3)' });
  });

  it('is a blocker in another region, with the setting that fixes it spelled out', () => {
    // Configured eu, really us: the EU URL fails a US workspace's calls.
    const wrongEu = checkTrackRegion(beta, 200, US).check;
    expect(wrongEu).toEqual({
      name: 'Customer.io workspace beta',
      status: 'blocker',
      detail: 'Customer.io says the workspace is in region us (environment_id 3), but CIO_WORKSPACES says eu: the handler calls track-eu.customer.io, where a US workspace\'s calls fail',
      fix: 'set CIO_WORKSPACES=acme:us,beta:us (beta:us) and deploy again',
    });
    // Configured us, really eu: redirected, but through US servers.
    const wrongUs = checkTrackRegion(single, 200, EU).check;
    expect(wrongUs).toMatchObject({ status: 'blocker', detail: expect.stringContaining('but CIO_REGION says us: the handler calls track.customer.io, and Customer.io redirects an EU workspace\'s calls from there: they pass through US servers'), fix: 'set CIO_REGION=eu and deploy again' });
  });

  it('is a blocker on 401, naming the two secrets to fix', () => {
    const { check, environmentId } = checkTrackRegion(beta, 401, { meta: { error: 'Unauthorized request' } });
    expect(environmentId).toBeNull();
    expect(check).toMatchObject({ status: 'blocker', detail: expect.stringContaining('Customer.io refused the site id and API key (401)') });
    expect(check.fix).toContain('cio-beta-track-site-id');
    expect(check.fix).toContain('cio-beta-track-api-key');
  });

  it('could not check on another answer, or one without a region it knows', () => {
    expect(checkTrackRegion(beta, 503, null).check).toEqual({ name: 'Customer.io workspace beta', status: 'unknown', detail: 'could not check: the Track API answered 503 to the region request with cio-beta-track-site-id and cio-beta-track-api-key' });
    expect(checkTrackRegion(beta, 200, { url: 'https://track.customer.io', environment_id: 3 }).check).toMatchObject({ status: 'unknown', detail: expect.stringContaining('answered region null, neither us nor eu') });
    expect(checkTrackRegion(beta, 200, 'not json').check.status).toBe('unknown');
  });

  it('warns while a secret has no value: normal before step 2 of the deploy, and no incomplete verdict', () => {
    const { check } = credentialsNotSet(beta, { kind: 'absent', reason: 'no version yet' }, { kind: 'value', value: 'k' });
    expect(check).toEqual({
      name: 'Customer.io workspace beta',
      status: 'warn',
      detail: 'not set yet: cio-beta-track-site-id has no value (no version yet); until it has, the handler holds this workspace\'s actions back (nothing is lost), and the credentials and region cannot be checked',
      fix: 'add it (docs/deploy.md, step 2): gcloud secrets versions add cio-beta-track-site-id --project acme-prod-1 --data-file=-',
    });
    const both = credentialsNotSet(single, { kind: 'absent', reason: 'no version yet' }, { kind: 'absent', reason: 'its newest version is disabled or destroyed' }).check;
    expect(both.detail).toContain('cio-track-site-id and cio-track-api-key have no value (no version yet; its newest version is disabled or destroyed)');
    expect(both.fix).toContain('gcloud secrets versions add cio-track-api-key');
    // A warning leaves the exit status 0: the check ran and found a state that is expected.
    expect(doctorVerdict([both]).exitCode).toBe(0);
  });

  it('is a blocker when two workspaces\' credentials are one Customer.io workspace\'s', () => {
    const checks = checkDistinctEnvironments(
      [{ workspace: 'acme', environmentId: 3 }, { workspace: 'beta', environmentId: 3 }, { workspace: 'gamma', environmentId: 9 }, { workspace: 'delta', environmentId: null }],
      (w) => workspaceSecretIds('cio', w),
    );
    expect(checks).toEqual([
      {
        name: 'Customer.io workspaces acme, beta',
        status: 'blocker',
        detail: 'their credentials are of one Customer.io workspace (environment_id 3): all but one hold another workspace\'s site id and key, and their events would be acted on in the wrong workspace',
        fix: 'put each workspace\'s own Track API site id and key into its secrets: cio-acme-track-site-id and cio-acme-track-api-key; cio-beta-track-site-id and cio-beta-track-api-key',
      },
    ]);
    expect(checkDistinctEnvironments([{ workspace: 'acme', environmentId: 3 }, { workspace: 'beta', environmentId: 7 }], (w) => workspaceSecretIds('cio', w))).toEqual([]);
  });
});
