/** Destructive steps ask first; without a terminal to ask on, they need --yes. */
import { createInterface } from 'node:readline/promises';
import { UsageError } from './cli.js';

export async function confirm(question: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) throw new UsageError(`${question} — refusing without --yes (no terminal to confirm on)`);
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(`${question} Type yes to continue: `)).trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}
