/**
 * The handler with several workspaces (CIO_WORKSPACES): the row's workspace picks the credentials,
 * the Track API (each workspace here has its own fake, as each region has its own data center) and
 * the rate gate; dedupe records are per workspace and event, so the same event_id in two
 * workspaces is two events; a workspace the handler does not know is nacked. Real customerio-node
 * (Basic auth site_id:api_key) against the fakes, dedupe on the Firestore emulator.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EventRow } from '../../shared/row.js';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { startFunction, type FunctionProcess } from '../../scripts/local/function-process.js';
import { startFakeSecretManager, type FakeSecretManager } from '../support/fake-secret-manager.js';
import { eventRow, handlerProcessEnv, pushEnvelope, startHandlerHarness } from '../support/handler-harness.js';
import { logEntries, waitFor } from '../support/waiting.js';

const basic = (site: string, key: string) => `Basic ${Buffer.from(`${site}:${key}`).toString('base64')}`;
const ACME_AUTH = basic('acme-site', 'acme-key');
const BETA_AUTH = basic('beta-site', 'beta-key');

let acmeTrack: FakeTrackApi;
let betaTrack: FakeTrackApi;
let harness: Awaited<ReturnType<typeof startHandlerHarness>>;

function workspacesEnv(extra: Record<string, string> = {}) {
  return {
    CIO_SITE_ID: undefined,
    CIO_TRACK_API_KEY: undefined,
    CIO_TRACK_URL: undefined,
    CIO_WORKSPACES: 'acme:us,beta:eu',
    CIO_SITE_ID__ACME: 'acme-site',
    CIO_TRACK_API_KEY__ACME: 'acme-key',
    CIO_TRACK_URL__ACME: acmeTrack.url,
    CIO_SITE_ID__BETA: 'beta-site',
    CIO_TRACK_API_KEY__BETA: 'beta-key',
    CIO_TRACK_URL__BETA: betaTrack.url,
    ...extra,
  };
}

const inWorkspace = (row: EventRow, workspace: string | null): EventRow => ({ ...row, workspace });

beforeAll(async () => {
  [acmeTrack, betaTrack] = await Promise.all([startFakeTrackApi(), startFakeTrackApi()]);
});
afterAll(async () => {
  await acmeTrack?.close();
  await betaTrack?.close();
});

describe('a handler for several workspaces', () => {
  beforeEach(async () => {
    acmeTrack.reset();
    betaTrack.reset();
    harness = await startHandlerHarness({ fake: acmeTrack, env: workspacesEnv() });
  });
  afterEach(async () => {
    await harness.close();
  });

  it('calls each workspace\'s Track API with that workspace\'s credentials, and names the workspace in its log', async () => {
    const acme = inWorkspace(eventRow('email', 'bounced', { seq: 1 }), 'acme');
    const beta = inWorkspace(eventRow('email', 'spammed', { seq: 2 }), 'beta');
    expect(await harness.push(acme)).toBe(204);
    expect(await harness.push(beta)).toBe(204);
    expect(acmeTrack.requests.map((r) => [r.method, r.path, r.authorization])).toEqual([['PUT', '/customers/cio_d9c100000001', ACME_AUTH]]);
    expect(betaTrack.requests.map((r) => [r.method, r.path, r.authorization])).toEqual([['PUT', '/customers/cio_d9c100000002', BETA_AUTH]]);
    expect(harness.handled(acme.event_id)).toEqual([expect.objectContaining({ outcome: 'done', workspace: 'acme' })]);
    expect(harness.handled(beta.event_id)).toEqual([expect.objectContaining({ outcome: 'done', workspace: 'beta' })]);
    expect(await harness.record(acme.event_id, 'acme')).toMatchObject({ status: 'done', workspace: 'acme', event_id: acme.event_id });
  });

  it('keeps the same event_id in two workspaces apart: two records, each acted on once', async () => {
    const row = eventRow('email', 'bounced', { seq: 3 });
    const [acme, beta] = [inWorkspace(row, 'acme'), inWorkspace(row, 'beta')];
    expect(await harness.push(acme)).toBe(204);
    expect(await harness.push(beta)).toBe(204);
    // Redeliveries of each are duplicates of their own workspace's record.
    expect(await harness.push(acme)).toBe(204);
    expect(await harness.push(beta)).toBe(204);
    expect(acmeTrack.requests.map((r) => r.authorization)).toEqual([ACME_AUTH]);
    expect(betaTrack.requests.map((r) => r.authorization)).toEqual([BETA_AUTH]);
    expect(await harness.record(row.event_id, 'acme')).toMatchObject({ status: 'done', attempts: 1, workspace: 'acme' });
    expect(await harness.record(row.event_id, 'beta')).toMatchObject({ status: 'done', attempts: 1, workspace: 'beta' });
    // Not the single-workspace record.
    expect(await harness.record(row.event_id)).toBeUndefined();
    expect(harness.handled(row.event_id).map((e) => [e.workspace, e.outcome])).toEqual([['acme', 'done'], ['beta', 'done'], ['acme', 'duplicate'], ['beta', 'duplicate']]);
  });

  it('nacks (503) an event of a workspace it does not know, or of none, with one ERROR line, calling nothing and recording nothing', async () => {
    const gamma = inWorkspace(eventRow('email', 'bounced', { seq: 4 }), 'gamma');
    const none = eventRow('email', 'bounced', { seq: 5 });
    expect(await harness.push(gamma)).toBe(503);
    expect(await harness.push(none)).toBe(503);
    expect([...acmeTrack.requests, ...betaTrack.requests]).toEqual([]);
    expect(harness.handled(gamma.event_id)).toEqual([
      expect.objectContaining({ severity: 'ERROR', outcome: 'retry', workspace: 'gamma', reason: 'workspace not configured in this handler (CIO_WORKSPACES is acme,beta)' }),
    ]);
    expect(harness.handled(none.event_id)).toEqual([expect.objectContaining({ severity: 'ERROR', outcome: 'retry', workspace: null, reason: expect.stringContaining('event has no workspace') })]);
    expect(harness.logger.entries.filter((e) => e.event_id === gamma.event_id)).toHaveLength(1);
    expect(await harness.record(gamma.event_id, 'gamma')).toBeUndefined();
  });

  it('nacks one workspace\'s events while its credentials hold the placeholder; the other\'s flow', async () => {
    await harness.close();
    harness = await startHandlerHarness({ fake: acmeTrack, env: workspacesEnv({ CIO_TRACK_API_KEY__BETA: 'placeholder:add-a-secret-version' }) });
    expect(await harness.push(inWorkspace(eventRow('email', 'bounced', { seq: 6 }), 'beta'))).toBe(503);
    expect(await harness.push(inWorkspace(eventRow('email', 'bounced', { seq: 7 }), 'acme'))).toBe(204);
    expect(betaTrack.requests).toEqual([]);
    expect(acmeTrack.requests).toHaveLength(1);
    expect(harness.logger.entries).toContainEqual(expect.objectContaining({ severity: 'ERROR', workspace: 'beta', message: expect.stringContaining('deploy placeholder') }));
  });

  it('runs one workspace dry while another acts', async () => {
    await harness.close();
    harness = await startHandlerHarness({ fake: acmeTrack, env: { ...workspacesEnv({ CIO_DRY_RUN__BETA: '1' }), CIO_SITE_ID__BETA: undefined, CIO_TRACK_API_KEY__BETA: undefined } });
    const beta = inWorkspace(eventRow('email', 'bounced', { seq: 8 }), 'beta');
    expect(await harness.push(beta)).toBe(204);
    expect(await harness.push(inWorkspace(eventRow('email', 'bounced', { seq: 9 }), 'acme'))).toBe(204);
    expect(betaTrack.requests).toEqual([]);
    expect(acmeTrack.requests).toHaveLength(1);
    expect(harness.logger.entries.find((e) => e.message === 'dry run: Customer.io call not made')).toMatchObject({ workspace: 'beta', event_id: beta.event_id });
  });
});

describe('each workspace\'s own rate budget', () => {
  it('lets one workspace\'s events through while another\'s backlog waits for its own gate', async () => {
    acmeTrack.reset();
    betaTrack.reset();
    // 2 requests/s per workspace (burst 2) and a 5 s deadline: a request waits in line at most 5/3 s.
    harness = await startHandlerHarness({ fake: acmeTrack, env: workspacesEnv({ CIO_REQUESTS_PER_SECOND: '2', CIO_DEADLINE_SECONDS: '5' }) });
    try {
      const acme = Array.from({ length: 10 }, (_, i) => inWorkspace(eventRow('email', 'bounced', { seq: 100 + i }), 'acme'));
      const beta = Array.from({ length: 2 }, (_, i) => inWorkspace(eventRow('email', 'bounced', { seq: 200 + i }), 'beta'));
      const acmeAnswers = Promise.all(acme.map((row) => harness.push(row)));
      // acme's backlog is in line first; with one gate for both, beta's two would queue behind it
      // (two seconds and more) and be nacked.
      await new Promise((r) => setTimeout(r, 200));
      expect(await Promise.all(beta.map((row) => harness.push(row)))).toEqual([204, 204]);
      const answers = await acmeAnswers;
      expect(answers.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
      expect(betaTrack.requests.map((r) => r.authorization)).toEqual([BETA_AUTH, BETA_AUTH]);
      expect(acmeTrack.requests).toHaveLength(answers.filter((s) => s === 204).length);
      for (const [i, row] of acme.entries()) {
        if (answers[i] === 429) expect(harness.handled(row.event_id)[0]).toMatchObject({ workspace: 'acme', reason: 'over the Track API rate budget' });
      }
    } finally {
      await harness.close();
    }
  });
});

describe('the handler process for several workspaces, credentials from Secret Manager', () => {
  const PROJECT = process.env.GOOGLE_CLOUD_PROJECT!;
  const secret = (id: string) => `projects/${PROJECT}/secrets/${id}-${randomUUID().slice(0, 8)}`;
  const SECRETS = { acmeSite: secret('cio-acme-track-site-id'), acmeKey: secret('cio-acme-track-api-key'), betaSite: secret('cio-beta-track-site-id'), betaKey: secret('cio-beta-track-api-key') };
  let secrets: FakeSecretManager;
  let handler: FunctionProcess;

  beforeAll(async () => {
    acmeTrack.reset();
    betaTrack.reset();
    secrets = await startFakeSecretManager();
    secrets.addVersion(SECRETS.acmeSite, 'acme-site');
    secrets.addVersion(SECRETS.acmeKey, 'acme-key');
    handler = await startFunction({
      target: 'handler',
      env: handlerProcessEnv({
        CIO_WORKSPACES: 'acme:us,beta:eu',
        CIO_SITE_ID_SECRET__ACME: SECRETS.acmeSite,
        CIO_TRACK_API_KEY_SECRET__ACME: SECRETS.acmeKey,
        CIO_TRACK_URL__ACME: acmeTrack.url,
        CIO_SITE_ID_SECRET__BETA: SECRETS.betaSite,
        CIO_TRACK_API_KEY_SECRET__BETA: SECRETS.betaKey,
        CIO_TRACK_URL__BETA: betaTrack.url,
        SECRET_REFRESH_SECONDS: '1',
        SECRET_MANAGER_ENDPOINT: secrets.url,
      }),
    });
  });
  afterAll(async () => {
    await handler?.stop();
    await secrets?.close();
  });

  const push = async (row: EventRow) =>
    (await fetch(handler.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(pushEnvelope(row)) })).status;

  it('acts for a workspace whose secrets have versions while another\'s have none, then for both', async () => {
    const beta = inWorkspace(eventRow('email', 'bounced', { seq: 300 }), 'beta');
    expect(await push(inWorkspace(eventRow('email', 'bounced', { seq: 301 }), 'acme'))).toBe(204);
    expect(await push(beta)).toBe(503);
    expect(betaTrack.requests).toEqual([]);
    secrets.addVersion(SECRETS.betaSite, 'beta-site');
    secrets.addVersion(SECRETS.betaKey, 'beta-key');
    await waitFor(async () => (await push(beta)) === 204, { timeoutMs: 15_000, what: 'beta\'s credentials to be in use' });
    expect(acmeTrack.requests.map((r) => r.authorization)).toEqual([ACME_AUTH]);
    expect(betaTrack.requests.map((r) => r.authorization)).toEqual([BETA_AUTH]);
    const read = logEntries(handler.lines, 'secret read').map((e) => `${e.workspace} ${e.variable}`).sort();
    expect(read).toEqual(['acme CIO_SITE_ID_SECRET__ACME', 'acme CIO_TRACK_API_KEY_SECRET__ACME', 'beta CIO_SITE_ID_SECRET__BETA', 'beta CIO_TRACK_API_KEY_SECRET__BETA']);
    expect(logEntries(handler.lines, 'handler configured')[0]).toMatchObject({
      workspaces: { acme: { region: 'us', track_url: acmeTrack.url, dry_run: false }, beta: { region: 'eu', track_url: betaTrack.url, dry_run: false } },
    });
    expect(handler.lines.join('\n')).not.toContain('beta-key');
  });
});
