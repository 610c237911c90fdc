/**
 * The seam the request guard uses (functions/framework-guard.ts): the next server created through
 * http.createServer runs the guard before its own listener, and a process whose framework stops
 * creating its server that way refuses to run unguarded.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../shared/log.js';
import { guardFrameworkServer } from '../../functions/framework-guard.js';

describe('guardFrameworkServer', () => {
  it('puts the guard in front of the listener of the next server created, and of that one only', async () => {
    const seen: string[] = [];
    const original = http.createServer;
    guardFrameworkServer(
      (req, res, next) => {
        seen.push(`guard ${req.url}`);
        if (req.url === '/refused') res.writeHead(401).end();
        else next();
      },
      { logger: createMemoryLogger(), requestTimeoutMs: 7_000, headersTimeoutMs: 5_000, connectionsCheckingIntervalMs: 500, maxConnections: 20, installWithinMs: 60_000 },
    );
    const server = http.createServer((req, res) => {
      seen.push(`app ${req.url}`);
      res.writeHead(204).end();
    });
    expect(http.createServer).toBe(original);
    expect([server.requestTimeout, server.headersTimeout, server.maxConnections]).toEqual([7_000, 5_000, 20]);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${url}/refused`, { method: 'POST' })).status).toBe(401);
      expect((await fetch(`${url}/passed`, { method: 'POST' })).status).toBe(204);
      expect(seen).toEqual(['guard /refused', 'guard /passed', 'app /passed']);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('stops the process (here: calls back) when no server was created through it in time', async () => {
    const logger = createMemoryLogger();
    const original = http.createServer;
    const notInstalled = new Promise<void>((resolve) => {
      guardFrameworkServer((_req, _res, next) => next(), { logger, requestTimeoutMs: 1_000, headersTimeoutMs: 1_000, connectionsCheckingIntervalMs: 1_000, maxConnections: 10, installWithinMs: 50, onNotInstalled: resolve });
    });
    await notInstalled;
    expect(http.createServer).toBe(original);
    expect(logger.entries).toContainEqual(expect.objectContaining({ severity: 'ERROR', message: expect.stringContaining('refusing to serve unguarded') }));
  });
});
