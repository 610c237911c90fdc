/**
 * Structured logging in Cloud Logging's JSON format: one line per entry with `severity` and
 * `message`; other fields become jsonPayload. No payloads or keys are ever passed in here at INFO.
 */
import type { LogLevel } from './config.js';

export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every entry (e.g. the request's trace). */
  child(fields: LogFields): Logger;
}

const RANK: Record<Severity, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3 };
const LEVEL_SEVERITY: Record<LogLevel, Severity> = { debug: 'DEBUG', info: 'INFO', warning: 'WARNING', error: 'ERROR' };

export interface LoggerOptions {
  level?: LogLevel;
  /** Fields on every entry, e.g. { component: 'receiver' }. */
  base?: LogFields;
  write?: (line: string) => void;
}

export function createLogger({ level = 'info', base = {}, write = (line) => process.stdout.write(`${line}\n`) }: LoggerOptions = {}): Logger {
  const min = RANK[LEVEL_SEVERITY[level]];
  const emit = (severity: Severity, message: string, fields: LogFields = {}) => {
    if (RANK[severity] < min) return;
    write(JSON.stringify({ severity, message, ...base, ...fields }, errorReplacer));
  };
  return {
    debug: (m, f) => emit('DEBUG', m, f),
    info: (m, f) => emit('INFO', m, f),
    warn: (m, f) => emit('WARNING', m, f),
    error: (m, f) => emit('ERROR', m, f),
    child: (fields) => createLogger({ level, base: { ...base, ...fields }, write }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

/** A logger that keeps entries in memory: for tests and for the local stack's dry-run log. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { entries: LogFields[] } {
  const entries: LogFields[] = [];
  const logger = createLogger({ level, write: (line) => entries.push(JSON.parse(line) as LogFields) });
  return Object.assign(logger, { entries });
}
