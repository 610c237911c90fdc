/**
 * The ops CLI (and so the deploy's invoker step) takes its credentials where Terraform's google
 * provider does: GOOGLE_OAUTH_ACCESS_TOKEN first, then a key file's path or contents in
 * GOOGLE_CREDENTIALS, GOOGLE_CLOUD_KEYFILE_JSON or GCLOUD_KEYFILE_JSON, else the application default
 * credentials (provider reference at v6.50.0, "Authentication Configuration").
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GoogleApiError, credentialSource } from '../../ops/google-api.js';

const KEY = { type: 'service_account', client_email: 'deployer@acme-prod-1.iam.gserviceaccount.com', private_key: 'not-a-real-key' };

describe('credential source', () => {
  it('follows the provider\'s order', () => {
    expect(credentialSource({})).toEqual({ kind: 'application-default' });
    expect(credentialSource({ GOOGLE_OAUTH_ACCESS_TOKEN: 'ya29.token', GOOGLE_CREDENTIALS: JSON.stringify(KEY) })).toEqual({ kind: 'access-token', variable: 'GOOGLE_OAUTH_ACCESS_TOKEN' });
    expect(credentialSource({ GOOGLE_CREDENTIALS: JSON.stringify(KEY), GCLOUD_KEYFILE_JSON: '/nowhere' })).toEqual({ kind: 'key-file', variable: 'GOOGLE_CREDENTIALS', json: KEY });
    const path = join(mkdtempSync(join(tmpdir(), 'key-')), 'key.json');
    writeFileSync(path, JSON.stringify(KEY));
    expect(credentialSource({ GCLOUD_KEYFILE_JSON: path })).toEqual({ kind: 'key-file', variable: 'GCLOUD_KEYFILE_JSON', json: KEY });
    // GOOGLE_APPLICATION_CREDENTIALS is part of the application default credentials themselves.
    expect(credentialSource({ GOOGLE_APPLICATION_CREDENTIALS: path })).toEqual({ kind: 'application-default' });
  });

  it('says which variable holds something that is not a key file', () => {
    expect(() => credentialSource({ GOOGLE_CLOUD_KEYFILE_JSON: '/no/such/key.json' })).toThrow(GoogleApiError);
    expect(() => credentialSource({ GOOGLE_CREDENTIALS: '{not json' })).toThrow(/GOOGLE_CREDENTIALS is neither a JSON key file's path nor its contents/);
  });
});
