import { describe, expect, it } from 'vitest';
import { routeFrameworkBodyErrors } from '../../functions/framework-errors.js';
import { createMemoryLogger } from '../../shared/log.js';

describe('errors Express prints for requests it answers itself', () => {
  const original = console.error;

  it('turns a client error (the router\'s undecodable URL, body-parser\'s) into one line without the stack or the whole input', () => {
    const logger = createMemoryLogger();
    const passed: unknown[][] = [];
    const route = routeFrameworkBodyErrors(logger, (...args) => passed.push(args));
    try {
      const url = `/%zz${'A'.repeat(14_000)}`;
      route(Object.assign(new URIError(`Failed to decode param '${url}'`), { status: 400, statusCode: 400 }));
      route(Object.assign(new SyntaxError('Unexpected token'), { status: 400, type: 'entity.parse.failed' }));
      expect(passed).toEqual([]);
      expect(logger.entries).toEqual([
        expect.objectContaining({ severity: 'WARNING', status: 400, type: 'URIError', reason: expect.stringMatching(/^Failed to decode param '\/%zzA+$/) }),
        expect.objectContaining({ status: 400, type: 'entity.parse.failed', reason: 'Unexpected token' }),
      ]);
      expect((logger.entries[0]!.reason as string).length).toBe(200);
      expect(JSON.stringify(logger.entries)).not.toContain('at ');
    } finally {
      console.error = original;
    }
  });

  it('passes everything else through: server errors, several arguments, plain values', () => {
    const logger = createMemoryLogger();
    const passed: unknown[][] = [];
    const route = routeFrameworkBodyErrors(logger, (...args) => passed.push(args));
    try {
      const crash = Object.assign(new Error('boom'), { status: 500 });
      route(crash);
      route('text', 1);
      route(new Error('no status'));
      expect(passed).toEqual([[crash], ['text', 1], [new Error('no status')]]);
      expect(logger.entries).toEqual([]);
    } finally {
      console.error = original;
    }
  });
});
