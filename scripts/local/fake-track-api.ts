/**
 * A local stand-in for the Customer.io Track API (the one external service tests cannot reach).
 * Records every request and answers from a script: 200, 429 with Retry-After, 500, 400, 401, or a
 * hang longer than any client deadline.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
  /** The status the fake answered (null for a hang). */
  answered: number | null;
}

export type FakeReply =
  | { status: 200 }
  | { status: 429; retryAfterSeconds: number }
  | { status: 400 | 401 | 403 | 404 | 500 | 502 | 503; error?: string }
  | { hang: true };

export interface FakeTrackApi {
  /** Base URL including /api/v1, for CIO_TRACK_URL. */
  url: string;
  requests: RecordedRequest[];
  /** When each of `requests` arrived (performance.now() of the fake's process), in the same order. */
  arrivals: number[];
  /** Replies for the next requests, in order; afterwards `otherwise` (default 200). */
  script(...replies: FakeReply[]): void;
  /** Replies for the next requests to one path (e.g. '/customers/cio_x'), before the shared script. */
  scriptPath(path: string, ...replies: FakeReply[]): void;
  otherwise(reply: FakeReply): void;
  /**
   * Enforce a rate limit the way an API does: a bucket of `burst` requests refilled at `perSecond`;
   * a request finding it empty gets 429 with Retry-After 1, before any script applies. null: off.
   */
  limitRate(limit: { perSecond: number; burst: number } | null): void;
  reset(): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startFakeTrackApi(): Promise<FakeTrackApi> {
  let queue: FakeReply[] = [];
  let byPath = new Map<string, FakeReply[]>();
  let fallback: FakeReply = { status: 200 };
  const requests: RecordedRequest[] = [];
  const arrivals: number[] = [];
  const hanging = new Set<import('node:http').ServerResponse>();
  // A count-based bucket, written independently of the handler's limiter (shared/token-bucket.ts).
  let limit: { perSecond: number; burst: number; tokens: number; at: number } | null = null;
  const overLimit = () => {
    if (!limit) return false;
    const now = performance.now();
    limit.tokens = Math.min(limit.burst, limit.tokens + ((now - limit.at) / 1000) * limit.perSecond);
    limit.at = now;
    if (limit.tokens < 1) return true;
    limit.tokens -= 1;
    return false;
  };

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = (req.url ?? '').replace(/^\/api\/v1/, '');
    const reply: FakeReply = overLimit() ? { status: 429, retryAfterSeconds: 1 } : (byPath.get(path)?.shift() ?? queue.shift() ?? fallback);
    const record: RecordedRequest = {
      method: req.method ?? '',
      path,
      authorization: req.headers.authorization,
      body,
      answered: 'hang' in reply ? null : reply.status,
    };
    requests.push(record);
    arrivals.push(performance.now());
    if ('hang' in reply) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (reply.status === 429) headers['retry-after'] = String(reply.retryAfterSeconds);
    res.writeHead(reply.status, headers);
    res.end(reply.status === 200 ? '{}' : JSON.stringify({ meta: { error: ('error' in reply ? reply.error : undefined) ?? `fake answered ${reply.status}` } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/v1`,
    requests,
    arrivals,
    script: (...replies) => queue.push(...replies),
    scriptPath: (path, ...replies) => byPath.set(path, [...(byPath.get(path) ?? []), ...replies]),
    otherwise: (reply) => {
      fallback = reply;
    },
    limitRate: (next) => {
      limit = next ? { ...next, tokens: next.burst, at: performance.now() } : null;
    },
    reset: () => {
      queue = [];
      byPath = new Map();
      fallback = { status: 200 };
      limit = null;
      requests.length = 0;
      arrivals.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
