/**
 * The local pipeline with several workspaces: `CIO_WORKSPACES=acme,beta npm start` as the real
 * process (its banner, its stack.json, `npm run send -- --workspace`), a signed event to /acme
 * landing with workspace=acme in the DuckDB warehouse and named in the handler's log; then the
 * stack started programmatically with one workspace dry and the other calling a fake Track API with
 * its own credentials.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkspaces } from '../../shared/workspaces.js';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { freePort } from '../../scripts/local/emulators.js';
import { forwardedEnv } from '../../scripts/local/local-stack.js';
import { queryWarehouse } from '../../scripts/local/local-warehouse.js';
import { samplePayload } from '../../scripts/local/samples.js';
import { sendBodies } from '../../scripts/local/sender.js';
import type { StackFile } from '../../scripts/local/stack-file.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { runScript } from '../support/run-script.js';
import { runningStack, spawnStart, type StartProcess } from '../support/start-process.js';
import { logEntries, waitFor } from '../support/waiting.js';

const fileEntries = (path: string, message: string) => logEntries(readFileSync(path, 'utf8').split('\n'), message);

describe('CIO_WORKSPACES=acme,beta npm start', () => {
  let start: StartProcess;
  let record: StackFile;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    // Its own emulators: the default topology names are then its own.
    start = spawnStart({ CIO_WORKSPACES: 'acme,beta', CIO_WEBHOOK_SIGNING_KEYS__BETA: 'beta-fixed-key', PORT: String(port), PUBSUB_EMULATOR_HOST: undefined, FIRESTORE_EMULATOR_HOST: undefined });
    record = await runningStack(start);
  }, 180_000);
  afterAll(async () => {
    if (start?.child.exitCode === null) {
      start.child.kill('SIGINT');
      await start.exited;
    }
  });

  it('prints one line per workspace with its name, webhook URL and dev key, and records them in stack.json', () => {
    const workspaces = record.stack!.workspaces!;
    expect(workspaces).toEqual([
      { name: 'acme', region: 'us', receiverUrl: `http://127.0.0.1:${port}/acme`, signingKey: expect.stringMatching(/^dev-acme-[0-9a-f]{24}$/), dryRun: true },
      // A key the environment fixes (CIO_WEBHOOK_SIGNING_KEYS__BETA) instead of a random one.
      { name: 'beta', region: 'us', receiverUrl: `http://127.0.0.1:${port}/beta`, signingKey: 'beta-fixed-key', dryRun: true },
    ]);
    expect(record.stack).toMatchObject({ receiverUrl: `http://127.0.0.1:${port}/`, signingKey: '', dryRun: true });
    const banner = start.output().stdout;
    for (const w of workspaces) expect(banner).toContain(`    ${w.name} (us)    ${w.receiverUrl}  signing key ${w.signingKey}\n`);
    expect(banner).toContain('  workspaces     2 (CIO_WORKSPACES), each posting to its own URL, signed with its own key:\n');
    expect(banner).toContain('(dry run: Customer.io calls are logged, not made)');
    expect(banner).toContain('send samples:  npm run send -- --workspace acme --duplicates 5');
  });

  it('sends to a workspace with npm run send -- --workspace: the rows say acme, and so does the handler\'s log', async () => {
    const env = { CIO_LOCAL_STATE_DIR: start.stateDir };
    const sent = await runScript('send', ['--workspace', 'acme', '--object-type', 'email', '--metric', 'bounced', '--count', '3'], env);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain(`sent 3 events (3 distinct, 0 duplicates) to http://127.0.0.1:${port}/acme`);

    const { warehousePath, logFiles } = record.stack!;
    await waitFor(async () => Number((await queryWarehouse(warehousePath, 'SELECT COUNT(*) AS n FROM events'))[0]!.n) >= 3, { what: 'the rows' });
    const rows = await queryWarehouse(warehousePath, 'SELECT workspace, metric, attributes FROM events');
    expect(rows.map((r) => [r.workspace, r.metric])).toEqual([['acme', 'bounced'], ['acme', 'bounced'], ['acme', 'bounced']]);
    expect(JSON.parse(String(rows[0]!.attributes))).toMatchObject({ workspace: 'acme' });

    await waitFor(() => fileEntries(logFiles.handler, 'event handled').length >= 3, { what: 'the handler to handle them' });
    expect(fileEntries(logFiles.handler, 'event handled').map((e) => [e.workspace, e.outcome])).toEqual([['acme', 'done'], ['acme', 'done'], ['acme', 'done']]);
    expect(fileEntries(logFiles.handler, 'dry run: Customer.io call not made').map((e) => e.workspace)).toEqual(['acme', 'acme', 'acme']);
  });

  it('asks which workspace when several are served and none is named, and names the ones there are', async () => {
    const env = { CIO_LOCAL_STATE_DIR: start.stateDir };
    const unnamed = await runScript('send', ['--count', '1'], env);
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toBe('send: the running npm start stack serves several workspaces: name one with --workspace (acme, beta) (see --help)\n');
    const unknown = await runScript('send', ['--workspace', 'gamma'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('send: the running npm start stack has no workspace "gamma": one of acme, beta (see --help)\n');
  });
});

describe('the local stack with one workspace dry and another acting', () => {
  let stack: TestStack;
  let track: FakeTrackApi;

  beforeAll(async () => {
    track = await startFakeTrackApi();
    stack = await startTestStack('local-workspaces', {
      workspaces: parseWorkspaces('acme,beta:eu'),
      workspaceKeys: { acme: 'acme-dev-key' },
      handlerEnv: { CIO_SITE_ID__BETA: 'beta-site', CIO_TRACK_API_KEY__BETA: 'beta-key', CIO_TRACK_URL__BETA: track.url },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await track?.close();
  });

  it('serves each workspace at its path, keeps the same event apart in each, and acts for each as configured', async () => {
    const [acme, beta] = stack.workspaces!;
    expect([acme, beta].map((w) => [w!.name, w!.region, w!.dryRun])).toEqual([['acme', 'us', true], ['beta', 'eu', false]]);
    expect(acme!.signingKey).toBe('acme-dev-key');
    expect(stack.dryRun).toBe(false);

    const body = JSON.stringify(samplePayload('email', 'bounced', { seq: 41 }));
    const eventId = JSON.parse(body).event_id as string;
    expect((await sendBodies({ url: acme!.receiverUrl, key: acme!.signingKey, bodies: [body] })).statuses).toEqual({ 204: 1 });
    expect((await sendBodies({ url: beta!.receiverUrl, key: beta!.signingKey, bodies: [body, body] })).statuses).toEqual({ 204: 2 });
    // Another workspace's key, or no workspace in the path: refused.
    expect((await sendBodies({ url: beta!.receiverUrl, key: acme!.signingKey, bodies: [body] })).statuses).toEqual({ 401: 1 });
    expect((await sendBodies({ url: stack.receiverUrl, key: acme!.signingKey, bodies: [body] })).statuses).toEqual({ 404: 1 });

    await waitFor(async () => Number((await queryWarehouse(stack.warehousePath, 'SELECT COUNT(*) AS n FROM events'))[0]!.n) >= 3, { what: 'the rows' });
    await waitFor(() => logEntries(stack.handler.lines, 'event handled').length >= 3, { what: 'the handler' });
    const rows = await queryWarehouse(stack.warehousePath, 'SELECT workspace, COUNT(*) AS n FROM events WHERE event_id = ? GROUP BY workspace ORDER BY workspace', [eventId]);
    expect(rows.map((r) => [r.workspace, Number(r.n)])).toEqual([['acme', 1], ['beta', 2]]);
    // acme's call logged, beta's made once with beta's credentials (its redelivery a duplicate).
    expect(logEntries(stack.handler.lines, 'dry run: Customer.io call not made').map((e) => [e.workspace, e.event_id])).toEqual([['acme', eventId]]);
    expect(track.requests.map((r) => r.authorization)).toEqual([`Basic ${Buffer.from('beta-site:beta-key').toString('base64')}`]);
    expect(logEntries(stack.handler.lines, 'event handled').map((e) => `${e.workspace} ${e.outcome}`).sort()).toEqual(['acme done', 'beta done', 'beta duplicate']);
  });

  it('records the workspaces in stack.json for the other tools', () => {
    const file = JSON.parse(readFileSync(join(stack.stateDir, 'stack.json'), 'utf8')) as StackFile;
    expect(file.stack!.workspaces!.map((w) => [w.name, w.receiverUrl])).toEqual([['acme', `${stack.receiverUrl}acme`], ['beta', `${stack.receiverUrl}beta`]]);
  });
});

describe('what npm start passes on to the functions', () => {
  it('credentials given as values, with one workspace (then the handler acts instead of a dry run)', () => {
    const { handler, receiver } = forwardedEnv({ CIO_SITE_ID: 'site', CIO_TRACK_API_KEY: 'key', CIO_WEBHOOK_SIGNING_KEYS: 'fixed' });
    expect(handler).toEqual({ CIO_SITE_ID: 'site', CIO_TRACK_API_KEY: 'key' });
    // The stack sets the key itself (npm start passes it as an option).
    expect(receiver).toEqual({});
  });

  it('each workspace\'s variables with several; the workspaces and their dev keys the stack sets itself', () => {
    const { handler, receiver } = forwardedEnv({
      CIO_WORKSPACES: 'acme,beta:eu',
      CIO_WEBHOOK_SIGNING_KEYS__ACME: 'fixed-acme',
      CIO_SITE_ID__BETA: 'site', CIO_TRACK_API_KEY_SECRET__BETA: 'projects/p/secrets/k', CIO_TRACK_URL__BETA: 'http://127.0.0.1:4010/api/v1', CIO_DRY_RUN__ACME: '1',
      CIO_SITE_ID__GAMMA: 'not a workspace here',
    });
    expect(handler).toEqual({ CIO_SITE_ID__BETA: 'site', CIO_TRACK_API_KEY_SECRET__BETA: 'projects/p/secrets/k', CIO_TRACK_URL__BETA: 'http://127.0.0.1:4010/api/v1', CIO_DRY_RUN__ACME: '1' });
    expect(receiver).toEqual({});
    // The one-workspace key reaches the receiver, which refuses it with several, naming what to set instead.
    expect(forwardedEnv({ CIO_WORKSPACES: 'acme', CIO_WEBHOOK_SIGNING_KEYS: 'k' }).receiver).toEqual({ CIO_WEBHOOK_SIGNING_KEYS: 'k' });
  });
});
