/**
 * The run-time secret's decisions, on a reader that answers what Secret Manager would and a clock
 * the test moves: when it reads, what it keeps, what counts as "not configured".
 */
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../shared/log.js';
import { RETRY_MS, createRefreshingSecret } from '../../functions/refreshing-secret.js';
import { SecretAccessError, crc32c, interpretAccess, type SecretAccess, type SecretReader } from '../../functions/secret-manager.js';

const SECRET = 'projects/p/secrets/keys';

/** A reader whose next answers the test scripts; each call takes the next one. */
function scriptedReader() {
  const answers: Array<SecretAccess | Error | 'hang'> = [];
  let calls = 0;
  const reader: SecretReader = {
    latest() {
      calls++;
      const next = answers.length > 1 ? answers.shift()! : answers[0];
      if (next === undefined) throw new Error('no answer scripted');
      if (next === 'hang') return new Promise(() => undefined);
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
  };
  return { reader, answer: (...next: Array<SecretAccess | Error | 'hang'>) => answers.splice(0, answers.length, ...next), calls: () => calls };
}

const value = (text: string, version: string): SecretAccess => ({ kind: 'value', data: Buffer.from(text), version });
const absent: SecretAccess = { kind: 'absent', reason: '404 NOT_FOUND Secret Version [...] not found.' };

function setup(staleWaitMs = 1_000) {
  let now = 1_000_000;
  const scripted = scriptedReader();
  const logger = createMemoryLogger();
  const secret = createRefreshingSecret({
    secret: SECRET,
    variable: 'CIO_WEBHOOK_SIGNING_KEYS_SECRET',
    reader: scripted.reader,
    parse: (text) => {
      if (text === 'invalid') throw new Error('must list at least one signing key');
      return text === 'placeholder' ? null : text;
    },
    refreshMs: 60_000,
    staleWaitMs,
    logger,
    nowMs: () => now,
  });
  return { ...scripted, secret, logger, advance: (ms: number) => (now += ms), messages: () => logger.entries.map((e) => String(e.message)) };
}

describe('a secret read at run time', () => {
  it('reads once when first asked, then not again within the refresh interval', async () => {
    const t = setup();
    t.answer(value('k1', '1'));
    const [a, b] = await Promise.all([t.secret.get(), t.secret.get()]);
    expect([a, b]).toEqual(['k1', 'k1']);
    expect(t.calls()).toBe(1);
    t.advance(59_999);
    expect(await t.secret.get()).toBe('k1');
    expect(t.calls()).toBe(1);
  });

  it('takes a new version once the interval has passed', async () => {
    const t = setup();
    t.answer(value('k1', '1'));
    await t.secret.get();
    t.answer(value('k2', '2'));
    t.advance(60_000);
    expect(await t.secret.get()).toBe('k2');
    expect(t.logger.entries.filter((e) => e.message === 'secret read').map((e) => [e.version, e.previous])).toEqual([['1', null], ['2', '1']]);
  });

  it('keeps the last value when a read fails, and tries again sooner than the interval', async () => {
    const t = setup();
    t.answer(value('k1', '1'));
    await t.secret.get();
    t.answer(new SecretAccessError('Secret Manager answered 503 UNAVAILABLE', 503));
    t.advance(60_000);
    expect(await t.secret.get()).toBe('k1');
    expect(t.messages()).toContain('secret read failed; the value read before stays in use');
    t.answer(value('k2', '2'));
    t.advance(RETRY_MS - 1);
    expect(await t.secret.get()).toBe('k1');
    t.advance(1);
    expect(await t.secret.get()).toBe('k2');
  });

  it('keeps the last value when the newest version is not valid, and says so', async () => {
    const t = setup();
    t.answer(value('k1', '1'));
    await t.secret.get();
    t.answer(value('invalid', '2'));
    t.advance(60_000);
    expect(await t.secret.get()).toBe('k1');
    expect(t.logger.entries.find((e) => e.severity === 'ERROR')).toMatchObject({ message: 'newest version of the secret is not valid: must list at least one signing key', version: '2', kept: '1' });
    // Logged again at every refresh while it stays the newest version.
    t.advance(60_000);
    expect(await t.secret.get()).toBe('k1');
    expect(t.logger.entries.filter((e) => e.severity === 'ERROR')).toHaveLength(2);
  });

  it('has no value when the secret has no usable newest version or holds the placeholder, and logs it once', async () => {
    const t = setup();
    t.answer(absent);
    expect(await t.secret.get()).toBeNull();
    t.advance(60_000);
    expect(await t.secret.get()).toBeNull();
    expect(t.messages().filter((m) => m.startsWith('secret has no usable newest version'))).toHaveLength(1);
    t.answer(value('k1', '1'));
    t.advance(60_000);
    expect(await t.secret.get()).toBe('k1');
    // An operator disabling the newest version takes the value away: deliberate, not a failure.
    t.answer(absent);
    t.advance(60_000);
    expect(await t.secret.get()).toBeNull();
    t.answer(value('placeholder', '3'));
    t.advance(60_000);
    expect(await t.secret.get()).toBeNull();
    expect(t.messages()).toContain('secret holds the deploy placeholder: not configured until a real value is added');
  });

  it('has no value until a first read succeeds', async () => {
    const t = setup();
    t.answer(new SecretAccessError('no answer within 3000 ms', null));
    expect(await t.secret.get()).toBeNull();
    expect(t.messages()).toContain('secret read failed; no value yet');
    t.answer(value('k1', '1'));
    t.advance(RETRY_MS);
    expect(await t.secret.get()).toBe('k1');
  });

  it('answers with the value in hand when a due read does not answer in the short wait', async () => {
    const t = setup(10);
    t.answer(value('k1', '1'));
    await t.secret.get();
    t.answer('hang');
    t.advance(60_000);
    expect(await t.secret.get()).toBe('k1');
    // The hung read is still the one in flight: no second read piles up behind it.
    expect(await t.secret.get()).toBe('k1');
    expect(t.calls()).toBe(2);
  });

  it('never logs the value', async () => {
    const t = setup();
    t.answer(value('very-secret-key', '1'));
    await t.secret.get();
    expect(JSON.stringify(t.logger.entries)).not.toContain('very-secret-key');
  });
});

describe('Secret Manager answers (versions.access)', () => {
  it('checks the payload against its CRC32C', () => {
    // The CRC32C (Castagnoli) check value of "123456789".
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    const data = Buffer.from('k1,k2');
    const answer = { name: 'projects/123456789012/secrets/keys/versions/4', payload: { data: data.toString('base64'), dataCrc32c: String(crc32c(data)) } };
    expect(interpretAccess(200, answer)).toEqual({ kind: 'value', data, version: '4' });
    expect(() => interpretAccess(200, { ...answer, payload: { ...answer.payload, dataCrc32c: '1' } })).toThrow(/does not match its CRC32C/);
    expect(() => interpretAccess(200, {})).toThrow(SecretAccessError);
  });

  it('reads NOT_FOUND and FAILED_PRECONDITION as no value, everything else as a failed read', () => {
    expect(interpretAccess(404, { error: { code: 404, status: 'NOT_FOUND', message: 'Secret Version [projects/p/secrets/keys/versions/latest] not found.' } })).toMatchObject({ kind: 'absent', reason: expect.stringContaining('NOT_FOUND') });
    expect(interpretAccess(400, { error: { code: 400, status: 'FAILED_PRECONDITION', message: 'Secret Version [projects/123/secrets/keys/versions/2] is in DISABLED state.' } })).toMatchObject({ kind: 'absent', reason: expect.stringContaining('DISABLED') });
    for (const [status, code] of [[403, 'PERMISSION_DENIED'], [429, 'RESOURCE_EXHAUSTED'], [500, 'INTERNAL'], [503, 'UNAVAILABLE'], [400, 'INVALID_ARGUMENT']] as const) {
      expect(() => interpretAccess(status, { error: { code: status, status: code, message: 'x' } }), code).toThrow(SecretAccessError);
    }
  });
});
