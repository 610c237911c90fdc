/**
 * `ops replay`: make the pipeline see events again — by seeking a subscription back (to a time or a
 * snapshot, within the topic's retention), or, for history older than that, from the warehouse.
 */
import { attributesOf } from '../../shared/row.js';
import { CommandFailed, UsageError, parse } from '../cli.js';
import { confirm } from '../confirm.js';
import { boundedEach } from '../drain.js';
import { SUBSCRIPTION_HELP, resolveSubscription } from '../subscriptions.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget, type Target } from '../target.js';
import { TIME_HELP, parseRange, parseTime } from '../time.js';
import type { WorkspaceScope } from '../warehouse/reader.js';
import { WORKSPACE_OPTION, scopeText, workspaceScope } from '../workspaces.js';
import { checkSnapshotName, originIs, snapshotOrigin } from './snapshot.js';

export const REPLAY_HELP = `usage: npm run ops -- replay --subscription SUB (--time TIME | --snapshot NAME [--force]) [--yes]
       npm run ops -- replay --from-warehouse --since TIME [--until TIME] [--object-type T] [--metric M] [--workspace W] [--yes]

Seek: Pub/Sub redelivers to SUB everything the topic retained since TIME (RETENTION_DAYS, at most
31 days), or everything since a snapshot of SUB. The handler's dedupe records make a replay cost no
second Customer.io call; the warehouse gets duplicate rows, which events_unique absorbs. A seek
takes up to a minute to take effect. A time in the future is refused: seeking there acknowledges
everything published before it — a purge, not a replay.

From the warehouse: for history beyond the topic's retention (after a policy change, say). Reads
the distinct events whose event time is in [--since, --until) from the warehouse and publishes them
to the replay topic, which reaches the handler only (no warehouse row is written again), with their
original attributes and replay=warehouse. Done events are not acted on twice (their dedupe records
live DEDUPE_TTL_DAYS); events older than that are acted on again, with their own _timestamp, so an
old event never overwrites newer attributes in Customer.io. With several Customer.io workspaces,
--workspace W replays only W's events; each replayed message keeps its workspace (attribute and
row), so the handler acts with that workspace's credentials. A seek cannot choose a workspace: it
redelivers every workspace's messages.

  --subscription SUB   ${SUBSCRIPTION_HELP}
  --time TIME          ${TIME_HELP}
  --snapshot NAME      a snapshot made with: ops snapshot create
  --force              seek to a snapshot made from another subscription (or of unknown origin)
  --from-warehouse     replay from the warehouse instead of seeking
  --since, --until     event times to replay from the warehouse (${TIME_HELP}; --until default now)
  --object-type T, --metric M   only these events
  --workspace W        only workspace W's events (--from-warehouse)
  --yes                do not ask for confirmation
${TARGET_HELP}`;

const REPLAY_PAGE = 500;

/** The seek target, checked before anything is contacted. */
function seekArguments(values: { subscription?: string; time?: string; snapshot?: string }): { subscription: string; time: Date | undefined } {
  if (!values.subscription) throw new UsageError('replay needs --subscription (or --from-warehouse)');
  if ((values.time === undefined) === (values.snapshot === undefined)) throw new UsageError('replay needs exactly one of --time or --snapshot');
  if (values.snapshot !== undefined) checkSnapshotName(values.snapshot);
  const now = new Date();
  const time = values.time === undefined ? undefined : parseTime('time', values.time, now);
  if (time && time.getTime() > now.getTime() + 1000) {
    throw new UsageError(`--time ${time.toISOString()} is in the future: seeking there acknowledges every message published before it, a purge, not a replay`);
  }
  return { subscription: values.subscription, time };
}

async function seek(target: Target, { subscription: alias, time }: ReturnType<typeof seekArguments>, values: { snapshot?: string; force?: boolean; yes?: boolean }): Promise<number> {
  const name = resolveSubscription(target, alias);
  const subscription = target.pubsub.subscription(name);
  const [exists] = await subscription.exists();
  if (!exists) throw new CommandFailed(`subscription ${name} does not exist in ${target.project}`);
  let what: string;
  if (time) {
    what = `everything the topic retained since ${time.toISOString()}`;
    if (name === target.warehouseSubscription) {
      const rows = await target.warehouse.rowsPublishedSince(time, name);
      what += ` (at least ${rows} rows were written from it since then; they will be written again)`;
    }
  } else {
    const origin = await snapshotOrigin(target, values.snapshot!);
    if (!originIs(origin, name) && !values.force) {
      throw new CommandFailed(`snapshot ${values.snapshot} was made from ${origin ?? 'an unknown subscription'}, not ${name}: seeking ${name} to it acknowledges and redelivers by another subscription's state; pass --force if that is meant`);
    }
    what = `everything since snapshot ${values.snapshot}`;
  }
  if (!(await confirm(`Seek ${name} in ${target.project} back: ${what} will be redelivered.`, values.yes))) {
    process.stdout.write('not replayed\n');
    return 1;
  }
  await subscription.seek(time ?? values.snapshot!);
  process.stdout.write(`seeked ${name}: ${what} is being redelivered (a seek takes up to a minute to take effect)\n`);
  return 0;
}

async function fromWarehouse(target: Target, values: { since?: string; until?: string; 'object-type'?: string; metric?: string; yes?: boolean }, workspaces: WorkspaceScope): Promise<number> {
  const range = parseRange(values.since!, values.until);
  const selection = { range, objectType: values['object-type'], metric: values.metric, ...(workspaces.only !== null ? { workspace: workspaces.only } : {}) };
  const total = await target.warehouse.countForReplay(selection);
  const scope = `${total} event(s)${scopeText(workspaces)} with event times in [${range.from.toISOString()}, ${range.to.toISOString()})${selection.objectType ? ` object_type=${selection.objectType}` : ''}${selection.metric ? ` metric=${selection.metric}` : ''}`;
  if (total === 0) {
    process.stdout.write(`nothing to replay: no ${scope.slice(2)}\n`);
    return 0;
  }
  if (!(await confirm(`Send ${scope} from the ${target.warehouse.describe} to the handler (topic ${target.names.replayTopic})?`, values.yes))) {
    process.stdout.write('not replayed\n');
    return 1;
  }
  const topic = target.pubsub.topic(target.names.replayTopic);
  let sent = 0;
  let failed = 0;
  await target.warehouse.readForReplay(selection, REPLAY_PAGE, async (rows) => {
    const result = await boundedEach(rows, 32, async (row) => {
      await topic.publishMessage({ data: Buffer.from(JSON.stringify(row)), attributes: { ...attributesOf(row), replay: 'warehouse' } });
    });
    sent += result.done.length;
    failed += result.failed.length;
    process.stdout.write(`sent ${sent} of ${total}${failed ? ` (${failed} failed)` : ''}\n`);
  });
  process.stdout.write(`replayed ${sent} event(s) from the warehouse to ${target.names.replayTopic}${failed ? `; ${failed} could not be published` : ''}\n`);
  return failed === 0 ? 0 : 1;
}

export async function replay(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...TARGET_OPTIONS,
    subscription: { type: 'string' },
    time: { type: 'string' },
    snapshot: { type: 'string' },
    force: { type: 'boolean' },
    'from-warehouse': { type: 'boolean' },
    since: { type: 'string' },
    until: { type: 'string' },
    'object-type': { type: 'string' },
    metric: { type: 'string' },
    ...WORKSPACE_OPTION,
    yes: { type: 'boolean' },
  });
  if (values.help) return void process.stdout.write(`${REPLAY_HELP}\n`), 0;
  if (values['from-warehouse'] && (values.subscription || values.time || values.snapshot)) throw new UsageError('--from-warehouse takes --since/--until, not --subscription, --time or --snapshot');
  // Check the arguments before connecting anywhere.
  const seekTo = values['from-warehouse'] ? null : seekArguments(values);
  if (values['from-warehouse'] && !values.since) throw new UsageError('replay --from-warehouse needs --since');
  // Pub/Sub seeks a whole subscription: it has no way to redeliver one workspace's messages only.
  if (seekTo && values.workspace !== undefined) throw new UsageError('--workspace needs --from-warehouse: a seek redelivers every workspace\'s messages (Pub/Sub cannot seek a subset)');
  const plan = seekTo ? ({ kind: 'seek', seekTo } as const) : ({ kind: 'warehouse', scope: workspaceScope(values) } as const);
  const target = await resolveTarget(values);
  try {
    return plan.kind === 'seek' ? await seek(target, plan.seekTo, values) : await fromWarehouse(target, values, plan.scope);
  } finally {
    await target.close();
  }
}
