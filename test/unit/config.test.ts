import { describe, expect, it } from 'vitest';
import { errorOf } from '../support/config-error.js';
import { ConfigError, SECRET_PLACEHOLDER, isPlaceholderCredentials, loadHandlerConfig, loadReceiverConfig } from '../../shared/config.js';

const receiverEnv = { GOOGLE_CLOUD_PROJECT: 'p', CIO_WEBHOOK_SIGNING_KEYS: 'k1' };
const KEY_HEX = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const handlerEnv = { GOOGLE_CLOUD_PROJECT: 'p', CIO_SITE_ID: 'site', CIO_TRACK_API_KEY: 'key', PSEUDONYM_KEY: KEY_HEX };

describe('loadReceiverConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadReceiverConfig(receiverEnv)).toEqual({
      project: 'p',
      logLevel: 'info',
      topic: 'cio-events',
      signingKeys: { kind: 'value', value: ['k1'] },
      secrets: { refreshSeconds: 60, endpoint: null },
      // 8 days: outlasts Customer.io's 7 days of retries, bounds replays of a captured request.
      maxAgeSeconds: 691_200,
      maxBodyBytes: 8 * 1024 * 1024,
      maxBufferedBytes: 64 * 1024 * 1024,
      bodyTimeoutMs: 5_000,
      publishTimeoutMs: 2000,
    });
  });

  it('reads every variable', () => {
    expect(loadReceiverConfig({
      ...receiverEnv,
      LOG_LEVEL: 'warning',
      PUBSUB_TOPIC: 'other',
      CIO_WEBHOOK_SIGNING_KEYS: ' new , old ,',
      CIO_SIGNATURE_MAX_AGE_SECONDS: '600',
      RECEIVER_MAX_BODY_BYTES: '1048576',
      RECEIVER_MAX_BUFFERED_BYTES: '4194304',
      RECEIVER_PUBLISH_TIMEOUT_MS: '1500',
    })).toEqual({
      project: 'p', logLevel: 'warning', topic: 'other', signingKeys: { kind: 'value', value: ['new', 'old'] }, maxAgeSeconds: 600,
      secrets: { refreshSeconds: 60, endpoint: null },
      maxBodyBytes: 1048576, maxBufferedBytes: 4194304, bodyTimeoutMs: 5_000, publishTimeoutMs: 1500,
    });
  });

  it.each([
    [{ GOOGLE_CLOUD_PROJECT: undefined }, 'GOOGLE_CLOUD_PROJECT: is required but not set'],
    [{ CIO_WEBHOOK_SIGNING_KEYS: undefined }, 'CIO_WEBHOOK_SIGNING_KEYS: is required but not set'],
    [{ CIO_WEBHOOK_SIGNING_KEYS: ' , ' }, 'CIO_WEBHOOK_SIGNING_KEYS: must list at least one signing key'],
    [{ CIO_SIGNATURE_MAX_AGE_SECONDS: '-5' }, 'CIO_SIGNATURE_MAX_AGE_SECONDS: must be a whole number'],
    [{ CIO_SIGNATURE_MAX_AGE_SECONDS: '5m' }, 'CIO_SIGNATURE_MAX_AGE_SECONDS: must be a whole number'],
    [{ RECEIVER_MAX_BODY_BYTES: '20000000' }, 'RECEIVER_MAX_BODY_BYTES: must be a whole number from 1024 to 9437184'],
    [{ RECEIVER_PUBLISH_TIMEOUT_MS: '5000' }, 'RECEIVER_PUBLISH_TIMEOUT_MS: must be a whole number from 100 to 3500'],
    [{ RECEIVER_MAX_BUFFERED_BYTES: '2097152' }, 'RECEIVER_MAX_BUFFERED_BYTES: (2097152) must hold at least one buffer for RECEIVER_MAX_BODY_BYTES (8388608 bytes for 8388608)'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL: must be one of debug, info, warning, error'],
    [{ PUBSUB_TOPIC: 'a/b' }, 'PUBSUB_TOPIC: must be a plain resource name'],
  ])('rejects %o with one line naming the variable', (overrides, message) => {
    const error = errorOf(() => loadReceiverConfig({ ...receiverEnv, ...overrides }));
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('\n');
  });

  it('reads the keys from a secret at run time when CIO_WEBHOOK_SIGNING_KEYS_SECRET names one', () => {
    const config = loadReceiverConfig({
      GOOGLE_CLOUD_PROJECT: 'p',
      CIO_WEBHOOK_SIGNING_KEYS_SECRET: 'projects/acme-prod-1/secrets/cio-webhook-signing-keys',
      SECRET_REFRESH_SECONDS: '15',
      SECRET_MANAGER_ENDPOINT: 'http://127.0.0.1:9/',
    });
    expect(config.signingKeys).toEqual({ kind: 'secret', secret: 'projects/acme-prod-1/secrets/cio-webhook-signing-keys' });
    expect(config.secrets).toEqual({ refreshSeconds: 15, endpoint: 'http://127.0.0.1:9' });
  });

  it.each([
    [{ CIO_WEBHOOK_SIGNING_KEYS_SECRET: 'projects/p/secrets/keys' }, 'CIO_WEBHOOK_SIGNING_KEYS_SECRET: set CIO_WEBHOOK_SIGNING_KEYS or CIO_WEBHOOK_SIGNING_KEYS_SECRET, not both'],
    [{ CIO_WEBHOOK_SIGNING_KEYS: undefined, CIO_WEBHOOK_SIGNING_KEYS_SECRET: 'cio-webhook-signing-keys' }, 'CIO_WEBHOOK_SIGNING_KEYS_SECRET: must be a secret resource name, projects/PROJECT/secrets/SECRET'],
    [{ CIO_WEBHOOK_SIGNING_KEYS: undefined, CIO_WEBHOOK_SIGNING_KEYS_SECRET: 'projects/p/secrets/keys/versions/1' }, 'CIO_WEBHOOK_SIGNING_KEYS_SECRET: must be a secret resource name'],
    [{ CIO_WEBHOOK_SIGNING_KEYS: undefined }, 'CIO_WEBHOOK_SIGNING_KEYS: is required but not set (or name the Secret Manager secret holding it in CIO_WEBHOOK_SIGNING_KEYS_SECRET)'],
    [{ SECRET_REFRESH_SECONDS: '0' }, 'SECRET_REFRESH_SECONDS: must be a whole number from 1 to 3600'],
    [{ SECRET_MANAGER_ENDPOINT: 'localhost:8085' }, 'SECRET_MANAGER_ENDPOINT: must be an http(s) URL'],
  ])('secret settings: rejects %o', (overrides, message) => {
    const error = errorOf(() => loadReceiverConfig({ ...receiverEnv, ...overrides }));
    expect(error.message).toContain(message);
  });

  it('never echoes a signing key in an error', () => {
    const error = errorOf(() => loadReceiverConfig({ ...receiverEnv, CIO_SIGNATURE_MAX_AGE_SECONDS: 'x' }));
    expect(error.message).not.toContain('k1');
  });
});

describe('loadHandlerConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadHandlerConfig(handlerEnv)).toEqual({
      project: 'p',
      logLevel: 'info',
      actions: ['bounce', 'spam', 'unsubscribe', 'engagement'],
      suppressOn: [],
      credentials: { siteId: { kind: 'value', value: 'site' }, trackApiKey: { kind: 'value', value: 'key' } },
      secrets: { refreshSeconds: 60, endpoint: null },
      region: 'us',
      trackUrl: null,
      dryRun: false,
      cioDeadlineSeconds: 30,
      dedupeCollection: 'cio_webhook_events',
      dedupeDatabase: '(default)',
      dedupeDeadlineSeconds: 5,
      leaseSeconds: 120,
      ttlDays: 30,
      maxAgeSeconds: 691_200,
      pseudonymKey: Buffer.from(KEY_HEX, 'hex'),
      cioRequestsPerSecond: 50,
    });
  });

  it('reads every variable', () => {
    expect(loadHandlerConfig({
      ...handlerEnv,
      CIO_REGION: 'eu',
      CIO_TRACK_URL: 'http://127.0.0.1:4010/api/v1/',
      CIO_DRY_RUN: '1',
      CIO_SUPPRESS_ON: 'spammed',
      CIO_ACTIONS: 'bounce,spam',
      CIO_DEADLINE_SECONDS: '10',
      DEDUPE_COLLECTION: 'dedupe',
      DEDUPE_DEADLINE_SECONDS: '3',
      DEDUPE_LEASE_SECONDS: '60',
      DEDUPE_TTL_DAYS: '7',
      DEDUPE_DATABASE: 'cio-dedupe',
      CIO_SIGNATURE_MAX_AGE_SECONDS: '86400',
      CIO_REQUESTS_PER_SECOND: '25',
    })).toMatchObject({
      region: 'eu', trackUrl: 'http://127.0.0.1:4010/api/v1', dryRun: true, suppressOn: ['spammed'],
      actions: ['bounce', 'spam'], cioDeadlineSeconds: 10, dedupeCollection: 'dedupe', dedupeDeadlineSeconds: 3, leaseSeconds: 60, ttlDays: 7,
      dedupeDatabase: 'cio-dedupe', maxAgeSeconds: 86_400, cioRequestsPerSecond: 25,
    });
  });

  it('reads either credential from a secret at run time, each independently', () => {
    const config = loadHandlerConfig({ ...handlerEnv, CIO_SITE_ID: undefined, CIO_SITE_ID_SECRET: 'projects/p/secrets/cio-track-site-id' });
    expect(config.credentials).toEqual({ siteId: { kind: 'secret', secret: 'projects/p/secrets/cio-track-site-id' }, trackApiKey: { kind: 'value', value: 'key' } });
    const both = loadHandlerConfig({ GOOGLE_CLOUD_PROJECT: 'p', PSEUDONYM_KEY: KEY_HEX, CIO_SITE_ID_SECRET: 'projects/p/secrets/s', CIO_TRACK_API_KEY_SECRET: 'projects/p/secrets/k' });
    expect(both.credentials).toEqual({ siteId: { kind: 'secret', secret: 'projects/p/secrets/s' }, trackApiKey: { kind: 'secret', secret: 'projects/p/secrets/k' } });
    // A secret named in dry run counts as credentials given: then both are needed, as with values.
    const half = errorOf(() => loadHandlerConfig({ ...handlerEnv, CIO_DRY_RUN: '1', CIO_SITE_ID: undefined, CIO_TRACK_API_KEY: undefined, CIO_SITE_ID_SECRET: 'projects/p/secrets/s' }));
    expect(half.message).toContain('CIO_TRACK_API_KEY: is required but not set');
  });

  it('needs no credentials in dry run', () => {
    expect(loadHandlerConfig({ GOOGLE_CLOUD_PROJECT: 'p', CIO_DRY_RUN: '1', PSEUDONYM_KEY: KEY_HEX }).credentials).toBeNull();
  });

  it('CIO_ACTIONS=none turns every rule off', () => {
    expect(loadHandlerConfig({ ...handlerEnv, CIO_ACTIONS: 'none' }).actions).toEqual([]);
  });

  it.each([
    [{ CIO_SITE_ID: undefined }, 'CIO_SITE_ID: is required but not set'],
    [{ CIO_TRACK_API_KEY: '' }, 'CIO_TRACK_API_KEY: is required but not set'],
    [{ CIO_DRY_RUN: '1', CIO_SITE_ID: 'site', CIO_TRACK_API_KEY: undefined }, 'CIO_TRACK_API_KEY: is required'],
    [{ CIO_TRACK_API_KEY_SECRET: 'projects/p/secrets/k' }, 'CIO_TRACK_API_KEY_SECRET: set CIO_TRACK_API_KEY or CIO_TRACK_API_KEY_SECRET, not both'],
    [{ CIO_SITE_ID: undefined, CIO_SITE_ID_SECRET: 'site-id' }, 'CIO_SITE_ID_SECRET: must be a secret resource name'],
    [{ CIO_REGION: 'ap' }, 'CIO_REGION: must be one of us, eu'],
    [{ CIO_TRACK_URL: 'track.customer.io' }, 'CIO_TRACK_URL: must be an http(s) URL'],
    [{ CIO_TRACK_URL: 'ftp://x/api/v1' }, 'CIO_TRACK_URL: must be an http(s) URL'],
    [{ CIO_DRY_RUN: 'maybe' }, 'CIO_DRY_RUN: must be 1 or 0'],
    [{ CIO_SUPPRESS_ON: 'bounced,complained' }, 'CIO_SUPPRESS_ON: unknown metric complained'],
    [{ CIO_ACTIONS: 'bounce,delete' }, 'CIO_ACTIONS: must be one of bounce, spam, unsubscribe, engagement'],
    [{ DEDUPE_LEASE_SECONDS: '5' }, 'DEDUPE_LEASE_SECONDS: must be a whole number from 10 to 3600'],
    [{ DEDUPE_TTL_DAYS: '0' }, 'DEDUPE_TTL_DAYS: must be a whole number'],
    [{ DEDUPE_COLLECTION: 'a/b' }, 'DEDUPE_COLLECTION: must be a plain resource name'],
    [{ CIO_DEADLINE_SECONDS: '115' }, 'CIO_DEADLINE_SECONDS: plus twice DEDUPE_DEADLINE_SECONDS (125 s) must be below DEDUPE_LEASE_SECONDS (120)'],
    [{ DEDUPE_DEADLINE_SECONDS: '0' }, 'DEDUPE_DEADLINE_SECONDS: must be a whole number from 1 to 60'],
    [{ DEDUPE_DATABASE: 'Dedupe_DB' }, 'DEDUPE_DATABASE: must be (default) or 4–63 lowercase letters, digits and hyphens'],
    [{ PSEUDONYM_KEY: undefined }, 'PSEUDONYM_KEY: is required but not set'],
    [{ PSEUDONYM_KEY: 'not-hex' }, 'PSEUDONYM_KEY: must be 32 to 128 hex digits'],
    [{ CIO_REQUESTS_PER_SECOND: '0' }, 'CIO_REQUESTS_PER_SECOND: must be a whole number from 1 to 1000'],
    [{ DEDUPE_TTL_DAYS: '7' }, 'DEDUPE_TTL_DAYS: (7 days) must outlast CIO_SIGNATURE_MAX_AGE_SECONDS (691200 s = 8.0 days)'],
  ])('rejects %o with one line naming the variable', (overrides, message) => {
    const error = errorOf(() => loadHandlerConfig({ ...handlerEnv, ...overrides }));
    expect(error.message).toContain(message);
  });
});

describe('the replay window', () => {
  it('lets the handler start with a TTL shorter than the window only when the window is off (0)', () => {
    expect(() => loadHandlerConfig({ ...handlerEnv, DEDUPE_TTL_DAYS: '3' })).toThrow(ConfigError);
    expect(loadHandlerConfig({ ...handlerEnv, DEDUPE_TTL_DAYS: '3', CIO_SIGNATURE_MAX_AGE_SECONDS: '0' })).toMatchObject({ ttlDays: 3, maxAgeSeconds: 'off' });
    expect(loadHandlerConfig({ ...handlerEnv, DEDUPE_TTL_DAYS: '8' }).ttlDays).toBe(8);
  });
});

describe('deploy placeholder secrets', () => {
  it('a receiver whose key variable holds the placeholder loads with no keys', () => {
    expect(loadReceiverConfig({ ...receiverEnv, CIO_WEBHOOK_SIGNING_KEYS: SECRET_PLACEHOLDER }).signingKeys).toEqual({ kind: 'value', value: [] });
  });

  it('credentials holding the placeholder are recognised', () => {
    expect(isPlaceholderCredentials({ siteId: SECRET_PLACEHOLDER, trackApiKey: SECRET_PLACEHOLDER })).toBe(true);
    expect(isPlaceholderCredentials({ siteId: 'site', trackApiKey: SECRET_PLACEHOLDER })).toBe(true);
    expect(isPlaceholderCredentials({ siteId: 'site', trackApiKey: 'key' })).toBe(false);
  });
});
