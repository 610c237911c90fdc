/**
 * Express answers some requests itself, before the function runs, and then prints the error object
 * with console.error: a multi-line stack trace that may carry the rejected body (body-parser's
 * errors quote up to 10,000 characters of it) or the whole URL (the router's "Failed to decode
 * param", 14 lines and 14 KB for one `POST /%zz…`). That breaks single-line structured logging and
 * copies attacker-controlled bytes into the logs. The request guard refuses those requests before
 * the framework sees them; this is the second line: any client error Express prints (an Error with
 * a 4xx `status`, as http-errors makes them) becomes one structured line without the stack, and
 * everything else passes through untouched.
 */
import type { Logger } from '../shared/log.js';

interface ClientError {
  status: number;
  message: string;
  type?: string;
}

/** Longest part of the error's message kept: enough to see what it was, not the whole body or URL. */
const MESSAGE_CHARS = 200;

function isClientError(value: unknown): value is Error & ClientError {
  if (!(value instanceof Error)) return false;
  const status = (value as Error & Partial<ClientError>).status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

export function routeFrameworkBodyErrors(logger: Logger, original: typeof console.error = console.error): typeof console.error {
  const replacement: typeof console.error = (...args: unknown[]) => {
    const [first] = args;
    if (args.length === 1 && isClientError(first)) {
      logger.warn('request rejected by the Functions Framework before the function ran', {
        status: first.status,
        type: first.type ?? first.name,
        reason: first.message.slice(0, MESSAGE_CHARS),
      });
      return;
    }
    original(...args);
  };
  console.error = replacement;
  return replacement;
}
