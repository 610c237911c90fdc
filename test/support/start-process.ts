/**
 * `npm start` as a real process (what npm runs: node with the tsx loader on scripts/start.ts), with
 * its own state directory, and the facts the tests check about it: the ports it holds, whether they
 * are listening, and on which addresses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/local/function-process.js';
import { readStackStatus, type StackFile } from '../../scripts/local/stack-file.js';
import { waitFor } from './waiting.js';

export interface StartProcess {
  child: ChildProcess;
  stateDir: string;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

/** Starts it with the test run's environment plus `env` (undefined removes a variable). */
export function spawnStart(env: Record<string, string | undefined>, stateDir = mkdtempSync(join(tmpdir(), 'npm-start-')), args: string[] = []): StartProcess {
  const merged: Record<string, string | undefined> = { ...process.env, LOCAL_ECHO_LOGS: '0', CIO_LOCAL_STATE_DIR: stateDir, ...env };
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/start.ts'), ...args], {
    cwd: ROOT,
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stateDir, output: () => ({ stdout, stderr }), exited };
}

/** Resolves with the stack file once the stack runs and has printed its banner; throws with its output if it exits first. */
export async function runningStack(start: StartProcess, timeoutMs = 90_000): Promise<StackFile> {
  let record: StackFile | null = null;
  await waitFor(() => {
    if (start.child.exitCode !== null) throw new Error(`npm start exited with ${start.child.exitCode}: ${JSON.stringify(start.output())}`);
    const status = readStackStatus(start.stateDir);
    if (status.kind === 'live' && status.record.state === 'running') record = status.record;
    return record !== null && start.output().stdout.includes('  stop:');
  }, { timeoutMs, what: 'npm start to be running' });
  return record!;
}

/** Every port the stack holds: the receiver, the handler and the emulators. */
export function stackPorts(record: StackFile): number[] {
  const { stack } = record;
  return [new URL(stack!.receiverUrl).port, new URL(stack!.handlerUrl).port, stack!.pubsubHost.split(':').pop(), stack!.firestoreHost.split(':').pop()].map(Number);
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host, timeout: 2000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/** The local addresses listening on `port`, from /proc/net/tcp and tcp6 (Linux), as hex strings; null without /proc. */
export function listeningAddresses(port: number): string[] | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      return null;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const [address, p] = local!.split(':');
      if (state === '0A' && p === hexPort) addresses.push(address!);
    }
  }
  return addresses;
}

/** 127.0.0.1 (tcp), ::ffff:127.0.0.1 or ::1 (tcp6), as /proc writes them. */
export const LOOPBACK_HEX = ['0100007F', '0000000000000000FFFF00000100007F', '00000000000000000000000001000000'];
