/**
 * With Customer.io failing, events end in the dead-letter subscription; once it recovers,
 * `ops dlq redrive` processes each exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeTrackApi, type FakeTrackApi } from '../../scripts/local/fake-track-api.js';
import { LOCAL_MAX_DELIVERY_ATTEMPTS } from '../../scripts/local/local-stack.js';
import { samplePayload } from '../../scripts/local/samples.js';
import { sendBodies } from '../../scripts/local/sender.js';
import { startTestStack, type TestStack } from '../support/local-stack.js';
import { runScript } from '../support/run-script.js';

let stack: TestStack;
let fake: FakeTrackApi;

beforeAll(async () => {
  fake = await startFakeTrackApi();
  fake.otherwise({ status: 500 });
  stack = await startTestStack('dead-letter', { handlerEnv: { CIO_SITE_ID: 'site', CIO_TRACK_API_KEY: 'key', CIO_TRACK_URL: fake.url, CIO_DEADLINE_SECONDS: '2' } });
});

afterAll(async () => {
  await stack?.stop();
  await fake?.close();
});

it('dead-letters events Customer.io keeps failing, and redrives them exactly once after recovery', async () => {
  const events = [1, 2, 3].map((seq) => samplePayload('email', 'bounced', { seq }));
  const sent = await sendBodies({ url: stack.receiverUrl, key: stack.signingKey, bodies: events.map((e) => JSON.stringify(e)) });
  expect(sent.statuses).toEqual({ 204: 3 });

  // The emulator retries a nack about once a second; after the maximum attempts it dead-letters.
  let shown = '';
  const deadline = Date.now() + 60_000;
  while (!shown.includes('3 dead-lettered message(s)') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    shown = (await runScript('ops', ['dlq', 'show', '--local'], stack.cliEnv)).stdout;
  }
  expect(shown).toContain('3 dead-lettered message(s)');
  expect(shown).toMatch(/3 {2}email\/bounced/);
  expect(fake.requests.every((r) => r.answered === 500)).toBe(true);
  expect(fake.requests.length).toBeGreaterThanOrEqual(3 * LOCAL_MAX_DELIVERY_ATTEMPTS);

  const dryRun = await runScript('ops', ['dlq', 'redrive', '--local', '--dry-run'], stack.cliEnv);
  expect(dryRun.stdout).toContain('dry run: would redrive 3 message(s)');

  fake.otherwise({ status: 200 });
  const failedCalls = fake.requests.length;
  const redrive = await runScript('ops', ['dlq', 'redrive', '--local', '--yes'], stack.cliEnv);
  expect(redrive.stdout).toContain('redrove 3 message(s)');

  const waitUntil = Date.now() + 30_000;
  while (fake.requests.filter((r) => r.answered === 200).length < 3 && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500));
  const succeeded = fake.requests.slice(failedCalls).filter((r) => r.answered === 200);
  expect(succeeded.map((r) => r.path).sort()).toEqual(events.map((e) => `/customers/cio_${(e.data.identifiers as { cio_id: string }).cio_id}`).sort());
  expect(fake.requests.slice(failedCalls)).toHaveLength(3);
  expect((await runScript('ops', ['dlq', 'show', '--local'], stack.cliEnv)).stdout).toContain('0 dead-lettered message(s)');
});
