/**
 * The Functions Framework answers unparseable bodies (malformed JSON, bad charset) itself, before
 * the function runs, and Express then prints the error object with console.error: a multi-line
 * stack trace carrying up to 10,000 characters of the rejected body. That breaks single-line
 * structured logging and copies attacker-controlled bytes into the logs. This turns exactly those
 * errors (body-parser's, recognisable by `type` and `status`) into one structured line without the
 * body; everything else passes through untouched.
 */
import type { Logger } from '../shared/log.js';

interface BodyParserError {
  type: string;
  status: number;
  message: string;
}

function isBodyParserError(value: unknown): value is BodyParserError {
  if (!(value instanceof Error)) return false;
  const candidate = value as Error & Partial<BodyParserError>;
  return typeof candidate.type === 'string' && typeof candidate.status === 'number' && candidate.status < 500;
}

export function routeFrameworkBodyErrors(logger: Logger, original: typeof console.error = console.error): typeof console.error {
  const replacement: typeof console.error = (...args: unknown[]) => {
    const [first] = args;
    if (args.length === 1 && isBodyParserError(first)) {
      logger.warn('request body rejected by the Functions Framework before the function ran', {
        status: first.status,
        type: first.type,
        reason: first.message.slice(0, 200),
      });
      return;
    }
    original(...args);
  };
  console.error = replacement;
  return replacement;
}
