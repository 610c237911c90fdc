/**
 * A stand-in for Secret Manager's REST API on loopback (SECRET_MANAGER_ENDPOINT points the functions
 * at it), answering `GET /v1/projects/P/secrets/S/versions/latest:access` the way the reference
 * documents it: the most recently created version's payload (base64, with its CRC32C), 404
 * NOT_FOUND when the secret has no version, 400 FAILED_PRECONDITION when that version is disabled or
 * destroyed. Versions are added, disabled and destroyed from the test, as an operator would with
 * gcloud; `outage` makes every call fail as an unreachable or failing API would.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32c } from '../../functions/secret-manager.js';

type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';

export interface FakeSecretManager {
  url: string;
  /** Adds a version (enabled, the newest); returns its number. `secret` is projects/P/secrets/S. */
  addVersion(secret: string, value: string): number;
  setState(secret: string, version: number, state: VersionState): void;
  /** Every call answers this status (500, 503, 403 …) until null; 'hang' never answers. */
  outage(status: number | 'hang' | null): void;
  /** Paths of the calls received, in order. */
  calls: string[];
  close(): Promise<void>;
}

const ACCESS = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/latest:access$/;
const PROJECT_NUMBER = '123456789012';

export async function startFakeSecretManager(): Promise<FakeSecretManager> {
  const secrets = new Map<string, Array<{ data: Buffer; state: VersionState }>>();
  let failing: number | 'hang' | null = null;
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    calls.push(path);
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const error = (code: number, status: string, message: string) => json(code, { error: { code, message, status } });
    if (failing === 'hang') return;
    if (failing !== null) return error(failing, failing === 403 ? 'PERMISSION_DENIED' : 'UNAVAILABLE', 'the fake is failing on purpose');
    const match = ACCESS.exec(path);
    if (req.method !== 'GET' || !match) return error(404, 'NOT_FOUND', `no such method: ${req.method} ${path}`);
    const secret = match[1]!;
    const versions = secrets.get(secret) ?? [];
    if (versions.length === 0) return error(404, 'NOT_FOUND', `Secret Version [${secret}/versions/latest] not found.`);
    const number = versions.length;
    const newest = versions[number - 1]!;
    const name = `${secret.replace(/^projects\/[^/]+/, `projects/${PROJECT_NUMBER}`)}/versions/${number}`;
    if (newest.state !== 'ENABLED') return error(400, 'FAILED_PRECONDITION', `Secret Version [${name}] is in ${newest.state} state.`);
    json(200, { name, payload: { data: newest.data.toString('base64'), dataCrc32c: String(crc32c(newest.data)) } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    addVersion(secret, value) {
      const versions = secrets.get(secret) ?? [];
      versions.push({ data: Buffer.from(value, 'utf8'), state: 'ENABLED' });
      secrets.set(secret, versions);
      return versions.length;
    },
    setState(secret, version, state) {
      const entry = secrets.get(secret)?.[version - 1];
      if (!entry) throw new Error(`${secret} has no version ${version}`);
      if (entry.state === 'DESTROYED') throw new Error('a destroyed version stays destroyed');
      entry.state = state;
      if (state === 'DESTROYED') entry.data = Buffer.alloc(0);
    },
    outage(status) {
      failing = status;
    },
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
