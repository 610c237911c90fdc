/**
 * The real Functions Framework process with our entry point: what a deployment or a local run does
 * at start-up and with requests the framework answers before our code runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToExit, startFunction, type FunctionProcess } from '../../scripts/lib/function-process.js';

const baseEnv = {
  GOOGLE_CLOUD_PROJECT: process.env.GOOGLE_CLOUD_PROJECT,
  PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST,
  CIO_WEBHOOK_SIGNING_KEYS: 'entry-key',
};

describe('malformed JSON answered by the framework', () => {
  let receiver: FunctionProcess;
  beforeAll(async () => {
    // NODE_ENV=development is the case where Express would print stack traces into the answer.
    receiver = await startFunction({ target: 'receiver', env: { ...baseEnv, NODE_ENV: 'development' } });
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  it('answers 400 without a stack trace, even with NODE_ENV=development', async () => {
    const response = await fetch(receiver.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"event_id": "x", "secret_marker":' });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text).not.toMatch(/SyntaxError|at JSON\.parse|node_modules|body-parser/);
  });

  it('logs it as one structured line without the body', async () => {
    await fetch(receiver.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"secret_marker":' });
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.lines.join('\n')).not.toContain('secret_marker');
    const entry = receiver.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.type === 'entity.parse.failed');
    expect(entry).toMatchObject({ severity: 'WARNING', status: 400 });
    // Every line the process printed is a JSON log entry.
    for (const line of receiver.lines) expect(() => JSON.parse(line), line).not.toThrow();
  });
});

describe('start-up configuration errors', () => {
  it.each([
    ['receiver', { CIO_WEBHOOK_SIGNING_KEYS: '' }, 'CIO_WEBHOOK_SIGNING_KEYS: is required but not set'],
    ['receiver', { CIO_SIGNATURE_MAX_AGE_SECONDS: 'soon' }, 'CIO_SIGNATURE_MAX_AGE_SECONDS: must be a whole number'],
    ['handler', { CIO_DRY_RUN: '0' }, 'CIO_SITE_ID: is required but not set'],
    ['handler', { CIO_DRY_RUN: '1', CIO_REGION: 'mars' }, 'CIO_REGION: must be one of us, eu'],
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
      const response = await fetch(receiver.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(response.status).toBe(503);
      expect(receiver.lines.some((l) => l.includes('holds the deploy placeholder'))).toBe(true);
    } finally {
      await receiver.stop();
    }
  });
});
