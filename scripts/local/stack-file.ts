/**
 * What `npm start` writes about the running local stack (.local/stack.json), and how tools find it.
 * A module of its own so the ops CLI can read it without loading the local stack's machinery.
 *
 * The file is also the state directory's lock (scripts/local/stack-lock.ts): it is created
 * exclusively before anything starts and names its owner — the pid and, where /proc tells it, the
 * process's start time, so a reused pid is not mistaken for the owner. It is only believed while
 * that owner lives: a file left by a stack that was killed is stale, and every reader says so
 * instead of sending requests to ports nobody holds.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PipelineNames } from '../../infra/names.js';
import type { DeliverabilityConfig } from '../../shared/deliverability.js';
import type { CioRegion } from '../../shared/workspaces.js';

/** Where npm start keeps its warehouse, emulator logs and stack.json (CIO_LOCAL_STATE_DIR overrides). */
export const DEFAULT_STATE_DIR = process.env.CIO_LOCAL_STATE_DIR ?? join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), '.local');
export const STACK_FILE = 'stack.json';
export const STACK_FILE_VERSION = 2;

/** A workspace the local stack serves (CIO_WORKSPACES): where its webhooks go and the key that signs them. */
export interface LocalWorkspace {
  name: string;
  region: CioRegion;
  /** The receiver's URL for this workspace: `http://127.0.0.1:8080/acme`. */
  receiverUrl: string;
  signingKey: string;
  /** Whether the handler only logs this workspace's Customer.io calls. */
  dryRun: boolean;
}

export interface LocalStackInfo {
  project: string;
  prefix: string;
  pubsubHost: string;
  firestoreHost: string;
  /** Where the receiver listens: with one workspace, where webhooks go; with several, each has its path below it. */
  receiverUrl: string;
  handlerUrl: string;
  /** The dev signing key with one workspace; empty with several (each has its own, in `workspaces`). */
  signingKey: string;
  /** The workspaces served (CIO_WORKSPACES), each at its own URL with its own key; null with one. */
  workspaces: LocalWorkspace[] | null;
  warehousePath: string;
  warehouseSubscription: string;
  names: PipelineNames;
  /** Every Customer.io call only logged (with several workspaces: every workspace's). */
  dryRun: boolean;
  /** Where the dedupe records are: the named database (as deployed) and the collection. */
  dedupeDatabase: string;
  dedupeCollection: string;
  /** Each function's log, and the guard's, one JSON entry per line (what Cloud Logging holds when deployed). */
  logFiles: { receiver: string; handler: string; guard: string };
  /** The settings the local deliverability guard judges with (ops deliverability --local uses them too). */
  deliverability: DeliverabilityConfig;
}

/** A process as the lock records it: its pid and, on Linux, its start time (clock ticks after boot). */
export interface ProcessRecord {
  pid: number;
  startTime: string | null;
}

/** A process group the stack started (an emulator: the gcloud wrapper and its Java child). */
export interface GroupRecord extends ProcessRecord {
  name: string;
}

export interface StackFile {
  version: typeof STACK_FILE_VERSION;
  /** starting: the lock is held, things are being started; running: `stack` is filled in; stopping. */
  state: 'starting' | 'running' | 'stopping';
  owner: ProcessRecord & { startedAt: string };
  stateDir: string;
  /** The emulators' process groups, recorded as soon as each starts (so a crash leaves them named). */
  groups: GroupRecord[];
  stack: LocalStackInfo | null;
}

export type LocalStackStatus =
  | { kind: 'none'; file: string }
  /** The file's owner is gone (killed), or the file is unreadable or from an older version. */
  | { kind: 'stale'; file: string; record: StackFile | null; reason: string }
  | { kind: 'live'; file: string; record: StackFile };

/** The process's start time from /proc (null where there is no /proc, or it is gone). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie has exited: it holds nothing, it only waits to be reaped.
    return fields[0] === 'Z' ? null : (fields[19] ?? null);
  } catch {
    return null;
  }
}

const hasProc = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

/** Whether the recorded process still runs: the pid exists and, where /proc tells, started when recorded. */
export function processAlive(record: ProcessRecord): boolean {
  try {
    process.kill(record.pid, 0);
  } catch (error) {
    // EPERM: it exists, as another user's process.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!hasProc) return true;
  const now = processStartTime(record.pid);
  return now !== null && (record.startTime === null || now === record.startTime);
}

/** A path as the user would type it from where they are: relative when it is below, absolute otherwise. */
export function shownPath(path: string, from = process.cwd()): string {
  const rel = relative(from, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

export function readStackStatus(stateDir = DEFAULT_STATE_DIR): LocalStackStatus {
  const file = join(stateDir, STACK_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none', file };
    return { kind: 'stale', file, record: null, reason: `it cannot be read (${(error as Error).message})` };
  }
  let record: StackFile;
  try {
    record = JSON.parse(text) as StackFile;
  } catch {
    return { kind: 'stale', file, record: null, reason: 'it is not valid JSON' };
  }
  if (record.version !== STACK_FILE_VERSION || !record.owner) return { kind: 'stale', file, record: null, reason: 'an older npm start wrote it, without an owner to check' };
  if (!processAlive(record.owner)) return { kind: 'stale', file, record, reason: `the npm start that wrote it (pid ${record.owner.pid}) is gone` };
  return { kind: 'live', file, record };
}

/** The running stack's details, or null when none is running here (no file, a stale one, or still starting). */
export function readLocalStack(stateDir = DEFAULT_STATE_DIR): LocalStackInfo | null {
  const status = readStackStatus(stateDir);
  return status.kind === 'live' && status.record.state === 'running' ? status.record.stack : null;
}

/** Why no running stack can be used here, in one line with what to do; null when one can. */
export function noStackReason(status: LocalStackStatus): string | null {
  switch (status.kind) {
    case 'none':
      return `no local stack is running (${status.file} is missing): run npm start first`;
    case 'stale':
      return `no local stack is running: ${shownPath(status.file)} is stale (${status.reason}); run npm start, which recovers from it`;
    case 'live':
      if (status.record.state === 'running') return null;
      return `the local stack (pid ${status.record.owner.pid}) is ${status.record.state}: try again in a few seconds`;
  }
}
