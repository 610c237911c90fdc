/**
 * How the doctor reads a Customer.io secret: Secret Manager's answers to versions/latest:access
 * (REST reference shapes) as a value, as "no value" (the definitive answers), or as a check that
 * could not run.
 */
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../functions/secret-manager.js';
import { readSecretValue } from '../../ops/doctor/workspace-credentials.js';
import { GoogleApiError, type GoogleApi } from '../../ops/google-api.js';

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
});
