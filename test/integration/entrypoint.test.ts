/**
 * The real Functions Framework process with our entry point: what a deployment or a local run does
 * at start-up and with requests the framework answers before our code runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToExit, startFunction, type FunctionProcess } from '../../scripts/local/function-process.js';
import { TEST_PSEUDONYM_KEY } from '../support/handler-harness.js';
import { signedHeaders } from '../support/signing.js';

const baseEnv = {
  GOOGLE_CLOUD_PROJECT: process.env.GOOGLE_CLOUD_PROJECT,
  PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST,
  CIO_WEBHOOK_SIGNING_KEYS: 'entry-key',
};

describe('malformed JSON', () => {
  let receiver: FunctionProcess;
  let handler: FunctionProcess;
  beforeAll(async () => {
    // NODE_ENV=development is the case where Express would print stack traces into the answer.
    [receiver, handler] = await Promise.all([
      startFunction({ target: 'receiver', env: { ...baseEnv, NODE_ENV: 'development' } }),
      startFunction({
        target: 'handler',
        env: { GOOGLE_CLOUD_PROJECT: baseEnv.GOOGLE_CLOUD_PROJECT, FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST, CIO_DRY_RUN: '1', PSEUDONYM_KEY: TEST_PSEUDONYM_KEY, NODE_ENV: 'development' },
      }),
    ]);
  });
  afterAll(async () => {
    await receiver?.stop();
    await handler?.stop();
  });

  it('the receiver answers a signed one 400 itself, and an unsigned one 401 before reading it', async () => {
    const body = '{"event_id": "x", "secret_marker":';
    const signed = await fetch(receiver.url, { method: 'POST', headers: signedHeaders('entry-key', body), body });
    expect(signed.status).toBe(400);
    expect(await signed.json()).toEqual({ error: 'body is not valid JSON' });
    const unsigned = await fetch(receiver.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.text()).not.toMatch(/SyntaxError|at JSON\.parse|node_modules|body-parser/);
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.lines.join('\n')).not.toContain('secret_marker');
  });

  it('the handler (whose bodies the framework parses) answers 400 without a stack trace, even with NODE_ENV=development', async () => {
    const response = await fetch(handler.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"message": "x", "secret_marker":' });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text).not.toMatch(/SyntaxError|at JSON\.parse|node_modules|body-parser/);
  });

  it('the framework\'s rejection is logged as one structured line without the body', async () => {
    await fetch(handler.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"secret_marker":' });
    await new Promise((r) => setTimeout(r, 200));
    expect(handler.lines.join('\n')).not.toContain('secret_marker');
    const entry = handler.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.type === 'entity.parse.failed');
    expect(entry).toMatchObject({ severity: 'WARNING', status: 400 });
    // Every line either process printed is a JSON log entry.
    for (const line of [...handler.lines, ...receiver.lines]) expect(() => JSON.parse(line), line).not.toThrow();
  });
});

describe('the guard target', () => {
  it('starts from the same entry point, loading BigQuery\'s client only for itself, and runs on POST only', async () => {
    const guard = await startFunction({ target: 'guard', env: { GOOGLE_CLOUD_PROJECT: baseEnv.GOOGLE_CLOUD_PROJECT, DELIVERABILITY_DATASET: 'cio_analytics' } });
    try {
      const response = await fetch(guard.url);
      expect(response.status).toBe(405);
      expect(guard.lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(expect.objectContaining({ message: 'guard configured', component: 'guard', dataset: 'cio_analytics', max_bytes_billed: 1024 ** 3 }));
    } finally {
      await guard.stop();
    }
  });
});

describe('start-up configuration errors', () => {
  it.each([
    ['receiver', { CIO_WEBHOOK_SIGNING_KEYS: '' }, 'CIO_WEBHOOK_SIGNING_KEYS: is required but not set'],
    ['receiver', { CIO_SIGNATURE_MAX_AGE_SECONDS: 'soon' }, 'CIO_SIGNATURE_MAX_AGE_SECONDS: must be a whole number'],
    ['handler', { CIO_DRY_RUN: '0' }, 'CIO_SITE_ID: is required but not set'],
    ['handler', { CIO_DRY_RUN: '1', CIO_REGION: 'mars' }, 'CIO_REGION: must be one of us, eu'],
    ['guard', { DELIVERABILITY_DATASET: 'cio_analytics', DELIVERABILITY_COMPLAINT_WARNING: '0.1' }, 'DELIVERABILITY_COMPLAINT_WARNING: must be a percentage with its % sign'],
    ['guard', { DELIVERABILITY_DATASET: '' }, 'DELIVERABILITY_DATASET: must be a BigQuery dataset id'],
  ] as const)('%s with %o stops with one line naming the variable', async (target, env, message) => {
    const { code, stderr } = await runToExit({ target, env: { ...baseEnv, ...env } });
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as { severity: string; message: string };
    expect(entry.severity).toBe('ERROR');
    expect(entry.message.startsWith(`configuration error: ${message}`)).toBe(true);
  });
});

describe('first deploy, before the secrets have real values', () => {
  it('the receiver starts and answers 503 (Customer.io retries) instead of failing the deploy', async () => {
    const receiver = await startFunction({ target: 'receiver', env: { ...baseEnv, CIO_WEBHOOK_SIGNING_KEYS: 'placeholder:add-a-secret-version' } });
    try {
      // Well-formed signature headers pass the request guard; no key can verify them yet.
      const response = await fetch(receiver.url, { method: 'POST', headers: signedHeaders('any-key', '{}'), body: '{}' });
      expect(response.status).toBe(503);
      expect(receiver.lines.some((l) => l.includes('holds the deploy placeholder'))).toBe(true);
    } finally {
      await receiver.stop();
    }
  });
});
