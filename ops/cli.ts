/** Small helpers shared by the command-line entry points: usage errors, local stack discovery. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { noStackReason, readStackStatus, type LocalStackInfo } from '../scripts/local/stack-file.js';
import { googleFailure } from './google-errors.js';

export { readLocalStack, shownPath } from '../scripts/local/stack-file.js';

/** Wrong arguments: one line on stderr, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A command that ran and failed (timeout, missing resource): exit code 1. */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
}

/**
 * `--count -3` as `--count=-3`: parseArgs takes a value starting with a dash for another option
 * ("argument is ambiguous"); a negative number after an option that takes a value is that value,
 * so the option's own check can say what is wrong with it.
 */
function joinNegativeValues(args: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const takesValue = new Set<string>();
  for (const [name, option] of Object.entries(options)) {
    if (option.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (option.short) takesValue.add(`-${option.short}`);
  }
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (takesValue.has(args[i]!) && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${args[i]}=${next}`);
      i += 1;
    } else joined.push(args[i]!);
  }
  return joined;
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: joinNegativeValues(args, options), options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!);
  }
}

export function requireLocalStack(): LocalStackInfo {
  const status = readStackStatus();
  const reason = noStackReason(status);
  if (reason || status.kind !== 'live' || !status.record.stack) throw new CommandFailed(reason ?? 'no local stack is running: run npm start first');
  return status.record.stack;
}

/**
 * How any error a command ends with is said: one line and an exit code. The one place every
 * client's errors (gRPC, BigQuery, the REST calls, credentials) become the CLI's answer.
 */
export function describeFailure(error: unknown): { line: string; exitCode: 1 | 2 } {
  if (error instanceof UsageError) return { line: `${firstLine(error.message)} (see --help)`, exitCode: 2 };
  if (error instanceof CommandFailed) return { line: firstLine(error.message), exitCode: 1 };
  return { line: firstLine(googleFailure(error) ?? (error instanceof Error ? error.message : String(error))), exitCode: 1 };
}

const firstLine = (text: string) => text.split('\n')[0]!.trim();

/** Runs a CLI main, mapping errors to one line and an exit code scripts can use. */
export function runCli(name: string, main: () => Promise<number | void>): void {
  // A client library's background failure (an unhandled rejection) is answered the same way,
  // not with a stack trace.
  const fail = (error: unknown) => {
    const { line, exitCode } = describeFailure(error);
    process.stderr.write(`${name}: ${line}\n`);
    process.exit(exitCode);
  };
  process.on('unhandledRejection', fail);
  process.on('uncaughtException', fail);
  // Output piped into `head` and the like: a closed pipe ends the command quietly, as in any Unix tool.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  main().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (error: unknown) => {
      const { line, exitCode } = describeFailure(error);
      process.stderr.write(`${name}: ${line}\n`);
      process.exitCode = exitCode;
    },
  );
}

export function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${name} must be a positive whole number (got ${JSON.stringify(value)})`);
  return Number(value);
}

/** A count that may be 0. */
export function wholeNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, 0 or more (got ${JSON.stringify(value)})`);
  return Number(value);
}
