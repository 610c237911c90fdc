/**
 * Starts the gcloud Pub/Sub and Firestore emulators on free loopback ports, each in its own process
 * group: killing the gcloud wrapper alone leaves the Java emulator holding the port, so stop() kills
 * the whole group. A watchdog (watchdog.ts) kills the group if this process dies without stopping
 * it, even by SIGKILL. Used by the test global setup, `npm start`, the benchmarks and the soak run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { groupPids } from '../bench/proc-stats.js';
import { processStartTime } from './stack-file.js';
import { watchChild } from './watchdog.js';

export interface Emulator {
  readonly name: 'pubsub' | 'firestore';
  /** host:port, the value of PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST. */
  readonly host: string;
  readonly port: number;
  /** The gcloud wrapper's pid: also the emulator's process group id. */
  readonly pid: number;
  /** The wrapper's start time (Linux), so a record of the group is not mistaken for a reused pid. */
  readonly startTime: string | null;
  readonly logFile: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

// Last resort when the owner exits without calling stop(): no Java emulator outlives its parent.
process.once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

function groupAlive(child: ChildProcess): boolean {
  return child.pid !== undefined && groupPids(child.pid).length > 0;
}

/** The last lines an emulator wrote: the reason it stopped, for the one-line error. */
function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').trim().split('\n').slice(-2).join(' | ');
  } catch {
    return '';
  }
}

async function waitUntilReady(host: string, child: ChildProcess, timeoutMs: number, logFile: string, spawnError: () => Error | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const error = spawnError();
    if (error) throw new Error(`cannot run gcloud (${error.message}): install the Google Cloud CLI with the pubsub-emulator, cloud-firestore-emulator and beta components, and Java 17`);
    if (child.exitCode !== null) throw new Error(`emulator exited with ${child.exitCode}: ${logTail(logFile)} (log: ${logFile})`);
    try {
      const response = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`emulator on ${host} not ready after ${timeoutMs} ms; see ${logFile}`);
}

async function start(name: Emulator['name'], args: (port: number) => string[], port?: number, logDir?: string): Promise<Emulator> {
  const chosen = port ?? (await freePort());
  const host = `127.0.0.1:${chosen}`;
  const dir = logDir ?? mkdtempSync(join(tmpdir(), `cio-${name}-`));
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, `${name}-emulator.log`);
  const out = openSync(logFile, 'a');
  const child = spawn('gcloud', args(chosen), { detached: true, stdio: ['ignore', out, out] });
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  running.add(child);
  const watchdog = child.pid === undefined ? null : watchChild({ pid: child.pid, group: true });
  const startTime = child.pid === undefined ? null : processStartTime(child.pid);
  // A spawn that failed (no gcloud) emits 'error' and never 'exit'.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const stop = async () => {
    if (!running.has(child)) return;
    running.delete(child);
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    // The wrapper can exit before its Java child: wait until the whole group is gone (port freed).
    for (let i = 0; i < 100 && groupAlive(child); i++) {
      if (i === 30) killGroup(child, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
    }
    watchdog?.release();
  };
  try {
    await waitUntilReady(host, child, 60_000, logFile, () => spawnError);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, host, port: chosen, pid: child.pid ?? -1, startTime, logFile, stop };
}

export interface PubSubEmulatorOptions {
  project: string;
  port?: number;
  logDir?: string;
}

export function startPubSubEmulator({ project, port, logDir }: PubSubEmulatorOptions): Promise<Emulator> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cio-pubsub-data-'));
  return start(
    'pubsub',
    (p) => ['beta', 'emulators', 'pubsub', 'start', `--host-port=127.0.0.1:${p}`, `--project=${project}`, `--data-dir=${dataDir}`, '--quiet'],
    port,
    logDir,
  );
}

export function startFirestoreEmulator({ port, logDir }: { port?: number; logDir?: string } = {}): Promise<Emulator> {
  return start('firestore', (p) => ['emulators', 'firestore', 'start', `--host-port=127.0.0.1:${p}`, '--quiet'], port, logDir);
}

/** Deletes every document in the Firestore emulator's default database. */
export async function resetFirestore(host: string, project: string): Promise<void> {
  const response = await fetch(`http://${host}/emulator/v1/projects/${project}/databases/(default)/documents`, { method: 'DELETE' });
  if (!response.ok) throw new Error(`Firestore emulator reset failed: ${response.status}`);
}
