/**
 * The functions' configuration with several workspaces (CIO_WORKSPACES): each workspace's own
 * variables (base name, `__`, the workspace), the unsuffixed ones refused, and the variable lists
 * the stack builds the deployed environment from. The single-workspace mode is test/unit/config.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { errorOf } from '../support/config-error.js';
import {
  HANDLER_VARIABLES, RECEIVER_VARIABLES, handlerVariables, loadHandlerConfig, loadReceiverConfig, receiverVariables, workspaceVariables,
} from '../../shared/config.js';
import { TRACK_API_URLS, parseWorkspaces } from '../../shared/workspaces.js';

const KEY_HEX = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const receiverEnv = { GOOGLE_CLOUD_PROJECT: 'p', CIO_WORKSPACES: 'acme,beta-eu:eu', CIO_WEBHOOK_SIGNING_KEYS__ACME: 'a1,a0', CIO_WEBHOOK_SIGNING_KEYS_SECRET__BETA_EU: 'projects/p/secrets/cio-beta-eu-webhook-signing-keys' };
const handlerEnv = {
  GOOGLE_CLOUD_PROJECT: 'p', PSEUDONYM_KEY: KEY_HEX, CIO_WORKSPACES: 'acme:us,beta-eu:eu',
  CIO_SITE_ID__ACME: 'acme-site', CIO_TRACK_API_KEY__ACME: 'acme-key',
  CIO_SITE_ID_SECRET__BETA_EU: 'projects/p/secrets/cio-beta-eu-track-site-id', CIO_TRACK_API_KEY_SECRET__BETA_EU: 'projects/p/secrets/cio-beta-eu-track-api-key',
};

describe('the receiver with several workspaces', () => {
  it('reads each workspace\'s keys, given or as a secret, and no keys for every path', () => {
    const config = loadReceiverConfig(receiverEnv);
    expect(config.workspaces).toEqual([
      { name: 'acme', region: 'us', signingKeys: { kind: 'value', value: ['a1', 'a0'] } },
      { name: 'beta-eu', region: 'eu', signingKeys: { kind: 'secret', secret: 'projects/p/secrets/cio-beta-eu-webhook-signing-keys' } },
    ]);
    expect(config.signingKeys).toBeUndefined();
    expect(config).toMatchObject({ project: 'p', topic: 'cio-events', maxAgeSeconds: 691_200 });
  });

  it.each([
    [{ CIO_WEBHOOK_SIGNING_KEYS: 'k' }, 'CIO_WEBHOOK_SIGNING_KEYS: is not used with several workspaces (CIO_WORKSPACES): set CIO_WEBHOOK_SIGNING_KEYS__ACME, CIO_WEBHOOK_SIGNING_KEYS__BETA_EU instead'],
    [{ CIO_WEBHOOK_SIGNING_KEYS_SECRET: 'projects/p/secrets/s' }, 'CIO_WEBHOOK_SIGNING_KEYS_SECRET: is not used with several workspaces (CIO_WORKSPACES): set CIO_WEBHOOK_SIGNING_KEYS_SECRET__ACME, CIO_WEBHOOK_SIGNING_KEYS_SECRET__BETA_EU instead'],
    [{ CIO_WEBHOOK_SIGNING_KEYS__ACME: undefined }, 'CIO_WEBHOOK_SIGNING_KEYS__ACME: is required but not set (or name the Secret Manager secret holding it in CIO_WEBHOOK_SIGNING_KEYS_SECRET__ACME)'],
    [{ CIO_WEBHOOK_SIGNING_KEYS__BETA_EU: 'k' }, 'CIO_WEBHOOK_SIGNING_KEYS_SECRET__BETA_EU: set CIO_WEBHOOK_SIGNING_KEYS__BETA_EU or CIO_WEBHOOK_SIGNING_KEYS_SECRET__BETA_EU, not both'],
    [{ CIO_WEBHOOK_SIGNING_KEYS__ACME: ' , ' }, 'CIO_WEBHOOK_SIGNING_KEYS__ACME: must list at least one signing key'],
    [{ CIO_WEBHOOK_SIGNING_KEYS_SECRET__BETA_EU: 'beta' }, 'CIO_WEBHOOK_SIGNING_KEYS_SECRET__BETA_EU: must be a secret resource name'],
    [{ CIO_WORKSPACES: 'acme,Beta' }, 'CIO_WORKSPACES: "Beta" is not a workspace name'],
    [{ CIO_WORKSPACES: 'acme:ap' }, 'CIO_WORKSPACES: "acme:ap": the region must be us or eu'],
  ])('refuses %o with one line naming the variable', (overrides, message) => {
    const error = errorOf(() => loadReceiverConfig({ ...receiverEnv, ...overrides }));
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toContain('a1');
  });
});

describe('the handler with several workspaces', () => {
  it('reads each workspace\'s credentials, region and Track API; the single-workspace ones are only defaults', () => {
    const config = loadHandlerConfig(handlerEnv);
    expect(config.workspaces).toEqual([
      { name: 'acme', region: 'us', credentials: { siteId: { kind: 'value', value: 'acme-site' }, trackApiKey: { kind: 'value', value: 'acme-key' } }, trackUrl: TRACK_API_URLS.us, dryRun: false },
      {
        name: 'beta-eu', region: 'eu', trackUrl: TRACK_API_URLS.eu, dryRun: false,
        credentials: { siteId: { kind: 'secret', secret: 'projects/p/secrets/cio-beta-eu-track-site-id' }, trackApiKey: { kind: 'secret', secret: 'projects/p/secrets/cio-beta-eu-track-api-key' } },
      },
    ]);
    expect(TRACK_API_URLS).toEqual({ us: 'https://track.customer.io/api/v1', eu: 'https://track-eu.customer.io/api/v1' });
    expect(config).toMatchObject({ credentials: null, region: 'us', trackUrl: null, dryRun: false, cioRequestsPerSecond: 50 });
  });

  it('takes a workspace\'s own Track URL over CIO_TRACK_URL, and CIO_TRACK_URL over the region\'s', () => {
    const config = loadHandlerConfig({ ...handlerEnv, CIO_TRACK_URL: 'http://127.0.0.1:4010/api/v1', CIO_TRACK_URL__BETA_EU: 'http://127.0.0.1:4011/api/v1/' });
    expect(config.workspaces!.map((w) => [w.name, w.trackUrl])).toEqual([['acme', 'http://127.0.0.1:4010/api/v1'], ['beta-eu', 'http://127.0.0.1:4011/api/v1']]);
  });

  it('lets one workspace run dry without credentials while another acts', () => {
    const config = loadHandlerConfig({ ...handlerEnv, CIO_SITE_ID_SECRET__BETA_EU: undefined, CIO_TRACK_API_KEY_SECRET__BETA_EU: undefined, CIO_DRY_RUN__BETA_EU: '1' });
    expect(config.workspaces!.map((w) => [w.name, w.dryRun, w.credentials === null])).toEqual([['acme', false, false], ['beta-eu', true, true]]);
    // CIO_DRY_RUN is every workspace's default.
    const all = loadHandlerConfig({ GOOGLE_CLOUD_PROJECT: 'p', PSEUDONYM_KEY: KEY_HEX, CIO_WORKSPACES: 'acme,beta', CIO_DRY_RUN: '1', CIO_DRY_RUN__BETA: '0', CIO_SITE_ID__BETA: 's', CIO_TRACK_API_KEY__BETA: 'k' });
    expect(all.workspaces!.map((w) => [w.name, w.dryRun])).toEqual([['acme', true], ['beta', false]]);
  });

  it.each([
    [{ CIO_SITE_ID: 's' }, 'CIO_SITE_ID: is not used with several workspaces (CIO_WORKSPACES): set CIO_SITE_ID__ACME, CIO_SITE_ID__BETA_EU instead'],
    [{ CIO_TRACK_API_KEY: 'k' }, 'CIO_TRACK_API_KEY: is not used with several workspaces'],
    [{ CIO_SITE_ID_SECRET: 'projects/p/secrets/s' }, 'CIO_SITE_ID_SECRET: is not used with several workspaces (CIO_WORKSPACES): set CIO_SITE_ID_SECRET__ACME, CIO_SITE_ID_SECRET__BETA_EU instead'],
    [{ CIO_TRACK_API_KEY_SECRET: 'projects/p/secrets/k' }, 'CIO_TRACK_API_KEY_SECRET: is not used with several workspaces'],
    [{ CIO_TRACK_API_KEY__ACME: undefined }, 'CIO_TRACK_API_KEY__ACME: is required but not set (or name the Secret Manager secret holding it in CIO_TRACK_API_KEY_SECRET__ACME)'],
    [{ CIO_SITE_ID__BETA_EU: 's' }, 'CIO_SITE_ID_SECRET__BETA_EU: set CIO_SITE_ID__BETA_EU or CIO_SITE_ID_SECRET__BETA_EU, not both'],
    [{ CIO_DRY_RUN__ACME: 'maybe' }, 'CIO_DRY_RUN__ACME: must be 1 or 0'],
    [{ CIO_TRACK_URL__ACME: 'track.customer.io' }, 'CIO_TRACK_URL__ACME: must be an http(s) URL'],
    // The stack's single-workspace setting left in place would send beta-eu to the US data center.
    [{ CIO_TRACK_URL: 'https://track.customer.io/api/v1' }, 'CIO_TRACK_URL: is the us Track API, but workspace beta-eu is in eu: leave it unset (each workspace calls its region\'s) or set CIO_TRACK_URL__BETA_EU'],
    [{ CIO_WORKSPACES: 'acme,acme' }, 'CIO_WORKSPACES: "acme" is named twice'],
    [{ CIO_REGION: 'ap' }, 'CIO_REGION: must be one of us, eu'],
  ])('refuses %o with one line naming the variable', (overrides, message) => {
    const error = errorOf(() => loadHandlerConfig({ ...handlerEnv, ...overrides }));
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toContain('acme-key');
  });

  it('accepts a regional CIO_TRACK_URL when every workspace is in that region, or has its own', () => {
    expect(loadHandlerConfig({ ...handlerEnv, CIO_TRACK_URL: TRACK_API_URLS.us, CIO_TRACK_URL__BETA_EU: TRACK_API_URLS.eu }).workspaces!.map((w) => w.trackUrl)).toEqual([TRACK_API_URLS.us, TRACK_API_URLS.eu]);
  });

  it('gives names without a region CIO_REGION\'s', () => {
    const config = loadHandlerConfig({ ...handlerEnv, CIO_WORKSPACES: 'acme,beta-eu', CIO_REGION: 'eu' });
    expect(config.workspaces!.map((w) => [w.name, w.region, w.trackUrl])).toEqual([['acme', 'eu', TRACK_API_URLS.eu], ['beta-eu', 'eu', TRACK_API_URLS.eu]]);
  });
});

describe('the variables the deployed functions read', () => {
  const workspaces = parseWorkspaces('acme:us,beta-eu:eu');

  it('are today\'s with one workspace', () => {
    expect(receiverVariables(null)).toEqual(RECEIVER_VARIABLES);
    expect(handlerVariables(null)).toEqual(HANDLER_VARIABLES);
  });

  it('with several: CIO_WORKSPACES and each workspace\'s secrets instead of the one set, and no CIO_TRACK_URL or CIO_REGION', () => {
    const receiver = receiverVariables(workspaces);
    expect(receiver).toEqual(expect.arrayContaining(['CIO_WORKSPACES', 'CIO_WEBHOOK_SIGNING_KEYS_SECRET__ACME', 'CIO_WEBHOOK_SIGNING_KEYS_SECRET__BETA_EU', 'PUBSUB_TOPIC']));
    expect(receiver).not.toContain('CIO_WEBHOOK_SIGNING_KEYS_SECRET');
    const handler = handlerVariables(workspaces);
    expect(handler).toEqual(expect.arrayContaining([
      'CIO_WORKSPACES', 'CIO_SITE_ID_SECRET__ACME', 'CIO_TRACK_API_KEY_SECRET__ACME', 'CIO_SITE_ID_SECRET__BETA_EU', 'CIO_TRACK_API_KEY_SECRET__BETA_EU', 'CIO_REQUESTS_PER_SECOND', 'DEDUPE_DATABASE',
    ]));
    for (const name of ['CIO_SITE_ID_SECRET', 'CIO_TRACK_API_KEY_SECRET', 'CIO_TRACK_URL', 'CIO_REGION']) expect(handler).not.toContain(name);
  });

  it('and a deployed environment built from those lists loads', () => {
    const env = (names: string[]) => Object.fromEntries(names.map((name) => [name, name.endsWith('_SECRET') || name.includes('_SECRET__') ? `projects/p/secrets/${name.toLowerCase().replaceAll('_', '-')}` : undefined]));
    const receiver = loadReceiverConfig({ ...env(receiverVariables(workspaces)), GOOGLE_CLOUD_PROJECT: 'p', CIO_WORKSPACES: 'acme:us,beta-eu:eu' });
    expect(receiver.workspaces!.map((w) => w.signingKeys.kind)).toEqual(['secret', 'secret']);
    const handler = loadHandlerConfig({ ...env(handlerVariables(workspaces)), GOOGLE_CLOUD_PROJECT: 'p', PSEUDONYM_KEY: KEY_HEX, CIO_WORKSPACES: 'acme:us,beta-eu:eu', CIO_DRY_RUN: '0' });
    expect(handler.workspaces!.map((w) => [w.credentials?.siteId.kind, w.trackUrl])).toEqual([['secret', TRACK_API_URLS.us], ['secret', TRACK_API_URLS.eu]]);
  });

  it('locally, every per-workspace variable a function may read', () => {
    expect(workspaceVariables('receiver', workspaces!)).toEqual(['CIO_WEBHOOK_SIGNING_KEYS__ACME', 'CIO_WEBHOOK_SIGNING_KEYS_SECRET__ACME', 'CIO_WEBHOOK_SIGNING_KEYS__BETA_EU', 'CIO_WEBHOOK_SIGNING_KEYS_SECRET__BETA_EU']);
    expect(workspaceVariables('handler', workspaces!.slice(0, 1))).toEqual(['CIO_SITE_ID__ACME', 'CIO_SITE_ID_SECRET__ACME', 'CIO_TRACK_API_KEY__ACME', 'CIO_TRACK_API_KEY_SECRET__ACME', 'CIO_TRACK_URL__ACME', 'CIO_DRY_RUN__ACME']);
  });
});
