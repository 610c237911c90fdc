/** `ops replay` and `ops snapshot`: seek-based replay (Pub/Sub keeps acked messages for it). */
import { CommandFailed, UsageError, parse } from '../lib/cli.js';
import { confirm } from './confirm.js';
import { SUBSCRIPTION_HELP, resolveSubscription } from './subscriptions.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget } from './target.js';

export const REPLAY_HELP = `usage: npm run ops -- replay --subscription SUB (--time TIME | --snapshot NAME) [--yes]

Seeks a subscription back so Pub/Sub redelivers what it has retained since TIME (or since the
snapshot). The handler's dedupe makes a replay cause no second Customer.io call; the warehouse gets
duplicate rows, which events_unique absorbs.

  --subscription SUB   ${SUBSCRIPTION_HELP}
  --time TIME          ISO 8601 time, or an age such as 30m, 6h, 2d
  --snapshot NAME      a snapshot made with: ops snapshot create
  --yes                do not ask for confirmation
${TARGET_HELP}`;

export const SNAPSHOT_HELP = `usage: npm run ops -- snapshot create NAME --subscription SUB
       npm run ops -- snapshot list
       npm run ops -- snapshot delete NAME [--yes]

Snapshots keep a subscription's unacked backlog and acked state at one moment (up to 7 days), to
seek back to exactly that point later.
${TARGET_HELP}`;

/** "30m", "6h", "2d" before now, or an ISO 8601 time. */
export function parseTime(value: string, now = new Date()): Date {
  const age = /^(\d+)([smhd])$/.exec(value);
  if (age) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[age[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(age[1]) * unit * 1000);
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`--time must be an ISO 8601 time or an age like 30m, 6h, 2d (got ${JSON.stringify(value)})`);
  return new Date(ms);
}

export async function replay(args: string[]): Promise<number> {
  const { values } = parse(args, { ...TARGET_OPTIONS, subscription: { type: 'string' }, time: { type: 'string' }, snapshot: { type: 'string' }, yes: { type: 'boolean' } });
  if (values.help) return void process.stdout.write(`${REPLAY_HELP}\n`), 0;
  if (!values.subscription) throw new UsageError('replay needs --subscription');
  if ((values.time === undefined) === (values.snapshot === undefined)) throw new UsageError('replay needs exactly one of --time or --snapshot');
  const time = values.time === undefined ? undefined : parseTime(values.time);
  const target = resolveTarget(values);
  try {
    const name = resolveSubscription(target, values.subscription);
    const subscription = target.pubsub.subscription(name);
    const [exists] = await subscription.exists();
    if (!exists) throw new CommandFailed(`subscription ${name} does not exist in ${target.project}`);
    let what = time ? `everything retained since ${time.toISOString()}` : `everything since snapshot ${values.snapshot}`;
    if (time && name === target.warehouseSubscription) {
      const rows = await target.warehouse.rowsPublishedSince(time, name);
      what += ` (${rows} rows were written from it in that window; they will be written again)`;
    }
    if (!(await confirm(`Seek ${name} in ${target.project} back: ${what} will be redelivered.`, values.yes))) {
      process.stdout.write('not replayed\n');
      return 1;
    }
    await subscription.seek(time ?? values.snapshot!);
    process.stdout.write(`seeked ${name}: ${what} is being redelivered\n`);
    return 0;
  } finally {
    await target.close();
  }
}

export async function snapshot(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...TARGET_OPTIONS, subscription: { type: 'string' }, yes: { type: 'boolean' } }, true);
  const [action, snapshotName] = positionals;
  if (values.help || action === undefined) {
    process.stdout.write(`${SNAPSHOT_HELP}\n`);
    return values.help ? 0 : 2;
  }
  const target = resolveTarget(values);
  try {
    switch (action) {
      case 'create': {
        if (!snapshotName || !values.subscription) throw new UsageError('snapshot create needs NAME and --subscription');
        const name = resolveSubscription(target, values.subscription);
        await target.pubsub.subscription(name).createSnapshot(snapshotName);
        process.stdout.write(`created snapshot ${snapshotName} of ${name} (kept up to 7 days)\n`);
        return 0;
      }
      case 'list': {
        const [snapshots] = await target.pubsub.getSnapshots();
        if (snapshots.length === 0) process.stdout.write('no snapshots\n');
        for (const s of snapshots) process.stdout.write(`${s.name.split('/').pop()}\n`);
        return 0;
      }
      case 'delete': {
        if (!snapshotName) throw new UsageError('snapshot delete needs NAME');
        if (!(await confirm(`Delete snapshot ${snapshotName} in ${target.project}?`, values.yes))) return 1;
        await target.pubsub.snapshot(snapshotName).delete();
        process.stdout.write(`deleted snapshot ${snapshotName}\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown snapshot action ${JSON.stringify(action)}: create, list or delete`);
    }
  } finally {
    await target.close();
  }
}
