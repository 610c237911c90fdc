/**
 * Runs Debian's nginx as a reverse proxy in front of a local server, the way Google's front end sits
 * in front of a Cloud Run instance: it keeps its connections to the upstream open and sends later
 * requests, anyone's, over them (`proxy_http_version 1.1`, an empty Connection header, an upstream
 * `keepalive` pool). No root needed: nginx runs in the foreground from its own prefix directory with
 * its own config, pid file, logs and temp paths, on a free loopback port, and stop() ends it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './emulators.js';

/** The nginx binary on PATH or in the sbin directories Debian installs it to, or null. */
export function nginxBinary(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = join(dir, 'nginx');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export interface NginxOptions {
  /** The loopback port of the server behind the proxy. */
  upstreamPort: number;
  /** Idle connections to the upstream nginx keeps for reuse. */
  keepalive?: number;
  /**
   * 'off' streams each request body to the upstream as it arrives, so the upstream can answer
   * while the body is still on its way (the case an early answer has to survive); 'on' (nginx's
   * default) reads the whole body first.
   */
  requestBuffering?: 'on' | 'off';
}

export interface Nginx {
  url: string;
  port: number;
  /** What nginx wrote to its error log so far (upstream resets show up here). */
  errorLog(): string;
  stop(): Promise<void>;
}

function waitForPort(port: number, child: ChildProcess, deadline: number, log: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`nginx exited with ${child.exitCode}: ${log()}`));
      if (Date.now() > deadline) return reject(new Error(`nginx did not listen on ${port}: ${log()}`));
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => setTimeout(attempt, 20));
    };
    attempt();
  });
}

export async function startNginx({ upstreamPort, keepalive = 4, requestBuffering = 'off' }: NginxOptions): Promise<Nginx> {
  const binary = nginxBinary();
  if (!binary) throw new Error('nginx is not installed (apt-get install nginx)');
  const dir = mkdtempSync(join(tmpdir(), 'nginx-'));
  // Run as root (CI), nginx's workers switch to an unprivileged user: they must reach the temp paths.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const errorLog = join(dir, 'error.log');
  const config = join(dir, 'nginx.conf');
  writeFileSync(config, `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${errorLog} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  # The receiver answers over-limit bodies itself; nginx must let them through to it.
  client_max_body_size 64m;
  upstream receiver {
    server 127.0.0.1:${upstreamPort};
    keepalive ${keepalive};
    # Shorter than Node's keep-alive timeout (5 s): the proxy drops an idle connection before the
    # server does, so a reused connection is never one the server is closing.
    keepalive_timeout 4s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://receiver;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering ${requestBuffering};
      proxy_buffering off;
    }
  }
}
`);
  // -e: the error log from the first line on (before the config is read, nginx would open
  // /var/log/nginx/error.log, which needs root).
  const child = spawn(binary, ['-p', dir, '-c', config, '-e', errorLog], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => {
    try {
      return `${stderr}${readFileSync(errorLog, 'utf8')}`.trim();
    } catch {
      return stderr.trim();
    }
  };
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  try {
    await waitForPort(port, child, Date.now() + 10_000, log);
  } catch (error) {
    kill('SIGKILL');
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    errorLog: log,
    async stop() {
      if (child.exitCode === null) {
        kill('SIGTERM');
        const timer = setTimeout(() => kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
