/** `ops smoke`: one signed synthetic event in, its warehouse row out, with the end-to-end latency. */
import { randomUUID } from 'node:crypto';
import { CommandFailed, UsageError, parse, positiveInt, readLocalStack } from '../cli.js';
import { samplePayload } from '../../scripts/local/samples.js';
import { sendBodies } from '../../scripts/local/sender.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget } from '../target.js';
import { WORKSPACE_OPTION, localWorkspaceEndpoint, workspaceScope } from '../workspaces.js';

export const SMOKE_HELP = `usage: npm run ops -- smoke --url URL --key KEY [--workspace W] [--timeout SECONDS]

Sends one signed synthetic event (email delivered: no Customer.io action) to the receiver and waits
until its row is in the warehouse. Prints the end-to-end latency; exits 1 on timeout. Each poll
reads only the event's own day (its event_timestamp is known), with the byte cap.

With several Customer.io workspaces, --workspace W checks that the row carries W: the receiver took
the URL for W's (deployed, give W's URL and signing key; --local takes W's from the running stack,
and needs --workspace).

  --url URL            receiver URL (with --local: the local stack's)
  --key KEY            signing key (with --local: the local stack's dev key)
  --workspace W        the workspace the event is for (several workspaces)
  --timeout SECONDS    how long to wait for the row (default 120; BigQuery subscriptions write within seconds)
${TARGET_HELP}`;

/** The window the smoke event's row is looked for in: its own event time, give or take. */
const WINDOW_MS = 10 * 60_000;

export async function smoke(args: string[]): Promise<number> {
  const { values } = parse(args, { ...TARGET_OPTIONS, ...WORKSPACE_OPTION, url: { type: 'string' }, key: { type: 'string' }, timeout: { type: 'string' } });
  if (values.help) return void process.stdout.write(`${SMOKE_HELP}\n`), 0;
  const local = values.local ? readLocalStack() : null;
  const scope = workspaceScope(values);
  if (local && scope.several && scope.only === null) throw new UsageError('smoke --local needs --workspace: the local stack serves several workspaces, each at its own URL with its own key');
  // Locally, the workspace's own URL and key (npm start records them per workspace).
  const endpoint = local && scope.only !== null ? localWorkspaceEndpoint(local, scope.only) : null;
  const url = values.url ?? endpoint?.receiverUrl ?? local?.receiverUrl;
  const key = values.key ?? endpoint?.signingKey ?? local?.signingKey;
  if (!url || !key) throw new UsageError('smoke needs --url and --key (or --local with npm start running)');
  const timeoutMs = positiveInt('timeout', values.timeout, 120) * 1000;
  const target = await resolveTarget(values);
  try {
    const eventId = `smoke-${randomUUID()}`;
    const now = Date.now();
    const body = JSON.stringify(samplePayload('email', 'delivered', { eventId, timestamp: Math.floor(now / 1000) }));
    const range = { from: new Date(now - WINDOW_MS), to: new Date(now + WINDOW_MS) };
    const started = performance.now();
    const sent = await sendBodies({ url, key, bodies: [body] });
    if (sent.accepted.length !== 1) throw new CommandFailed(`receiver at ${url} answered ${Object.keys(sent.statuses).join(', ')}, not 2xx`);
    const acceptedMs = performance.now() - started;
    process.stdout.write(`accepted ${eventId} in ${acceptedMs.toFixed(0)} ms; waiting for its row in the ${target.warehouse.describe}\n`);
    while (performance.now() - started < timeoutMs) {
      // A query that fails (no access, no table, over the byte cap) ends the smoke test with its reason.
      const rows = await target.warehouse.findEvent(eventId, range);
      if (rows.length > 0 && scope.only !== null && rows[0]!.workspace !== scope.only) {
        throw new CommandFailed(`row arrived with workspace ${rows[0]!.workspace ?? '(none)'}, not ${scope.only}: ${url} is not ${scope.only}'s URL`);
      }
      if (rows.length > 0) {
        process.stdout.write(`row arrived: end-to-end ${((performance.now() - started) / 1000).toFixed(2)} s (receiver ${acceptedMs.toFixed(0)} ms)\n`);
        return 0;
      }
      await new Promise((r) => setTimeout(r, target.local ? 200 : 5000));
    }
    throw new CommandFailed(`no row for ${eventId} after ${timeoutMs / 1000} s: check the warehouse subscription (ops dlq show) and its backlog`);
  } finally {
    await target.close();
  }
}
