/**
 * Serves a function through the real Functions Framework (body parsing, rawBody, error handling)
 * on a loopback port, as `getTestServer` does, under a unique registered name.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';

export interface FunctionServer {
  url: string;
  close(): Promise<void>;
}

export async function serveFunction(fn: functions.HttpFunction): Promise<FunctionServer> {
  const name = `fn_${randomUUID().replaceAll('-', '')}`;
  functions.http(name, fn);
  const server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
