import { expect } from 'vitest';
import { ConfigError } from '../../shared/config.js';

/** The ConfigError `fn` throws; fails the test when it throws nothing or something else. */
export function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
