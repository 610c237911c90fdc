/**
 * `ops doctor` as an operator runs it, against a local server that answers with recorded bodies in
 * the shape of Google's REST APIs (CIO_OPS_GOOGLE_API_ENDPOINT points the CLI at it), and against
 * APIs that never answer or refuse connections: one line per check, never a hang.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/local/emulators.js';
import { runScript } from '../support/run-script.js';

const PROJECT = 'acme-prod-1';
let recorded: Server;
let blackHole: Server;
const requests: string[] = [];

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
});

afterAll(() => {
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
    expect(lines[0]).toMatch(/^\?\? {7}9 checks \(billing, APIs and your permissions, org policy iam\.allowedPolicyMemberDomains, .*Pub\/Sub service agent, deployed receiver access\): could not check: no answer from 127\.0\.0\.1:\d+ within 1 s$/);
    // An incomplete verdict is not a pass: a pre-deploy gate must not go green on it.
    expect(stdout).toContain('no blocker found, but 9 check(s) could not run: the verdict is incomplete');
    expect(code).toBe(3);
    expect(stderr).toBe('');
  });

  it('says so when the APIs cannot be reached at all, and exits 3', async () => {
    const { code, stdout } = await runScript('ops', ['doctor', '--project', PROJECT, '--timeout', '2', '--json'], { CIO_OPS_GOOGLE_API_ENDPOINT: `http://127.0.0.1:${await freePort()}` });
    expect(code).toBe(3);
    const report = JSON.parse(stdout) as { checks: Array<{ name: string; status: string; detail: string }>; unknown: number; exit_code: number };
    expect(report).toMatchObject({ unknown: 9, exit_code: 3 });
    expect(report.checks.find((c) => c.name === 'billing')?.detail).toMatch(/^could not check: 127\.0\.0\.1:\d+ unreachable \(ECONNREFUSED\)$/);
  });
});
