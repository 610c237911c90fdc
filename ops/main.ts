/**
 * `npm run ops -- <command>`: the operator's tool for the deployed pipeline and the local stack.
 * Exit codes: 0 done, 1 failed (or declined), 2 wrong arguments; doctor 3 for an incomplete verdict. A command's module is loaded only
 * when it runs, so `ops stats --local` does not load the doctor's stack synthesis, nor the reverse.
 */
import { UsageError, runCli } from './cli.js';

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { load: () => Promise<Command>; summary: string }> = {
  doctor: { load: async () => (await import('./commands/doctor.js')).doctor, summary: 'check a project before the first deploy (read-only)' },
  trace: { load: async () => (await import('./commands/trace.js')).trace, summary: 'everything known about one event, end to end (by its id, or its request\'s trace id)' },
  replay: { load: async () => (await import('./commands/replay.js')).replay, summary: 'seek a subscription back, or replay history from the warehouse' },
  snapshot: { load: async () => (await import('./commands/snapshot.js')).snapshot, summary: 'create, list or delete subscription snapshots' },
  dlq: { load: async () => (await import('./commands/dlq.js')).dlq, summary: 'show the dead-letter backlog, redrive it into the topic' },
  smoke: { load: async () => (await import('./commands/smoke.js')).smoke, summary: 'send one signed event, wait for its warehouse row' },
  stats: { load: async () => (await import('./commands/stats.js')).stats, summary: 'counts per object type and metric over a window' },
  deliverability: { load: async () => (await import('./commands/deliverability.js')).deliverability, summary: 'complaint and bounce rates per message source, judged, worst first' },
  erase: { load: async () => (await import('./commands/erase.js')).erase, summary: 'delete one person\'s rows from the events table' },
  queries: { load: async () => (await import('./commands/queries.js')).queries, summary: 'run the analyst guide\'s queries' },
  'invoker-check': { load: async () => (await import('./commands/invoker-check.js')).invokerCheck, summary: 'show or turn off Cloud Run\'s invoker check on the receiver' },
};

export const HELP = `usage: npm run ops -- <command> [options]   (every command takes --help)

${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)}${c.summary}`).join('\n')}

Add --local to work on the running npm start stack (every command but doctor and invoker-check, which
read a Google Cloud project); otherwise --project (or GOOGLE_CLOUD_PROJECT).
With several Customer.io workspaces (CIO_WORKSPACES), --workspace W keeps one workspace's events
in stats, trace, replay --from-warehouse, deliverability, erase and smoke.
exit status: 0 done, 1 failed, declined or refused, 2 wrong arguments (doctor: 3 when a check could not run)`;

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? 2 : 0;
  }
  const entry = COMMANDS[command];
  if (!entry) throw new UsageError(`unknown command ${JSON.stringify(command)}: ${Object.keys(COMMANDS).join(', ')}`);
  return (await entry.load())(rest);
}

runCli('ops', main);
