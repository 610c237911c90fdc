/** CPU time and peak memory of processes from /proc (Linux), for benchmark and soak reports. */
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) used so far by `pid`. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * Every running pid in the process group `pgid` (the emulators run as groups: gcloud wrapper + Java).
 * Zombies are left out: where PID 1 does not reap orphans, a dead Java process lingers as one.
 */
export function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

export function groupCpuSeconds(pgid: number): number {
  return groupPids(pgid).reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

/** Peak resident set size (VmHWM) in MiB. */
export function peakRssMiB(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

export function groupPeakRssMiB(pgid: number): number {
  return groupPids(pgid).reduce((sum, pid) => sum + peakRssMiB(pid), 0);
}
