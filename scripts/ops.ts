/**
 * `npm run ops -- <command>`: the operator's tool for the deployed pipeline and the local stack.
 * Exit codes: 0 done, 1 failed (or declined), 2 wrong arguments.
 */
import { UsageError, runCli } from './lib/cli.js';
import { DLQ_HELP, dlq } from './ops/dlq.js';
import { REPLAY_HELP, SNAPSHOT_HELP, replay, snapshot } from './ops/replay.js';
import { SMOKE_HELP, smoke } from './ops/smoke.js';
import { STATS_HELP, stats } from './ops/stats.js';

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number>; help: string; summary: string }> = {
  replay: { run: replay, help: REPLAY_HELP, summary: 'seek a subscription back to a time or a snapshot' },
  snapshot: { run: snapshot, help: SNAPSHOT_HELP, summary: 'create, list or delete subscription snapshots' },
  dlq: { run: dlq, help: DLQ_HELP, summary: 'show the dead-letter backlog, redrive it into the topic' },
  smoke: { run: smoke, help: SMOKE_HELP, summary: 'send one signed event, wait for its warehouse row' },
  stats: { run: stats, help: STATS_HELP, summary: 'counts per object type and metric over a window' },
};

export const HELP = `usage: npm run ops -- <command> [options]   (every command takes --help)

${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`).join('\n')}

Add --local to work on the running npm start stack; otherwise --project (or GOOGLE_CLOUD_PROJECT).
exit status: 0 done, 1 failed or declined, 2 wrong arguments`;

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? 2 : 0;
  }
  const entry = COMMANDS[command];
  if (!entry) throw new UsageError(`unknown command ${JSON.stringify(command)}: ${Object.keys(COMMANDS).join(', ')}`);
  return entry.run(rest);
}

runCli('ops', main);
