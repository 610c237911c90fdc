/**
 * `ops doctor` as an operator runs it, against a local server that answers with recorded bodies in
 * the shape of Google's REST APIs (CIO_OPS_GOOGLE_API_ENDPOINT points the CLI at it), and against
 * APIs that never answer or refuse connections: one line per check, never a hang. The Customer.io
 * check reads the credentials from recorded Secret Manager answers and asks a stand-in for the
 * Track API's region endpoint (CIO_OPS_TRACK_API_URL), which answers as Customer.io's reference
 * shows: the region and environment id of the credentials' workspace, 401 to unknown ones.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32c } from '../../functions/secret-manager.js';
import { freePort } from '../../scripts/local/emulators.js';
import { docPages, fencedBlocks } from '../support/docs.js';
import { runScript } from '../support/run-script.js';

/** The lines docs/operations.md shows after `$ <command>` in one of its output blocks. */
function shownOutput(command: string): string[] {
  const page = docPages().find((p) => p.path === 'docs/operations.md')!;
  const block = fencedBlocks(page.text).find((b) => b.body.startsWith(`$ ${command}\n`));
  if (!block) throw new Error(`docs/operations.md shows no output of ${command}`);
  return block.body.split('\n').slice(1);
}

const PROJECT = 'acme-prod-1';
/** A project where every other check passes: only the Customer.io check decides the verdict. */
const CLEAN = 'acme-clean-1';
/**
 * A project the stack was never applied to: only the APIs a new project has enabled by default
 * (cloud.google.com/service-usage/docs/enabled-service), so Firestore, Cloud Run and Secret Manager
 * answer 403 SERVICE_DISABLED.
 */
const FRESH = 'acme-fresh-1';
const FRESH_NUMBER = '345678901234';
/** As FRESH, but the credentials' quota project (charged for the calls) has Secret Manager disabled. */
const QUOTA_ELSEWHERE = 'acme-fresh-2';
/** As FRESH, but Resource Manager is not enabled in it either (the calls charged to it). */
const NO_RESOURCE_MANAGER = 'acme-fresh-3';
const DEFAULT_ENABLED = ['bigquery.googleapis.com', 'bigquerystorage.googleapis.com', 'logging.googleapis.com', 'monitoring.googleapis.com', 'serviceusage.googleapis.com', 'storage.googleapis.com', 'storage-api.googleapis.com'];
const TITLES: Record<string, string> = { 'cloudresourcemanager.googleapis.com': 'Cloud Resource Manager API', 'firestore.googleapis.com': 'Cloud Firestore API', 'run.googleapis.com': 'Cloud Run Admin API', 'secretmanager.googleapis.com': 'Secret Manager API' };
/** Google's answer to a call to an API not enabled in the consumer project (google.api.ErrorReason SERVICE_DISABLED). */
const serviceDisabled = (service: string, consumer: { id: string; number: string }) => {
  const message = `${TITLES[service]} has not been used in project ${consumer.number} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/${service}/overview?project=${consumer.number} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.`;
  return {
    error: {
      code: 403,
      message,
      status: 'PERMISSION_DENIED',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'SERVICE_DISABLED',
          domain: 'googleapis.com',
          metadata: { consumer: `projects/${consumer.number}`, service, serviceTitle: TITLES[service], containerInfo: consumer.id, activationUrl: `https://console.developers.google.com/apis/api/${service}/overview?project=${consumer.number}` },
        },
        { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message },
        { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Google developers console API activation', url: `https://console.developers.google.com/apis/api/${service}/overview?project=${consumer.number}` }] },
      ],
    },
  };
};
let recorded: Server;
let blackHole: Server;
let track: Server;
const requests: string[] = [];
/** Secret id → value (undefined: no version; 'DISABLED': the newest version is disabled). */
const secrets = new Map<string, string>();
/** What the Track API stand-in answers per site id:key, as Customer.io's region endpoint does. */
const trackAccounts = new Map<string, { url: string; region: string; environment_id: number }>();
const trackRequests: Array<{ path: string; authorization: string | undefined }> = [];
const US = (environment_id: number) => ({ url: 'https://track.customer.io', region: 'us', environment_id });
const EU = (environment_id: number) => ({ url: 'https://track-eu.customer.io', region: 'eu', environment_id });

async function bodyOf(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>) : {};
}

const listen = (server: Server) => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

beforeAll(async () => {
  recorded = createServer(async (req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    requests.push(`${req.method} ${path}`);
    const body = await bodyOf(req);
    const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    for (const fresh of [FRESH, QUOTA_ELSEWHERE, NO_RESOURCE_MANAGER]) {
      const own = { id: fresh, number: FRESH_NUMBER };
      if (fresh === NO_RESOURCE_MANAGER && path.startsWith(`/cloudresourcemanager/v1/projects/${fresh}`)) return json(403, serviceDisabled('cloudresourcemanager.googleapis.com', own));
      if (path === `/serviceusage/v1/projects/${fresh}/services`) {
        return json(200, { services: DEFAULT_ENABLED.map((s) => ({ name: `projects/${FRESH_NUMBER}/services/${s}`, parent: `projects/${FRESH_NUMBER}`, config: { name: s }, state: 'ENABLED' })) });
      }
      if (path.startsWith(`/secretmanager/v1/projects/${fresh}/`)) return json(403, serviceDisabled('secretmanager.googleapis.com', fresh === FRESH ? own : { id: 'acme-ops-tools', number: '456789012345' }));
      if (path.startsWith(`/firestore/v1/projects/${fresh}/`)) return json(403, serviceDisabled('firestore.googleapis.com', own));
      if (path.startsWith(`/run/v2/projects/${fresh}/`)) return json(403, serviceDisabled('run.googleapis.com', own));
      // The rest answers as for CLEAN: billing on, every permission, no policy.
      if (path.startsWith(`/cloudbilling/v1/projects/${fresh}/`)) return json(200, { name: `projects/${fresh}/billingInfo`, projectId: fresh, billingAccountName: 'billingAccounts/012345-6789AB-CDEF01', billingEnabled: true });
      if (path === `/cloudresourcemanager/v1/projects/${fresh}:testIamPermissions`) return json(200, { permissions: body.permissions });
      if (path.startsWith(`/orgpolicy/v2/projects/${fresh}/policies/`)) return json(200, { name: path, spec: {} });
      if (path === `/cloudresourcemanager/v1/projects/${fresh}`) return json(200, { projectNumber: FRESH_NUMBER, projectId: fresh, lifecycleState: 'ACTIVE' });
      if (path === `/cloudresourcemanager/v1/projects/${fresh}:getIamPolicy`) return json(200, { version: 1, bindings: [{ role: 'roles/owner', members: ['user:ops@acme.com'] }] });
    }
    // Secret Manager projects.secrets.versions.access, for either project.
    const access = /^\/secretmanager\/v1\/projects\/([^/]+)\/secrets\/([^/]+)\/versions\/latest:access$/.exec(path);
    if (access) {
      const value = secrets.get(access[2]!);
      if (value === undefined) return json(404, { error: { code: 404, message: `Secret [projects/123456789012/secrets/${access[2]}] not found or has no versions.`, status: 'NOT_FOUND' } });
      if (value === 'DISABLED') return json(400, { error: { code: 400, message: `Secret Version [projects/123456789012/secrets/${access[2]}/versions/2] is in DISABLED state.`, status: 'FAILED_PRECONDITION' } });
      const data = Buffer.from(value, 'utf8');
      return json(200, { name: `projects/123456789012/secrets/${access[2]}/versions/1`, payload: { data: data.toString('base64'), dataCrc32c: String(crc32c(data)) } });
    }
    if (path.startsWith(`/cloudbilling/v1/projects/${CLEAN}/`)) return json(200, { name: `projects/${CLEAN}/billingInfo`, projectId: CLEAN, billingAccountName: 'billingAccounts/012345-6789AB-CDEF01', billingEnabled: true });
    if (path === `/serviceusage/v1/projects/${CLEAN}/services`) return json(200, { services: [] });
    if (path === `/cloudresourcemanager/v1/projects/${CLEAN}:testIamPermissions`) return json(200, { permissions: body.permissions });
    if (path.startsWith(`/orgpolicy/v2/projects/${CLEAN}/policies/`)) return json(200, { name: path, spec: {} });
    if (path === `/cloudresourcemanager/v1/projects/${CLEAN}`) return json(200, { projectNumber: '210987654321', projectId: CLEAN, lifecycleState: 'ACTIVE' });
    if (path === `/cloudresourcemanager/v1/projects/${CLEAN}:getIamPolicy`) return json(200, { version: 1, bindings: [] });
    if (path === `/cloudbilling/v1/projects/${PROJECT}/billingInfo`) return json(200, { name: `projects/${PROJECT}/billingInfo`, projectId: PROJECT, billingAccountName: 'billingAccounts/012345-6789AB-CDEF01', billingEnabled: true });
    if (path === `/serviceusage/v1/projects/${PROJECT}/services`) {
      return json(200, { services: ['pubsub.googleapis.com', 'bigquery.googleapis.com'].map((s) => ({ name: `projects/123456789012/services/${s}`, parent: 'projects/123456789012', config: { name: s }, state: 'ENABLED' })) });
    }
    if (path === `/cloudresourcemanager/v1/projects/${PROJECT}:testIamPermissions`) {
      // The caller has everything but the policy updates on Cloud Run services.
      return json(200, { permissions: (body.permissions as string[]).filter((p) => p !== 'run.services.setIamPolicy') });
    }
    if (path === `/orgpolicy/v2/projects/${PROJECT}/policies/iam.allowedPolicyMemberDomains:getEffectivePolicy`) {
      return json(200, { name: `projects/123456789012/policies/iam.allowedPolicyMemberDomains`, spec: { rules: [{ values: { allowedValues: ['C03xxxxxx'] } }] } });
    }
    if (path.startsWith(`/orgpolicy/v2/projects/${PROJECT}/policies/`)) return json(200, { name: path, spec: {} });
    if (path === `/firestore/v1/projects/${PROJECT}/databases/cio-dedupe`) return json(404, { error: { code: 404, message: 'Project or database not found', status: 'NOT_FOUND' } });
    if (path === `/cloudresourcemanager/v1/projects/${PROJECT}`) return json(200, { projectNumber: '123456789012', projectId: PROJECT, lifecycleState: 'ACTIVE' });
    if (path === `/cloudresourcemanager/v1/projects/${PROJECT}:getIamPolicy`) return json(200, { version: 1, bindings: [{ role: 'roles/owner', members: ['user:ops@acme.com'] }] });
    // A receiver deployed with an allUsers binding: its invoker check is on.
    const receiver = `projects/${PROJECT}/locations/us-central1/services/cio-receiver`;
    if (path === `/run/v2/${receiver}`) return json(200, { name: receiver, uri: 'https://cio-receiver-abcdefghij-uc.a.run.app', reconciling: false });
    if (path === `/run/v2/${receiver}:getIamPolicy`) return json(200, { version: 1, bindings: [{ role: 'roles/run.invoker', members: ['allUsers'] }] });
    json(404, { error: { code: 404, message: `no recording for ${path}`, status: 'NOT_FOUND' } });
  });
  // Accepts every connection and never answers.
  blackHole = createServer(() => undefined);
  track = createServer((req, res) => {
    trackRequests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    const credentials = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
    const account = trackAccounts.get(credentials);
    const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (req.url !== '/api/v1/accounts/region') return json(404, { meta: { error: 'not found' } });
    if (!account) return json(401, { meta: { error: 'Unauthorized request' } });
    json(200, account);
  });
});

afterAll(() => {
  track?.closeAllConnections();
  track?.close();
  recorded?.closeAllConnections();
  recorded?.close();
  blackHole?.closeAllConnections();
  blackHole?.close();
});

describe('ops doctor', () => {
  it('prints one line per check with its fix, and exits 1 on a blocker', async () => {
    const endpoint = await listen(recorded);
    const { code, stdout, stderr } = await runScript('ops', ['doctor', '--project', PROJECT], { CIO_OPS_GOOGLE_API_ENDPOINT: endpoint });
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(stdout).toContain('ok       billing: enabled (billingAccounts/012345-6789AB-CDEF01)');
    expect(stdout).toMatch(/ok {7}APIs: \d+ not enabled yet \(the apply enables them\)/);
    expect(stdout).toContain('BLOCKER  your permissions: missing 1 of');
    expect(stdout).toContain('run.services.setIamPolicy');
    expect(stdout).toContain('BLOCKER  org policy iam.allowedPolicyMemberDomains: enforced');
    expect(stdout).toContain('fix: deploy with RECEIVER_ACCESS=no-invoker-check');
    expect(stdout).toContain('ok       Firestore database cio-dedupe: does not exist yet');
    expect(stdout).toContain('ok       Pub/Sub service agent: not created yet');
    expect(stdout).toContain('ok       deployed receiver access: public through an allUsers invoker binding');
    expect(stdout).toContain('2 blocker(s): fix them before cdktf deploy');
    // Read-only: every call is a get, a list, or one of the two read-only POSTs.
    for (const request of requests) expect(request).toMatch(/^GET |:testIamPermissions$|:getIamPolicy$/);
  });

  it('follows the stack configuration: with RECEIVER_ACCESS=no-invoker-check the policy is no blocker, a receiver with its invoker check on is', async () => {
    const endpoint = `http://127.0.0.1:${(recorded.address() as AddressInfo).port}`;
    const { stdout } = await runScript('ops', ['doctor', '--project', PROJECT, '--json'], { CIO_OPS_GOOGLE_API_ENDPOINT: endpoint, RECEIVER_ACCESS: 'no-invoker-check' });
    const report = JSON.parse(stdout) as { checks: Array<{ name: string; status: string; fix?: string }>; blockers: number };
    expect(report.checks.find((c) => c.name === 'org policy iam.allowedPolicyMemberDomains')?.status).toBe('ok');
    expect(report.checks.find((c) => c.name === 'deployed receiver access')).toMatchObject({ status: 'blocker', fix: expect.stringContaining('npm run ops -- invoker-check off') });
    expect(report.blockers).toBe(2);
  });

  it('says per check that an API does not answer, within the timeout, instead of hanging', async () => {
    const endpoint = await listen(blackHole);
    const started = performance.now();
    const { code, stdout, stderr } = await runScript('ops', ['doctor', '--project', PROJECT, '--timeout', '1'], { CIO_OPS_GOOGLE_API_ENDPOINT: endpoint });
    expect(performance.now() - started).toBeLessThan(30_000);
    // One reason, said once, naming every check it stopped.
    const lines = stdout.split('\n').filter((l) => l.startsWith('??'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\?\? {7}10 checks \(billing, APIs and your permissions, org policy iam\.allowedPolicyMemberDomains, .*Pub\/Sub service agent, deployed receiver access, Customer\.io credentials\): could not check: no answer from 127\.0\.0\.1:\d+ within 1 s$/);
    // An incomplete verdict is not a pass: a pre-deploy gate must not go green on it.
    expect(stdout).toContain('no blocker found, but 10 check(s) could not run: the verdict is incomplete');
    expect(code).toBe(3);
    expect(stderr).toBe('');
  });

  it('says so when the APIs cannot be reached at all, and exits 3', async () => {
    const { code, stdout } = await runScript('ops', ['doctor', '--project', PROJECT, '--timeout', '2', '--json'], { CIO_OPS_GOOGLE_API_ENDPOINT: `http://127.0.0.1:${await freePort()}` });
    expect(code).toBe(3);
    const report = JSON.parse(stdout) as { checks: Array<{ name: string; status: string; detail: string }>; unknown: number; exit_code: number };
    expect(report).toMatchObject({ unknown: 10, exit_code: 3 });
    expect(report.checks.find((c) => c.name === 'billing')?.detail).toMatch(/^could not check: 127\.0\.0\.1:\d+ unreachable \(ECONNREFUSED\)$/);
  });
});

describe('ops doctor before the first deploy: APIs the stack enables are not enabled yet', () => {
  type Report = { checks: Array<{ name: string; status: string; detail: string; fix?: string }>; exit_code: number };
  const doctor = async (project: string, json: boolean) => {
    if (!recorded.listening) await listen(recorded);
    const endpoint = `http://127.0.0.1:${(recorded.address() as AddressInfo).port}`;
    return runScript('ops', ['doctor', '--project', project, ...(json ? ['--json'] : [])], { CIO_OPS_GOOGLE_API_ENDPOINT: endpoint });
  };

  it('takes 403 SERVICE_DISABLED from Firestore, Cloud Run and Secret Manager for "not created yet", and exits 0', async () => {
    const { code, stdout, stderr } = await doctor(FRESH, false);
    expect(stderr).toBe('');
    expect(stdout).toContain('ok       APIs: ');
    expect(stdout).toContain('not enabled yet (the apply enables them)');
    expect(stdout).toContain(`ok       Firestore database cio-dedupe: does not exist yet: firestore.googleapis.com is not enabled in ${FRESH} yet, and the apply enables it`);
    expect(stdout).toContain(`ok       deployed receiver access: no receiver deployed yet: run.googleapis.com is not enabled in ${FRESH} yet, and the apply enables it`);
    expect(stdout).toContain(
      `warn     Customer.io credentials: not set yet: cio-track-site-id and cio-track-api-key have no value (no secret yet: secretmanager.googleapis.com is not enabled in ${FRESH} yet, and the apply enables it and creates them)`,
    );
    expect(stdout).toContain(`fix: deploy (step 1 creates them), then add them (docs/deploy.md, step 2): gcloud secrets versions add cio-track-site-id --project ${FRESH} --data-file=-`);
    // Not a missing role, not "could not check".
    expect(stdout).not.toContain('??');
    expect(stdout).not.toContain('Secret Accessor');
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('no blocker found');
    expect(code).toBe(0);
    const report = JSON.parse((await doctor(FRESH, true)).stdout) as Report;
    expect(report.exit_code).toBe(0);
    expect(report.checks.filter((c) => c.status !== 'ok').map((c) => [c.name, c.status])).toEqual([['Customer.io credentials', 'warn']]);
    // docs/operations.md shows this run whole.
    expect(stdout.trimEnd()).toBe(shownOutput(`npm run ops -- doctor --project ${FRESH}`).join('\n'));
  });

  it('says where to enable an API disabled in the credentials\' quota project, not the checked one, and exits 3', async () => {
    const { code, stdout } = await doctor(QUOTA_ELSEWHERE, false);
    expect(stdout).toContain(
      `??       Customer.io credentials: could not check: secretmanager.googleapis.com is not enabled in acme-ops-tools, the project your credentials charge API calls to (their quota project), not ${QUOTA_ELSEWHERE} (SERVICE_DISABLED): gcloud services enable secretmanager.googleapis.com --project acme-ops-tools, or gcloud auth application-default set-quota-project ${QUOTA_ELSEWHERE}`,
    );
    // Its own APIs are still "not enabled yet".
    expect(stdout).toContain(`ok       Firestore database cio-dedupe: does not exist yet: firestore.googleapis.com is not enabled in ${QUOTA_ELSEWHERE} yet`);
    expect(code).toBe(3);
  });

  it('with Resource Manager not enabled: the Pub/Sub agent is "not looked up", your permissions cannot be checked and say what to enable (exit 3)', async () => {
    const { code, stdout } = await doctor(NO_RESOURCE_MANAGER, false);
    expect(stdout).toContain(`ok       Pub/Sub service agent: not looked up: cloudresourcemanager.googleapis.com is not enabled in ${NO_RESOURCE_MANAGER} yet, and the apply enables it; it also creates the agent before granting it anything`);
    expect(stdout).toContain(
      `??       APIs and your permissions: could not check: cloudresourcemanager.googleapis.com is not enabled in ${NO_RESOURCE_MANAGER} (SERVICE_DISABLED): gcloud services enable cloudresourcemanager.googleapis.com --project ${NO_RESOURCE_MANAGER}, then run doctor again`,
    );
    expect(code).toBe(3);
  });
});

describe('ops doctor: the Customer.io credentials and region of each workspace', () => {
  type Report = { checks: Array<{ name: string; status: string; detail: string; fix?: string }>; blockers: number; unknown: number; exit_code: number };
  const doctor = async (env: Record<string, string>, project = CLEAN) => {
    const endpoint = `http://127.0.0.1:${(recorded.address() as AddressInfo).port}`;
    const trackUrl = `http://127.0.0.1:${(track.address() as AddressInfo).port}/api/v1`;
    const text = await runScript('ops', ['doctor', '--project', project], { CIO_OPS_GOOGLE_API_ENDPOINT: endpoint, CIO_OPS_TRACK_API_URL: trackUrl, ...env });
    const json = await runScript('ops', ['doctor', '--project', project, '--json'], { CIO_OPS_GOOGLE_API_ENDPOINT: endpoint, CIO_OPS_TRACK_API_URL: trackUrl, ...env });
    expect(text.stderr).toBe('');
    expect(json.code).toBe(text.code);
    return { code: text.code, stdout: text.stdout, report: JSON.parse(json.stdout) as Report };
  };
  const customerio = (report: Report) => report.checks.filter((c) => c.name.startsWith('Customer.io'));

  beforeAll(async () => {
    await listen(track);
    if (!recorded.listening) await listen(recorded);
  });

  it('with one workspace: ok with the environment id when the credentials are accepted and the region is CIO_REGION\'s', async () => {
    secrets.clear();
    secrets.set('cio-track-site-id', 'site-single\n');
    secrets.set('cio-track-api-key', 'key-single');
    trackAccounts.set('site-single:key-single', EU(31));
    trackRequests.length = 0;
    const { code, stdout, report } = await doctor({ CIO_REGION: 'eu' });
    expect(customerio(report)).toEqual([{ name: 'Customer.io credentials', status: 'ok', detail: 'credentials accepted; region eu, as CIO_REGION says (environment_id 31)' }]);
    expect(stdout).toContain('ok       Customer.io credentials: credentials accepted; region eu, as CIO_REGION says (environment_id 31)');
    expect(code).toBe(0);
    // The value read trimmed, as the functions read it; sent as Basic auth to the region endpoint.
    expect(trackRequests[0]).toEqual({ path: '/api/v1/accounts/region', authorization: `Basic ${Buffer.from('site-single:key-single').toString('base64')}` });
    // Never printed.
    for (const out of [stdout, JSON.stringify(report)]) {
      expect(out).not.toContain('site-single');
      expect(out).not.toContain('key-single');
    }
  });

  it('with two workspaces, one in the wrong region: a blocker for that one only, with the CIO_WORKSPACES that fixes it', async () => {
    secrets.clear();
    for (const [ws, account] of [['acme', US(3)], ['beta', EU(7)]] as const) {
      secrets.set(`cio-${ws}-track-site-id`, `site-${ws}`);
      secrets.set(`cio-${ws}-track-api-key`, `key-${ws}`);
      trackAccounts.set(`site-${ws}:key-${ws}`, account);
    }
    const { code, stdout, report } = await doctor({ CIO_WORKSPACES: 'acme,beta' });
    expect(customerio(report)).toEqual([
      { name: 'Customer.io workspace acme', status: 'ok', detail: 'credentials accepted; region us, as CIO_WORKSPACES says (environment_id 3)' },
      {
        name: 'Customer.io workspace beta',
        status: 'blocker',
        detail: 'Customer.io says the workspace is in region eu (environment_id 7), but CIO_WORKSPACES says us: the handler calls track.customer.io, and Customer.io redirects an EU workspace\'s calls from there: they pass through US servers, where data could be logged',
        fix: 'set CIO_WORKSPACES=acme:us,beta:eu (beta:eu) and deploy again',
      },
    ]);
    expect(report.blockers).toBe(1);
    expect(code).toBe(1);
    expect(stdout).toContain('         fix: set CIO_WORKSPACES=acme:us,beta:eu (beta:eu) and deploy again');
    expect(stdout).not.toMatch(/site-(acme|beta)|key-(acme|beta)/);
    // Configured right, both are ok.
    expect((await doctor({ CIO_WORKSPACES: 'acme,beta:eu' })).code).toBe(0);
  });

  it('prints what docs/operations.md shows for acme right, beta in the wrong region and gamma not set up yet', async () => {
    secrets.clear();
    for (const [ws, account] of [['acme', US(3)], ['beta', EU(7)]] as const) {
      secrets.set(`cio-${ws}-track-site-id`, `site-${ws}`);
      secrets.set(`cio-${ws}-track-api-key`, `key-${ws}`);
      trackAccounts.set(`site-${ws}:key-${ws}`, account);
    }
    // The page's project is the stand-ins' clean one; "…" stands for the checks above the Customer.io ones.
    const [header, ...rest] = shownOutput('CIO_WORKSPACES=acme,beta,gamma npm run ops -- doctor').map((line) => line.replaceAll('acme-prod-1', CLEAN));
    const shown = rest.slice(rest.indexOf('…') + 1);
    const { code, stdout } = await doctor({ CIO_WORKSPACES: 'acme,beta,gamma' });
    const printed = stdout.trimEnd().split('\n');
    expect(printed[0]).toBe(header);
    const from = printed.indexOf(shown[0]!);
    expect(from, shown[0]).toBeGreaterThan(0);
    expect(printed.slice(from)).toEqual(shown);
    expect(code).toBe(1);
  });

  it('refused credentials (401): a blocker naming the workspace\'s two secrets', async () => {
    secrets.set('cio-beta-track-api-key', 'an-app-api-key');
    const { code, report } = await doctor({ CIO_WORKSPACES: 'acme,beta:eu' });
    const beta = customerio(report).find((c) => c.name === 'Customer.io workspace beta')!;
    expect(beta).toMatchObject({ status: 'blocker', detail: expect.stringContaining('Customer.io refused the site id and API key (401)') });
    expect(beta.fix).toContain('cio-beta-track-site-id');
    expect(beta.fix).toContain('cio-beta-track-api-key');
    expect(JSON.stringify(report)).not.toContain('an-app-api-key');
    expect(customerio(report).find((c) => c.name === 'Customer.io workspace acme')?.status).toBe('ok');
    expect(code).toBe(1);
  });

  it('a secret with no version yet (before step 2), or a disabled one: a warning, exit 0, and the Track API is not asked', async () => {
    secrets.clear();
    secrets.set('cio-acme-track-site-id', 'site-acme');
    secrets.set('cio-beta-track-api-key', 'DISABLED');
    trackRequests.length = 0;
    const { code, stdout, report } = await doctor({ CIO_WORKSPACES: 'acme,beta:eu' });
    expect(customerio(report).map((c) => [c.name, c.status, c.detail.split(';')[0]])).toEqual([
      ['Customer.io workspace acme', 'warn', 'not set yet: cio-acme-track-api-key has no value (no version yet)'],
      ['Customer.io workspace beta', 'warn', 'not set yet: cio-beta-track-site-id and cio-beta-track-api-key have no value (no version yet'],
    ]);
    expect(stdout).toContain('fix: add it (docs/deploy.md, step 2): gcloud secrets versions add cio-acme-track-api-key --project acme-clean-1 --data-file=-');
    expect(trackRequests).toEqual([]);
    expect(code).toBe(0);
  });

  it('two workspaces holding one Customer.io workspace\'s credentials: a blocker', async () => {
    secrets.clear();
    for (const ws of ['acme', 'beta']) {
      secrets.set(`cio-${ws}-track-site-id`, 'site-acme');
      secrets.set(`cio-${ws}-track-api-key`, 'key-acme');
    }
    const { code, report } = await doctor({ CIO_WORKSPACES: 'acme,beta' });
    expect(customerio(report).map((c) => [c.name, c.status])).toEqual([
      ['Customer.io workspace acme', 'ok'],
      ['Customer.io workspace beta', 'ok'],
      ['Customer.io workspaces acme, beta', 'blocker'],
    ]);
    expect(code).toBe(1);
  });

  it('a Track API that does not answer: could not check, exit 3', async () => {
    secrets.clear();
    secrets.set('cio-track-site-id', 'site-single');
    secrets.set('cio-track-api-key', 'key-single');
    const { code, report } = await doctor({ CIO_OPS_TRACK_API_URL: `http://127.0.0.1:${await freePort()}/api/v1` });
    expect(customerio(report)).toEqual([{ name: 'Customer.io credentials', status: 'unknown', detail: expect.stringMatching(/^could not check: the Track API \(127\.0\.0\.1:\d+\) is unreachable \(ECONNREFUSED\)$/) }]);
    expect(code).toBe(3);
  });

  it('an invalid CIO_WORKSPACES is one line, exit 1, before anything is asked', async () => {
    const { code, stdout, stderr } = await runScript('ops', ['doctor', '--project', CLEAN], { CIO_OPS_GOOGLE_API_ENDPOINT: 'http://127.0.0.1:9', CIO_WORKSPACES: 'acme,Beta' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe('ops: the stack configuration itself is invalid: CIO_WORKSPACES: "Beta" is not a workspace name (2–20 lower-case letters, digits and hyphens, starting with a letter)');
  });
});
