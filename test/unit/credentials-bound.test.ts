/**
 * The ops CLI gets one token with the operator's credentials within a bound (10 s by default,
 * docs/operations.md), and says so in one line when Google does not answer — here a loopback proxy
 * that takes the token request's connection and never answers, so nothing leaves the machine.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { CommandFailed } from '../../ops/cli.js';
import { resolveCredentials } from '../../ops/credentials.js';

let proxy: Server;
const connections: Socket[] = [];
const requested: string[] = [];
const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, https_proxy: process.env.https_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };

beforeAll(async () => {
  proxy = createServer((socket) => {
    connections.push(socket);
    socket.once('data', (chunk) => requested.push(chunk.toString('latin1').split('\r\n')[0]!));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as { port: number };
  for (const name of ['NO_PROXY', 'no_proxy', 'https_proxy'] as const) delete process.env[name];
  process.env.HTTPS_PROXY = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  for (const socket of connections) socket.destroy();
  await new Promise((resolve) => proxy.close(resolve));
});

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const keyFiles = {
  service_account: { type: 'service_account', client_email: 'deployer@acme-prod-1.iam.gserviceaccount.com', private_key: privateKey, private_key_id: 'k1', project_id: 'acme-prod-1' },
  authorized_user: { type: 'authorized_user', client_id: 'id.apps.googleusercontent.com', client_secret: 'secret', refresh_token: 'refresh' },
};

it.each(Object.entries(keyFiles))('gives up on a token request nobody answers, in one line, with a key file of type %s and no library warning', async (_type, key) => {
  const warn = vi.spyOn(console, 'warn');
  const before = requested.length;
  const error = await resolveCredentials('acme-prod-1', { GOOGLE_CREDENTIALS: JSON.stringify(key) }, 300).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(CommandFailed);
  expect((error as Error).message).toBe('no answer within 0.3 s while getting a token with your Google credentials: check the network (or proxy), then run gcloud auth application-default login if they are old');
  // The token request went to Google's token endpoint, through the stand-in proxy.
  expect(requested.slice(before)).toEqual([expect.stringMatching(/^CONNECT oauth2\.googleapis\.com:443 /)]);
  expect(warn).not.toHaveBeenCalled();
  warn.mockRestore();
});

it('refuses a key file of a type it cannot use, in one line', async () => {
  await expect(resolveCredentials('acme-prod-1', { GOOGLE_CREDENTIALS: JSON.stringify({ type: 'gdch_service_account' }) }, 300)).rejects.toThrow(
    /^key files of type "gdch_service_account" are not supported: use service_account, authorized_user or external_account/,
  );
});
