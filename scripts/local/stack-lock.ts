/**
 * One local stack per state directory. The stack file (stack-file.ts) is the lock: created
 * exclusively (O_EXCL) before anything starts, naming its owner; believed only while that owner
 * lives, so a stack killed with SIGKILL leaves no lock that blocks the next start. A second start
 * while the owner lives is refused, saying where the running one is and how to stop it.
 *
 * Taking over a stale file is a delete-then-create race between two starts that both found it
 * stale; the loser notices at its next update (the file is no longer its own) and stops.
 */
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { groupPids } from '../bench/proc-stats.js';
import {
  STACK_FILE,
  STACK_FILE_VERSION,
  shownPath,
  processAlive,
  processStartTime,
  readStackStatus,
  type GroupRecord,
  type LocalStackInfo,
  type LocalStackStatus,
  type StackFile,
} from './stack-file.js';

/** Another stack holds the state directory. */
export class StackAlreadyRunning extends Error {
  override readonly name = 'StackAlreadyRunning';
}

function refusal(status: Extract<LocalStackStatus, { kind: 'live' }>): string {
  const { owner, stack, state } = status.record;
  const where = shownPath(status.record.stateDir);
  const what = state === 'running' && stack ? `is already running (pid ${owner.pid}, receiver ${stack.receiverUrl}, state in ${where})` : `is ${state} (pid ${owner.pid}, state in ${where})`;
  return `a local stack ${what}: stop it with Ctrl-C in its terminal or \`kill ${owner.pid}\`, or give this one its own CIO_LOCAL_STATE_DIR (and PORT)`;
}

/** Whether a recorded group still has processes (its leader, verified by start time, or any member). */
function groupAlive(group: GroupRecord): boolean {
  if (processAlive(group)) return true;
  // The leader may be gone while its Java child holds the port: a pgid in use is never reused.
  try {
    return groupPids(group.pid).length > 0;
  } catch {
    return false;
  }
}

/** Stops what a dead stack left running (its watchdogs normally have already). Returns their names. */
async function reapGroups(groups: GroupRecord[]): Promise<string[]> {
  const left = groups.filter(groupAlive);
  for (const group of left) {
    try {
      process.kill(-group.pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
  for (let i = 0; i < 50 && left.some(groupAlive); i++) await new Promise((r) => setTimeout(r, 100));
  for (const group of left.filter(groupAlive)) {
    try {
      process.kill(-group.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return left.map((g) => `${g.name} (process group ${g.pid})`);
}

export class StackLock {
  private record: StackFile;

  private constructor(
    private readonly file: string,
    record: StackFile,
  ) {
    this.record = record;
  }

  /** Throws StackAlreadyRunning when a live stack holds the directory (before anything else is checked or started). */
  static refuseIfHeld(stateDir: string): void {
    const status = readStackStatus(stateDir);
    if (status.kind === 'live') throw new StackAlreadyRunning(refusal(status));
  }

  /**
   * Takes the state directory, or throws StackAlreadyRunning. A stale file is recovered from:
   * what its stack left running is stopped, and `onRecovered` says so.
   */
  static async acquire(stateDir: string, onRecovered: (message: string) => void = () => undefined): Promise<StackLock> {
    mkdirSync(stateDir, { recursive: true });
    const file = join(stateDir, STACK_FILE);
    const record: StackFile = {
      version: STACK_FILE_VERSION,
      state: 'starting',
      owner: { pid: process.pid, startTime: processStartTime(process.pid), startedAt: new Date().toISOString() },
      stateDir,
      groups: [],
      stack: null,
    };
    // Written aside and linked into place: the file appears whole, and only if none is there.
    const temporary = `${file}.${process.pid}`;
    writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          linkSync(temporary, file);
          return new StackLock(file, record);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const status = readStackStatus(stateDir);
        if (status.kind === 'live') throw new StackAlreadyRunning(refusal(status));
        if (status.kind === 'stale') {
          const reaped = await reapGroups(status.record?.groups ?? []);
          rmSync(file, { force: true });
          onRecovered(`${shownPath(file)} was stale (${status.reason}): ${reaped.length ? `stopped what it left running: ${reaped.join(', ')}` : 'nothing it started is still running'}`);
        }
      }
    } finally {
      rmSync(temporary, { force: true });
    }
    throw new StackAlreadyRunning(`could not take ${shownPath(file)}: another npm start is taking it at the same time`);
  }

  /** Records a change (a started emulator group, the running stack, stopping), as long as the file is still this stack's. */
  update(change: Partial<Pick<StackFile, 'state' | 'stack'>> & { group?: GroupRecord }): void {
    const current = this.read();
    if (!current || current.owner.pid !== this.record.owner.pid || current.owner.startedAt !== this.record.owner.startedAt) {
      throw new StackAlreadyRunning(`${shownPath(this.file)} was taken over by another npm start (pid ${current?.owner.pid ?? '?'}): stopping this one`);
    }
    const { group, ...fields } = change;
    this.record = { ...this.record, ...fields, groups: group ? [...this.record.groups, group] : this.record.groups };
    // Readers never see half a file: write aside, then rename over.
    const temporary = `${this.file}.${process.pid}`;
    writeFileSync(temporary, `${JSON.stringify(this.record, null, 2)}\n`);
    renameSync(temporary, this.file);
  }

  running(stack: LocalStackInfo): void {
    this.update({ state: 'running', stack });
  }

  /** Gives the directory up: removes the file if it is still this stack's. */
  release(): void {
    const current = this.read();
    if (current && current.owner.pid === this.record.owner.pid && current.owner.startedAt === this.record.owner.startedAt) rmSync(this.file, { force: true });
  }

  private read(): StackFile | null {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as StackFile;
    } catch {
      return null;
    }
  }
}
