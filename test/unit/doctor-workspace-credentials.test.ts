/**
 * How the doctor reads a Customer.io secret: Secret Manager's answers to versions/latest:access
 * (REST reference shapes) as a value, as "no value" (the definitive answers), or as a check that
 * could not run.
 */
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../functions/secret-manager.js';
import { readSecretValue } from '../../ops/doctor/workspace-credentials.js';
import { GoogleApiError, errorInfoOf, type GoogleApi } from '../../ops/google-api.js';

const answering = (answer: unknown | GoogleApiError): GoogleApi & { paths: string[] } => {
  const paths: string[] = [];
  return {
    paths,
    async call<T>(service: string, path: string) {
      paths.push(`${service} ${path}`);
      if (answer instanceof GoogleApiError) throw answer;
      return answer as T;
    },
  };
};
const version = (text: string, crc = crc32c(Buffer.from(text))) => ({ name: 'projects/123456789012/secrets/cio-acme-track-site-id/versions/4', payload: { data: Buffer.from(text).toString('base64'), dataCrc32c: String(crc) } });

describe('reading a Customer.io secret for the doctor', () => {
  it('reads the newest version, trimmed as the functions read it', async () => {
    const api = answering(version(' 4f1e2d\n'));
    expect(await readSecretValue(api, 'acme-prod-1', 'cio-acme-track-site-id', 1000)).toEqual({ kind: 'value', value: '4f1e2d' });
    expect(api.paths).toEqual(['secretmanager v1/projects/acme-prod-1/secrets/cio-acme-track-site-id/versions/latest:access']);
  });

  it.each([
    ['no version (or no secret yet)', new GoogleApiError('404 NOT_FOUND Secret [projects/123/secrets/x] not found or has no versions.', 404, 'http'), 'no version yet'],
    ['a disabled newest version', new GoogleApiError('400 FAILED_PRECONDITION Secret Version [projects/123/secrets/x/versions/2] is in DISABLED state.', 400, 'http'), 'its newest version is disabled or destroyed'],
    ['an empty value', version('  '), 'its newest version is empty'],
    ['the placeholder an older deploy wrote', version('placeholder:add-a-secret-version'), 'it holds the placeholder an older deploy wrote'],
  ])('%s is no value', async (_, answer, reason) => {
    expect(await readSecretValue(answering(answer), 'p', 's', 1000)).toEqual({ kind: 'absent', reason });
  });

  it('cannot tell when Secret Manager refuses, fails, or answers a payload its checksum does not match', async () => {
    await expect(readSecretValue(answering(new GoogleApiError('403 PERMISSION_DENIED Permission denied', 403, 'http')), 'p', 's', 1000)).rejects.toThrow(
      'Secret Manager refused to read the credentials (403): the check needs Secret Manager Secret Accessor on the Customer.io secrets',
    );
    await expect(readSecretValue(answering(new GoogleApiError('503 UNAVAILABLE', 503, 'http')), 'p', 's', 1000)).rejects.toThrow('503 UNAVAILABLE');
    await expect(readSecretValue(answering(version('4f1e2d', 12345)), 'p', 's', 1000)).rejects.toThrow('payload does not match its CRC32C checksum');
  });

  it('is no secret yet while Secret Manager is not enabled in the project (403 SERVICE_DISABLED), and a clear refusal when it is the quota project\'s', async () => {
    const disabled = (containerInfo: string) => {
      const body = { error: { code: 403, message: 'Secret Manager API has not been used in project 345678901234 before or it is disabled.', status: 'PERMISSION_DENIED', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SERVICE_DISABLED', domain: 'googleapis.com', metadata: { service: 'secretmanager.googleapis.com', consumer: `projects/${containerInfo}`, containerInfo } }] } };
      return new GoogleApiError('403 PERMISSION_DENIED Secret Manager API has not been used …', 403, 'http', errorInfoOf(body));
    };
    expect(await readSecretValue(answering(disabled('acme-fresh-1')), 'acme-fresh-1', 'cio-track-site-id', 1000)).toEqual({
      kind: 'absent',
      reason: 'no secret yet: secretmanager.googleapis.com is not enabled in acme-fresh-1 yet, and the apply enables it and creates them',
      notCreated: true,
    });
    await expect(readSecretValue(answering(disabled('acme-ops-tools')), 'acme-fresh-1', 'cio-track-site-id', 1000)).rejects.toThrow(
      'secretmanager.googleapis.com is not enabled in acme-ops-tools, the project your credentials charge API calls to (their quota project), not acme-fresh-1',
    );
    // A bare 403 while the APIs check found Secret Manager not enabled: the same.
    const bare = new GoogleApiError('403 PERMISSION_DENIED Permission denied', 403, 'http');
    const state = { project: 'acme-fresh-1', enabled: new Set(['serviceusage.googleapis.com']), projectNumber: '345678901234' };
    expect(await readSecretValue(answering(bare), 'acme-fresh-1', 's', 1000, Promise.resolve(state))).toMatchObject({ kind: 'absent', notCreated: true });
    // With Secret Manager enabled, a 403 is a missing role, as before.
    await expect(readSecretValue(answering(bare), 'acme-fresh-1', 's', 1000, { ...state, enabled: new Set(['secretmanager.googleapis.com']) })).rejects.toThrow('Secret Manager Secret Accessor');
  });
});
