/** Runs one of the project's command-line scripts (send, ops, cost) the way npm does, capturing its output. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../scripts/local/function-process.js';

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

const ENTRY = { send: 'scripts/send.ts', ops: 'ops/main.ts', cost: 'scripts/bench/cost.ts' } as const;

/** `env` adds to this process's environment; a variable set to undefined is left out. */
export function runScript(script: keyof typeof ENTRY, args: string[], env: Record<string, string | undefined> = {}): Promise<ScriptResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, ENTRY[script]), ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}
