/**
 * The deliverability guard on the local stack: the deployed guard's own code (functions/guard.ts)
 * run on a timer in the `npm start` process, against the DuckDB warehouse's analytics schema. Its
 * JSON lines go to .local/logs/guard.log (what Cloud Logging holds when deployed) and, like the
 * functions' lines, to the terminal. Runs never overlap: a run still going when the next is due
 * makes that one wait for the following tick.
 */
import { createWriteStream } from 'node:fs';
import { runGuard, type GuardReport } from '../../functions/guard.js';
import type { DeliverabilityConfig } from '../../shared/deliverability.js';
import { createLogger } from '../../shared/log.js';
import { duckdbReader } from '../../ops/warehouse/duckdb.js';

/** "At least once a minute": often enough to see a spike while it happens on a laptop. */
export const LOCAL_GUARD_INTERVAL_MS = 60_000;

export interface LocalGuardOptions {
  warehousePath: string;
  config: DeliverabilityConfig;
  intervalMs?: number;
  logFile: string;
  echo?: NodeJS.WritableStream;
  echoFormat?: (line: string, target: string) => string;
}

export interface LocalGuard {
  /** Every line the guard logged, in order. */
  lines: string[];
  /** Runs once now (after any run in progress); null when the run failed (its ERROR line says why). */
  runNow(): Promise<GuardReport | null>;
  stop(): Promise<void>;
}

export function startLocalGuard(options: LocalGuardOptions): LocalGuard {
  const lines: string[] = [];
  const file = createWriteStream(options.logFile, { flags: 'a' });
  const logger = createLogger({
    base: { component: 'guard' },
    write: (line) => {
      lines.push(line);
      file.write(`${line}\n`);
      options.echo?.write(`${options.echoFormat ? options.echoFormat(line, 'guard') : `[guard] ${line}`}\n`);
    },
  });
  const reader = duckdbReader(options.warehousePath);
  const read = async (window: { from: Date; to: Date }) => ({ rows: await reader.deliverability(window) });
  let running: Promise<GuardReport | null> = Promise.resolve(null);
  /** Runs queued or in progress. */
  let queued = 0;
  const run = () => {
    queued += 1;
    running = running.then(async () => {
      try {
        return await runGuard({ config: options.config, read, logger });
      } catch {
        return null; // logged by runGuard; the next tick tries again
      } finally {
        queued -= 1;
      }
    });
    return running;
  };
  const timer = setInterval(() => {
    if (queued === 0) void run();
  }, options.intervalMs ?? LOCAL_GUARD_INTERVAL_MS);
  void run();
  return {
    lines,
    runNow: run,
    async stop() {
      clearInterval(timer);
      await running;
      await new Promise<void>((resolve) => file.end(resolve));
    },
  };
}
