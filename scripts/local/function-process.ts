/**
 * Runs one function target in its own Functions Framework process, as Cloud Run does: used by
 * `npm start`, the benchmarks, the soak run and the tests that need a real process (start-up errors,
 * framework error pages, cold start).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from './emulators.js';
import { watchChild } from './watchdog.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FRAMEWORK_MAIN = join(ROOT, 'node_modules/@google-cloud/functions-framework/build/src/main.js');
/** Makes the framework's server.listen(port) listen on LOCAL_BIND_HOST (it has no host option). */
const LISTEN_ON_HOST = join(ROOT, 'scripts/local/listen-on-host.mjs');
/** Where local functions listen unless told otherwise: this machine only. */
export const DEFAULT_BIND_HOST = '127.0.0.1';

/** The host to put in a URL for a server bound to `bindHost` (a wildcard is reached on loopback). */
export function urlHost(bindHost: string): string {
  if (bindHost === '0.0.0.0' || bindHost === '::') return '127.0.0.1';
  return isIPv6(bindHost) ? `[${bindHost}]` : bindHost;
}
/** The compiled bundle `npm run build` produces (what deploys). */
export const BUNDLE_ENTRY = join(ROOT, 'build/bundle/functions/index.js');

export interface FunctionProcess {
  target: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** Every line the process printed (stdout and stderr), in order. */
  lines: string[];
  /** ms from spawn to the first answer on the port. */
  readyMs: number;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface FunctionProcessOptions {
  /** 'receiver' or 'handler'; any target name with `source`. */
  target: string;
  env: Record<string, string | undefined>;
  /** Another module registering `target` (benchmarks); default: the project's functions. */
  source?: string;
  port?: number;
  /** The address to listen on (default 127.0.0.1: loopback only). */
  host?: string;
  /** 'source' runs the TypeScript through tsx; 'bundle' runs build/bundle (run `npm run build` first). */
  from?: 'source' | 'bundle';
  /** Mirror the process output to this stream, each line passed through echoFormat (default: prefixed). */
  echo?: NodeJS.WritableStream;
  echoFormat?: (line: string, target: string) => string;
  /** Append every line the process prints to this file (the local stand-in for Cloud Logging). */
  logFile?: string;
  readyTimeoutMs?: number;
}

export function spawnFunction(options: FunctionProcessOptions & { port: number }): ChildProcess {
  const { target, env, port, from = 'source', host = DEFAULT_BIND_HOST } = options;
  const source = options.source ?? (from === 'bundle' ? BUNDLE_ENTRY : join(ROOT, 'functions/index.ts'));
  if (from === 'bundle' && !existsSync(BUNDLE_ENTRY)) throw new Error(`${BUNDLE_ENTRY} is missing: run npm run build`);
  const loader = source.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return spawn(process.execPath, ['--import', LISTEN_ON_HOST, ...loader, FRAMEWORK_MAIN, `--target=${target}`, `--source=${source}`, `--port=${port}`], {
    cwd: ROOT,
    // Nothing local reaches a metadata server: there is none, and the probe would only wait and warn.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, METADATA_SERVER_DETECTION: 'none', FUNCTION_TARGET: target, ...env, LOCAL_BIND_HOST: host },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * What a function that exited at start-up said: its configuration error's message (one line naming
 * the variable) when it printed one, else everything it printed.
 */
export function startFailure(target: string, code: number | null, lines: string[]): string {
  for (const line of [...lines].reverse()) {
    try {
      const entry = JSON.parse(line) as { severity?: string; message?: string };
      if (entry.severity === 'ERROR' && typeof entry.message === 'string') return `${target}: ${entry.message.replace(/^configuration error: /, '')}`;
    } catch {
      // not a structured line
    }
  }
  return `${target} exited with ${code}: ${lines.join(' | ')}`;
}

export async function startFunction(options: FunctionProcessOptions): Promise<FunctionProcess> {
  const port = options.port ?? (await freePort());
  const started = performance.now();
  const child = spawnFunction({ ...options, port });
  // Killed with the stack if the stack dies without stopping it; released once it has exited.
  const watchdog = child.pid === undefined ? null : watchChild({ pid: child.pid, group: false });
  child.once('exit', () => watchdog?.release());
  let closed = false;
  child.once('close', () => (closed = true));
  const lines: string[] = [];
  const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      log?.write(`${line}\n`);
      options.echo?.write(`${options.echoFormat ? options.echoFormat(line, options.target) : `[${options.target}] ${line}`}\n`);
    });
  }
  // 'close', not 'exit': the last lines may still be in the pipes when the process exits.
  child.once('close', () => log?.end());
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const url = `http://${urlHost(options.host ?? DEFAULT_BIND_HOST)}:${port}/`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) {
      // Its last lines may still be in the pipes.
      for (let i = 0; i < 50 && !closed; i++) await new Promise((r) => setTimeout(r, 20));
      throw new Error(startFailure(options.target, child.exitCode, lines));
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.target} did not answer on ${url}: ${lines.join(' | ')}`);
    }
    try {
      await fetch(url, { method: 'GET', signal: AbortSignal.timeout(500) });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const readyMs = performance.now() - started;
  return {
    target: options.target,
    url,
    port,
    child,
    lines,
    readyMs,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs a target expecting it to exit (e.g. on a configuration error); returns its code and output. */
export async function runToExit(options: FunctionProcessOptions): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnFunction({ ...options, port: options.port ?? (await freePort()) });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.readyTimeoutMs ?? 20_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}
