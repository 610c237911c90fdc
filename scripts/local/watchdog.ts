/**
 * Nothing the local stack starts outlives it, however the stack ends — even by SIGKILL, which runs
 * no handler. Each child gets a watchdog: a tiny `sh` in a session of its own, blocked reading a
 * pipe whose other end only this process holds. When this process dies, for whatever reason, the
 * kernel closes that end; the read returns, and the watchdog stops the child (SIGTERM, then SIGKILL
 * after 3 s): the emulator's whole process group, or the function's process. Releasing it (after
 * the child was stopped the ordinary way) writes a line first, and the watchdog exits quietly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

// $1 is the kill target: "-PGID" for a process group, "PID" for one process.
const SCRIPT = `read line
[ "$line" = release ] && exit 0
kill -s TERM -- "$1" 2>/dev/null || exit 0
i=0
while [ "$i" -lt 30 ] && kill -0 -- "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -s KILL -- "$1" 2>/dev/null
exit 0`;

export interface Watchdog {
  /** The child was stopped the ordinary way: the watchdog exits without touching anything. */
  release(): void;
}

export function watchChild(target: { pid: number; group: boolean }): Watchdog {
  const dog: ChildProcess = spawn('sh', ['-c', SCRIPT, 'cio-watchdog', target.group ? `-${target.pid}` : String(target.pid)], {
    // Its own session: a terminal's hangup or Ctrl-C, meant for the stack, does not reach it.
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  dog.on('error', () => undefined);
  dog.stdin!.on('error', () => undefined);
  // Neither the watchdog nor its pipe keeps this process alive.
  dog.unref();
  (dog.stdin as unknown as Socket).unref?.();
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      dog.stdin!.end('release\n');
    },
  };
}
