/**
 * The functions as deployed read their secrets at run time: the real Functions Framework processes
 * with CIO_WEBHOOK_SIGNING_KEYS_SECRET / CIO_SITE_ID_SECRET / CIO_TRACK_API_KEY_SECRET, against a
 * Secret Manager stand-in on loopback (SECRET_MANAGER_ENDPOINT), the Pub/Sub and Firestore emulators
 * and the fake Track API. Versions are added, disabled and destroyed the way an operator does it
 * with gcloud; no process is restarted.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { startFunction, type FunctionProcess } from '../../scripts/local/function-process.js';
import { startFakeSecretManager, type FakeSecretManager } from '../support/fake-secret-manager.js';
import { eventRow, handlerProcessEnv, pushEnvelope } from '../support/handler-harness.js';
import { startReceiverProcess, type ReceiverUnderTest } from '../support/receiver-process.js';
import { signedHeaders } from '../support/signing.js';
import { logEntries, sleep, waitFor } from '../support/waiting.js';

const PROJECT = process.env.GOOGLE_CLOUD_PROJECT!;
const secretName = (id: string) => `projects/${PROJECT}/secrets/${id}-${randomUUID().slice(0, 8)}`;
/** The refresh interval the processes run with, and a wait comfortably past it. */
const REFRESH_SECONDS = 1;
const PAST_REFRESH_MS = 2_500;

let secrets: FakeSecretManager;
beforeAll(async () => {
  secrets = await startFakeSecretManager();
});
afterAll(async () => {
  await secrets?.close();
});

describe('receiver: signing keys from Secret Manager', () => {
  const KEYS = secretName('cio-webhook-signing-keys');
  let underTest: ReceiverUnderTest;
  let receiver: FunctionProcess;

  beforeAll(async () => {
    underTest = await startReceiverProcess('runtime-secrets', {
      CIO_WEBHOOK_SIGNING_KEYS_SECRET: KEYS,
      SECRET_REFRESH_SECONDS: String(REFRESH_SECONDS),
      SECRET_MANAGER_ENDPOINT: secrets.url,
    });
    receiver = underTest.receiver;
  });
  afterAll(async () => {
    await underTest?.stop();
  });

  let seq = 0;
  const post = async (key: string) => {
    const body = JSON.stringify({ event_id: `secret-test-${++seq}`, object_type: 'email', metric: 'delivered', timestamp: Math.floor(Date.now() / 1000), data: {} });
    return (await fetch(receiver.url, { method: 'POST', headers: signedHeaders(key, body), body })).status;
  };
  const eventually = (key: string, status: number, what: string) => waitFor(async () => (await post(key)) === status, { timeoutMs: 15_000, what });

  it('answers 503 while the secret has no version: Customer.io retries, nothing is lost', async () => {
    expect(await post('k1')).toBe(503);
    expect(logEntries(receiver.lines, 'secret has no usable newest version (none, disabled or destroyed): not configured until one is added')).toHaveLength(1);
  });

  it('takes a version added after the start within the refresh interval, without a restart', async () => {
    secrets.addVersion(KEYS, 'k1\n');
    await eventually('k1', 204, 'the first key to be in use');
    expect(receiver.child.exitCode).toBeNull();
    expect(logEntries(receiver.lines, 'secret read').map((e) => e.version)).toEqual(['1']);
  });

  it('rotates with an overlap: new,old accepts both, then new alone refuses the old one', async () => {
    secrets.addVersion(KEYS, 'k2,k1');
    await eventually('k2', 204, 'the new key to be accepted');
    expect(await post('k1')).toBe(204);
    secrets.addVersion(KEYS, 'k2');
    await eventually('k1', 401, 'the old key to be refused');
    expect(await post('k2')).toBe(204);
  });

  it('keeps serving the last keys read while Secret Manager fails, and says so', async () => {
    secrets.outage(503);
    const calls = secrets.calls.length;
    await sleep(PAST_REFRESH_MS);
    expect(await post('k2')).toBe(204);
    expect(secrets.calls.length).toBeGreaterThan(calls);
    expect(logEntries(receiver.lines, 'secret read failed; the value read before stays in use').length).toBeGreaterThan(0);
    // A read that never answers does not stop the last keys from serving either.
    secrets.outage('hang');
    await sleep(PAST_REFRESH_MS);
    expect(await post('k2')).toBe(204);
    secrets.outage(null);
  });

  it('treats a disabled newest version as no value (503), and a version added after it as the value again', async () => {
    secrets.setState(KEYS, 3, 'DISABLED');
    await eventually('k2', 503, 'the disabled version to take effect');
    secrets.addVersion(KEYS, 'k3');
    await eventually('k3', 204, 'the new version to be in use');
    // Never a value in the logs.
    for (const key of ['k1', 'k2', 'k3']) expect(receiver.lines.join('\n')).not.toMatch(new RegExp(`"${key}"|${key},`));
  });
});

describe('handler: Track API credentials from Secret Manager', () => {
  const SITE = secretName('cio-track-site-id');
  const API_KEY = secretName('cio-track-api-key');
  let track: FakeTrackApi;
  let handler: FunctionProcess;

  beforeAll(async () => {
    track = await startFakeTrackApi();
    handler = await startFunction({
      target: 'handler',
      env: handlerProcessEnv({
        CIO_TRACK_URL: track.url,
        CIO_SITE_ID_SECRET: SITE,
        CIO_TRACK_API_KEY_SECRET: API_KEY,
        SECRET_REFRESH_SECONDS: String(REFRESH_SECONDS),
        SECRET_MANAGER_ENDPOINT: secrets.url,
      }),
    });
  });
  afterAll(async () => {
    await handler?.stop();
    await track?.close();
  });

  let seq = 100;
  /** Pushes one bounce (an event that calls Customer.io); the handler's status. */
  const pushBounce = async (eventSeq = ++seq) => {
    const envelope = pushEnvelope(eventRow('email', 'bounced', { seq: eventSeq, data: { identifiers: { id: `person-${eventSeq}` } } }));
    return (await fetch(handler.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) })).status;
  };
  const basic = (site: string, key: string) => `Basic ${Buffer.from(`${site}:${key}`).toString('base64')}`;

  it('nacks actionable events while the secrets have no version, and calls nothing', async () => {
    expect(await pushBounce(1)).toBe(503);
    expect(track.requests).toHaveLength(0);
  });

  it('acts with credentials added after the start, within the refresh interval', async () => {
    secrets.addVersion(SITE, 'site-1');
    secrets.addVersion(API_KEY, 'track-key-one');
    // The event nacked above comes back (Pub/Sub redelivers it) and now goes through.
    await waitFor(async () => (await pushBounce(1)) === 204, { timeoutMs: 15_000, what: 'the credentials to be in use' });
    expect(track.requests.map((r) => r.authorization)).toEqual([basic('site-1', 'track-key-one')]);
  });

  it('uses a rotated API key within the refresh interval, without a restart', async () => {
    secrets.addVersion(API_KEY, 'track-key-two');
    await waitFor(async () => (await pushBounce()) === 204 && track.requests.at(-1)?.authorization === basic('site-1', 'track-key-two'), { timeoutMs: 15_000, what: 'the new key' });
    expect(handler.child.exitCode).toBeNull();
  });

  it('keeps acting with the last credentials read while Secret Manager fails', async () => {
    secrets.outage(500);
    await sleep(PAST_REFRESH_MS);
    expect(await pushBounce()).toBe(204);
    expect(track.requests.at(-1)?.authorization).toBe(basic('site-1', 'track-key-two'));
    expect(logEntries(handler.lines, 'secret read failed; the value read before stays in use').length).toBeGreaterThan(0);
    secrets.outage(null);
  });

  it('nacks again once the newest key version is destroyed, and calls nothing with the old one', async () => {
    secrets.setState(API_KEY, 2, 'DESTROYED');
    await waitFor(async () => (await pushBounce()) === 503, { timeoutMs: 15_000, what: 'the destroyed version to take effect' });
    const calls = track.requests.length;
    expect(await pushBounce()).toBe(503);
    expect(track.requests).toHaveLength(calls);
    expect(handler.lines.join('\n')).not.toContain('track-key-two');
  });
});
