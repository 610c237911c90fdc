/**
 * The stack and the functions agree on what a deployed function reads with several workspaces: the
 * synthesized environment of each function holds every variable shared/config.ts's
 * receiverVariables / handlerVariables list for the workspaces the stack was given (and with one
 * workspace, the single-workspace lists), so a function never starts without one the stack forgot.
 */
import { describe, expect, it } from 'vitest';
import { handlerVariables, receiverVariables } from '../../shared/config.js';
import { parseWorkspaces } from '../../shared/workspaces.js';
import { type Resource, type Synth, named, one, synth } from '../support/synth.js';

type Fn = Resource & { service_config: { environment_variables: Record<string, string>; secret_environment_variables?: Array<{ key: string }> } };
const setIn = (s: Synth, name: string) => {
  const config = (one(s, 'google_cloudfunctions2_function', named(name)) as Fn).service_config;
  return [...Object.keys(config.environment_variables), ...(config.secret_environment_variables ?? []).map((v) => v.key)];
};

describe.each([[''], ['acme'], ['acme,beta:eu,gamma-2']])('CIO_WORKSPACES=%j', (raw) => {
  it('sets every variable the receiver and the handler read for those workspaces', () => {
    const s = synth(raw ? { CIO_WORKSPACES: raw } : {});
    const workspaces = parseWorkspaces(raw);
    for (const variable of receiverVariables(workspaces)) expect(setIn(s, 'cio-receiver'), variable).toContain(variable);
    for (const variable of handlerVariables(workspaces)) expect(setIn(s, 'cio-handler'), variable).toContain(variable);
  });
});
