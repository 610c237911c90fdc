/**
 * Destructive steps ask first; without a terminal to ask on, they need --yes. A refusal is a
 * declined step (exit 1, like answering no), not wrong arguments: the same command with --yes runs.
 */
import { createInterface } from 'node:readline/promises';
import { CommandFailed } from './cli.js';

export async function confirm(question: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) throw new CommandFailed(`${question} — refusing without --yes (no terminal to confirm on)`);
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(`${question} Type yes to continue: `)).trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}
