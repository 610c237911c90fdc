/**
 * Several workspaces in one receiver (CIO_WORKSPACES): POST /<workspace> is verified with that
 * workspace's keys only, the row and the message carry the workspace, and any other path is 404.
 * First the function as the framework serves it (no request guard), then the real process with the
 * guard in front and each workspace's keys in its own Secret Manager secret.
 */
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_PLACEHOLDER, loadReceiverConfig } from '../../shared/config.js';
import { createMemoryLogger } from '../../shared/log.js';
import { createTopicPublisher } from '../../functions/pubsub-publisher.js';
import { createReceiver } from '../../functions/receiver.js';
import type { FunctionProcess } from '../../scripts/local/function-process.js';
import { samplePayload } from '../../scripts/local/samples.js';
import { startFakeSecretManager, type FakeSecretManager } from '../support/fake-secret-manager.js';
import { serveFunction, type FunctionServer } from '../support/function-server.js';
import { createTopicProbe, type TopicProbe } from '../support/pubsub.js';
import { startReceiverProcess, type ReceiverUnderTest } from '../support/receiver-process.js';
import { signedHeaders } from '../support/signing.js';
import { logEntries, waitFor } from '../support/waiting.js';

const PROJECT = process.env.GOOGLE_CLOUD_PROJECT!;
const ACME_KEY = 'acme-key-new';
const ACME_OLD_KEY = 'acme-key-old';
const BETA_KEY = 'beta-key';
const UNKNOWN_PATH = '{"error":"unknown workspace path; post to /<workspace>"}';

let pubsub: PubSub;
beforeAll(() => {
  pubsub = new PubSub({ projectId: PROJECT });
});
afterAll(async () => {
  await pubsub.close();
});

function body(seq: number) {
  return JSON.stringify(samplePayload('email', 'bounced', { seq }));
}

describe('a receiver for several workspaces', () => {
  let probe: TopicProbe;
  let server: FunctionServer;
  let logger: ReturnType<typeof createMemoryLogger>;
  const base = () => server.url.replace(/\/$/, '');

  beforeAll(async () => {
    probe = await createTopicProbe(pubsub);
    const config = loadReceiverConfig({
      GOOGLE_CLOUD_PROJECT: PROJECT,
      PUBSUB_TOPIC: probe.topicName,
      CIO_WORKSPACES: 'acme,beta:eu,gamma',
      CIO_WEBHOOK_SIGNING_KEYS__ACME: `${ACME_KEY},${ACME_OLD_KEY}`,
      CIO_WEBHOOK_SIGNING_KEYS__BETA: BETA_KEY,
      // Deployed before its key was added: its webhooks wait (503), the others flow.
      CIO_WEBHOOK_SIGNING_KEYS__GAMMA: SECRET_PLACEHOLDER,
    });
    logger = createMemoryLogger();
    const publisher = createTopicPublisher({ pubsub, topic: config.topic, timeoutMs: config.publishTimeoutMs });
    server = await serveFunction(createReceiver({ config, publisher, logger }));
  });
  afterAll(async () => {
    await server?.close();
    await probe?.close();
  });

  it('accepts a webhook to its workspace signed with that workspace\'s key, and the row and message say which', async () => {
    const acme = body(1);
    const beta = body(2);
    expect((await fetch(`${base()}/acme`, { method: 'POST', headers: signedHeaders(ACME_KEY, acme), body: acme })).status).toBe(204);
    // A trailing slash names the same workspace; rotation works per workspace as with one.
    expect((await fetch(`${base()}/beta/`, { method: 'POST', headers: signedHeaders(BETA_KEY, beta), body: beta })).status).toBe(204);
    const old = body(3);
    expect((await fetch(`${base()}/acme`, { method: 'POST', headers: signedHeaders(ACME_OLD_KEY, old), body: old })).status).toBe(204);
    const messages = await probe.waitFor(3);
    expect(messages).toHaveLength(3);
    const byPayload = new Map(messages.map((m) => [JSON.parse(m.data).payload as string, m]));
    for (const [payload, workspace] of [[acme, 'acme'], [beta, 'beta'], [old, 'acme']] as const) {
      const message = byPayload.get(payload)!;
      expect(JSON.parse(message.data).workspace, payload).toBe(workspace);
      expect(message.attributes.workspace).toBe(workspace);
    }
    probe.messages.length = 0;
  });

  it('refuses a webhook signed with another workspace\'s key (401), saying for which workspace', async () => {
    const text = body(4);
    const answer = await fetch(`${base()}/acme`, { method: 'POST', headers: signedHeaders(BETA_KEY, text), body: text });
    expect(answer.status).toBe(401);
    expect(await answer.text()).toBe('{"error":"invalid signature"}');
    expect((await fetch(`${base()}/beta`, { method: 'POST', headers: signedHeaders(ACME_KEY, text), body: text })).status).toBe(401);
    const rejected = logger.entries.filter((e) => e.message === 'webhook signature rejected');
    expect(rejected.map((e) => [e.workspace, e.reason])).toEqual([['acme', 'no_matching_key'], ['beta', 'no_matching_key']]);
    expect(await probe.waitFor(0, { settleMs: 500 })).toEqual([]);
  });

  it('answers 404 to a path that names no workspace, whatever the signature', async () => {
    const text = body(5);
    for (const path of ['/', '/delta', '/acme/extra', '/ACME', '/acmebeta']) {
      const answer = await fetch(`${base()}${path}`, { method: 'POST', headers: signedHeaders(ACME_KEY, text), body: text });
      expect(answer.status, path).toBe(404);
      expect(await answer.text()).toBe(UNKNOWN_PATH);
    }
    expect(await probe.waitFor(0, { settleMs: 500 })).toEqual([]);
  });

  it('answers 503 for a workspace whose keys are not configured, while the others are served', async () => {
    const text = body(6);
    expect((await fetch(`${base()}/gamma`, { method: 'POST', headers: signedHeaders(ACME_KEY, text), body: text })).status).toBe(503);
    expect(logger.entries).toContainEqual(expect.objectContaining({ severity: 'ERROR', workspace: 'gamma', message: expect.stringContaining('no signing key configured') }));
    expect((await fetch(`${base()}/acme`, { method: 'POST', headers: signedHeaders(ACME_KEY, text), body: text })).status).toBe(204);
    expect((await probe.waitFor(1)).map((m) => m.attributes.workspace)).toEqual(['acme']);
  });
});

describe('the receiver process for several workspaces, keys from Secret Manager', () => {
  const secretName = (workspace: string) => `projects/${PROJECT}/secrets/cio-${workspace}-webhook-signing-keys-${randomUUID().slice(0, 8)}`;
  const ACME = secretName('acme');
  const BETA = secretName('beta');
  let secrets: FakeSecretManager;
  let underTest: ReceiverUnderTest;
  let probe: TopicProbe;
  let receiver: FunctionProcess;

  beforeAll(async () => {
    secrets = await startFakeSecretManager();
    secrets.addVersion(ACME, ACME_KEY);
    underTest = await startReceiverProcess('receiver-workspaces', {
      CIO_WORKSPACES: 'acme:us,beta:eu',
      CIO_WEBHOOK_SIGNING_KEYS_SECRET__ACME: ACME,
      CIO_WEBHOOK_SIGNING_KEYS_SECRET__BETA: BETA,
      SECRET_REFRESH_SECONDS: '1',
      SECRET_MANAGER_ENDPOINT: secrets.url,
    });
    ({ probe, receiver } = underTest);
  });
  afterAll(async () => {
    await underTest?.stop();
    await secrets?.close();
  });

  const post = async (path: string, key: string, seq: number) => {
    const text = body(seq);
    return (await fetch(`${receiver.url.replace(/\/$/, '')}${path}`, { method: 'POST', headers: signedHeaders(key, text), body: text })).status;
  };

  it('serves a workspace whose secret has a version while another\'s has none (503), then both', async () => {
    expect(await post('/acme', ACME_KEY, 10)).toBe(204);
    expect(await post('/beta', BETA_KEY, 11)).toBe(503);
    secrets.addVersion(BETA, BETA_KEY);
    await waitFor(async () => (await post('/beta', BETA_KEY, 12)) === 204, { timeoutMs: 15_000, what: 'beta\'s key to be in use' });
    // Each secret is read on its own, its log entries naming its workspace.
    const read = logEntries(receiver.lines, 'secret read');
    expect(read.map((e) => [e.workspace, e.variable])).toEqual([['acme', 'CIO_WEBHOOK_SIGNING_KEYS_SECRET__ACME'], ['beta', 'CIO_WEBHOOK_SIGNING_KEYS_SECRET__BETA']]);
    expect(await post('/beta', ACME_KEY, 13)).toBe(401);
    const messages = await probe.waitFor(2);
    expect(messages.map((m) => JSON.parse(m.data).workspace).sort()).toEqual(['acme', 'beta']);
  });

  it('answers an unknown path 404 from the guard, before reading the body', async () => {
    // Headers declaring a 1 MiB body that never comes: only an answer from the headers arrives.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(receiver.port, '127.0.0.1');
      let text = '';
      socket.on('data', (d) => {
        text += d.toString('latin1');
        if (text.includes(UNKNOWN_PATH)) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
      socket.setTimeout(5_000, () => (socket.destroy(), reject(new Error(`no answer; got ${JSON.stringify(text)}`))));
      socket.write(`POST /gamma HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${1024 * 1024}\r\n\r\n`);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 404/);
    // The answer can reach us before the process's line reaches its stdout pipe.
    const rejected404 = () => logEntries(receiver.lines, 'request rejected before its body was read').find((e) => e.status === 404);
    await waitFor(() => rejected404() !== undefined, { what: 'the 404 refusal logged' });
    const refused = rejected404();
    expect(refused).toMatchObject({ severity: 'WARNING', reason: 'unknown workspace path', url: '/gamma' });
    expect(refused).not.toHaveProperty('workspace');
    // A known path with no signature is refused at the headers too, naming its workspace.
    const unsigned = await fetch(`${receiver.url}acme`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unsigned.status).toBe(401);
    await waitFor(() => logEntries(receiver.lines, 'webhook signature rejected').some((e) => e.reason === 'missing_timestamp'), { what: 'the unsigned request logged' });
    expect(logEntries(receiver.lines, 'webhook signature rejected').at(-1)).toMatchObject({ workspace: 'acme', stage: 'headers', reason: 'missing_timestamp' });
  });
});
