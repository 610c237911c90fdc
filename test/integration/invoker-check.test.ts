/**
 * RECEIVER_ACCESS=no-invoker-check: the step the stack synthesizes, run the way Terraform's
 * local-exec runs it (sh -c, in its working_dir), and `ops invoker-check` itself, against a stand-in
 * for the Cloud Run Admin API v2 on loopback (CIO_OPS_GOOGLE_API_ENDPOINT) that answers services.get,
 * services.patch (a long-running operation) and operations.get in the reference's shapes.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App } from 'cdktf';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadStackConfig } from '../../infra/config.js';
import { STACK_NAME } from '../../infra/names.js';
import { PipelineStack } from '../../infra/stack.js';
import { ROOT } from '../../scripts/local/function-process.js';
import { runScript } from '../support/run-script.js';

const SERVICE = 'projects/acme-prod-1/locations/us-central1/services/cio-receiver';

interface FakeService {
  invokerIamDisabled?: boolean;
  /** Answers services.get with reconciling: true this many times first. */
  reconcilingFor: number;
  /** Answers the next patches 409 this many times first. */
  conflicts: number;
  /** The operation ends with this error instead of success. */
  operationError: { code: number; message: string } | null;
  exists: boolean;
}

let server: Server;
let endpoint: string;
let fake: FakeService;
const requests: Array<{ method: string; path: string; query: string; body: unknown }> = [];

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : null;
}

beforeAll(async () => {
  const operations = new Map<string, number>();
  server = createServer(async (req, res) => {
    const [path = '', query = ''] = (req.url ?? '').split('?');
    const body = await bodyOf(req);
    requests.push({ method: req.method ?? '', path, query, body });
    const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    const service = () => ({ name: SERVICE, uri: 'https://cio-receiver-abc-uc.a.run.app', invokerIamDisabled: fake.invokerIamDisabled, reconciling: fake.reconcilingFor-- > 0, updateTime: new Date().toISOString() });
    if (path === `/run/v2/${SERVICE}` && !fake.exists) return json(404, { error: { code: 404, message: `Resource '${SERVICE}' was not found`, status: 'NOT_FOUND' } });
    if (path === `/run/v2/${SERVICE}` && req.method === 'GET') return json(200, service());
    if (path === `/run/v2/${SERVICE}` && req.method === 'PATCH') {
      if (fake.conflicts-- > 0) return json(409, { error: { code: 409, message: 'Conflict for resource: the service is being changed', status: 'ABORTED' } });
      const name = `projects/acme-prod-1/locations/us-central1/operations/${randomUUID()}`;
      operations.set(name, 1);
      return json(200, { name, metadata: { '@type': 'type.googleapis.com/google.cloud.run.v2.Service', name: SERVICE }, done: false });
    }
    const operation = /^\/run\/v2\/(projects\/[^/]+\/locations\/[^/]+\/operations\/[^/]+)$/.exec(path)?.[1];
    if (operation && operations.has(operation)) {
      // Done at the second look, as a real update takes a moment.
      const looks = operations.get(operation)!;
      operations.set(operation, looks + 1);
      if (looks < 2) return json(200, { name: operation, done: false });
      if (fake.operationError) return json(200, { name: operation, done: true, error: fake.operationError });
      fake.invokerIamDisabled = true;
      return json(200, { name: operation, done: true, response: { '@type': 'type.googleapis.com/google.cloud.run.v2.Service', ...service() } });
    }
    json(404, { error: { code: 404, message: `no such method: ${req.method} ${path}`, status: 'NOT_FOUND' } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server?.closeAllConnections();
  server?.close();
});
beforeEach(() => {
  fake = { invokerIamDisabled: undefined, reconcilingFor: 0, conflicts: 0, operationError: null, exists: true };
  requests.length = 0;
});

const summary = () => requests.map((r) => `${r.method} ${r.path.replace(/operations\/[0-9a-f-]+$/, 'operations/ID')}${r.query ? `?${r.query}` : ''}`);
const off = (env: Record<string, string> = {}, ...extra: string[]) => runScript('ops', ['invoker-check', 'off', '--service', SERVICE, ...extra], { CIO_OPS_GOOGLE_API_ENDPOINT: endpoint, ...env });

describe('the synthesized step', () => {
  it('runs as Terraform runs it, from its working directory, and turns the check off', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cdktf-out-'));
    const bundleDir = mkdtempSync(join(tmpdir(), 'bundle-'));
    writeFileSync(join(bundleDir, 'package.json'), '{"name":"fake-bundle"}');
    const app = new App({ outdir });
    new PipelineStack(app, STACK_NAME, loadStackConfig({ GOOGLE_CLOUD_PROJECT: 'acme-prod-1', RECEIVER_ACCESS: 'no-invoker-check' }, () => undefined, bundleDir));
    app.synth();
    const stackDir = join(outdir, 'stacks', STACK_NAME);
    const stack = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as { resource: { terraform_data: Record<string, { provisioner?: Array<{ 'local-exec': { command: string; working_dir: string } }> }> } };
    // The step, not the marker that any change of the receiver replaces.
    const step = Object.values(stack.resource.terraform_data).find((r) => r.provisioner) as { provisioner: Array<{ 'local-exec': { command: string; working_dir: string } }> };
    const { command, working_dir } = step!.provisioner[0]!['local-exec'];
    expect(resolve(stackDir, working_dir)).toBe(ROOT);
    // Terraform substitutes the function's service name into the command, then runs /bin/sh -c.
    const resolved = command.replace(/\$\{google_cloudfunctions2_function\.[^}]+\.service_config\[0\]\.service\}/, SERVICE);
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile('/bin/sh', ['-c', resolved], { cwd: resolve(stackDir, working_dir), env: { ...process.env, CIO_OPS_GOOGLE_API_ENDPOINT: endpoint }, timeout: 120_000 }, (error, stdout, stderr) =>
        done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${SERVICE}: invoker check turned off\n`);
    expect(summary()).toEqual([
      `GET /run/v2/${SERVICE}`,
      `PATCH /run/v2/${SERVICE}?updateMask=invokerIamDisabled`,
      'GET /run/v2/projects/acme-prod-1/locations/us-central1/operations/ID',
      'GET /run/v2/projects/acme-prod-1/locations/us-central1/operations/ID',
      `GET /run/v2/${SERVICE}`,
    ]);
    // The patch changes that one field and nothing else of a service Cloud Functions owns.
    expect(requests[1]!.body).toEqual({ invokerIamDisabled: true });
  });
});

describe('ops invoker-check', () => {
  it('does nothing to a service whose check is off already', async () => {
    fake.invokerIamDisabled = true;
    const { code, stdout } = await off();
    expect(code).toBe(0);
    expect(stdout).toBe(`${SERVICE}: invoker check already off\n`);
    expect(summary()).toEqual([`GET /run/v2/${SERVICE}`]);
  });

  it('waits for a service Cloud Functions is still changing, and tries a conflicting patch again', async () => {
    fake.reconcilingFor = 1;
    fake.conflicts = 1;
    const { code, stdout } = await off();
    expect(code).toBe(0);
    expect(stdout).toContain('is being changed; waiting for it to settle');
    expect(stdout).toContain('409 ABORTED Conflict for resource');
    expect(stdout).toContain('invoker check turned off');
    expect(summary().filter((r) => r.startsWith('PATCH'))).toHaveLength(2);
  });

  it('fails with the operation\'s error, and for a service that does not exist', async () => {
    fake.operationError = { code: 7, message: 'Permission \'run.services.setIamPolicy\' denied on resource' };
    const failed = await off();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe(`ops: turning the invoker check off on ${SERVICE} failed: 7 Permission 'run.services.setIamPolicy' denied on resource\n`);
    fake.exists = false;
    const missing = await off();
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`ops: ${SERVICE} does not exist\n`);
  });

  it('shows the check\'s state, with an exit status scripts can use', async () => {
    const on = await runScript('ops', ['invoker-check', 'show', '--project', 'acme-prod-1'], { CIO_OPS_GOOGLE_API_ENDPOINT: endpoint });
    expect(on).toMatchObject({ code: 1, stdout: `${SERVICE}: invoker check on (only principals with run.invoker may call it)\n` });
    fake.invokerIamDisabled = true;
    const shown = await runScript('ops', ['invoker-check', 'show', '--service', SERVICE], { CIO_OPS_GOOGLE_API_ENDPOINT: endpoint });
    expect(shown.code).toBe(0);
    const wrong = await runScript('ops', ['invoker-check', 'off', '--service', 'cio-receiver'], { CIO_OPS_GOOGLE_API_ENDPOINT: endpoint });
    expect(wrong).toMatchObject({ code: 2, stderr: expect.stringContaining('--service must be projects/P/locations/R/services/S') });
  });
});
