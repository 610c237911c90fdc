/** Runs one of the project's command-line scripts (send, ops) the way npm does, capturing its output. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../scripts/lib/function-process.js';

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runScript(script: 'send' | 'ops', args: string[], env: Record<string, string> = {}): Promise<ScriptResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', `${script}.ts`), ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}
