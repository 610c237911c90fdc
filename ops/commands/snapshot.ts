/** `ops snapshot create|list|delete`: points to seek a subscription back to (Pub/Sub keeps one 7 days at most). */
import { PUBSUB_ID_RULE, pubsubIdProblem } from '../../infra/names.js';
import { CommandFailed, UsageError, parse } from '../cli.js';
import { confirm } from '../confirm.js';
import { SUBSCRIPTION_HELP, resolveSubscription } from '../subscriptions.js';
import { TARGET_HELP, TARGET_OPTIONS, resolveTarget, type Target } from '../target.js';

export const SNAPSHOT_HELP = `usage: npm run ops -- snapshot create NAME --subscription SUB
       npm run ops -- snapshot list
       npm run ops -- snapshot delete NAME [--yes]

A snapshot keeps a subscription's unacknowledged messages and acknowledgement state at one moment,
to seek that subscription back to exactly there later (ops replay --snapshot). It expires 7 days
after the oldest message it holds was published — sooner when that message is already old — and
cannot be made when that leaves less than an hour. create prints the expiry Pub/Sub set, and labels
the snapshot with its subscription so a replay to another subscription is refused without --force.

  --subscription SUB   ${SUBSCRIPTION_HELP}
${TARGET_HELP}`;

/** The label a snapshot carries naming its subscription. Label values: lowercase, digits, - and _. */
const ORIGIN_LABEL = 'source_subscription';
const labelValue = (subscription: string) => subscription.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 63);
/** Whether a snapshot's recorded origin (a label value) is this subscription. */
export const originIs = (origin: string | null, subscription: string) => origin !== null && origin === labelValue(subscription);

const expiry = (value: unknown): string => {
  const seconds = (value as { seconds?: number | string | { toString(): string } } | null | undefined)?.seconds;
  return seconds === undefined || seconds === null ? 'unknown (not reported)' : new Date(Number(String(seconds)) * 1000).toISOString();
};

const grpcCode = (error: unknown) => (error as { code?: unknown }).code;

/** A snapshot name Pub/Sub would refuse, refused here first with the rule it breaks (exit 2). */
export function checkSnapshotName(name: string): string {
  const problem = pubsubIdProblem(name);
  if (problem) throw new UsageError(`snapshot name ${JSON.stringify(name)} ${problem}: ${PUBSUB_ID_RULE}`);
  return name;
}

/** Which subscription a snapshot was made from, as its label (or the local record) says; null if unknown. */
export async function snapshotOrigin(target: Target, snapshot: string): Promise<string | null> {
  const name = target.pubsub.snapshot(snapshot).name;
  try {
    const [found] = await target.subscriber.getSnapshot({ snapshot: name });
    return found.labels?.[ORIGIN_LABEL] ?? target.snapshotOrigins?.read(name) ?? null;
  } catch (error) {
    if (grpcCode(error) === 5) throw new CommandFailed(`snapshot ${snapshot} does not exist in ${target.project} (ops snapshot list shows those that do)`);
    throw error;
  }
}

export async function snapshot(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...TARGET_OPTIONS, subscription: { type: 'string' }, yes: { type: 'boolean' } }, true);
  const [action, snapshotName] = positionals;
  if (values.help || action === undefined) {
    process.stdout.write(`${SNAPSHOT_HELP}\n`);
    return values.help ? 0 : 2;
  }
  if (action === 'create' && (!snapshotName || !values.subscription)) throw new UsageError('snapshot create needs NAME and --subscription');
  if (action === 'delete' && !snapshotName) throw new UsageError('snapshot delete needs NAME');
  if (!['create', 'list', 'delete'].includes(action)) throw new UsageError(`unknown snapshot action ${JSON.stringify(action)}: create, list or delete`);
  if (snapshotName !== undefined && action !== 'list') checkSnapshotName(snapshotName);
  const target = await resolveTarget(values);
  try {
    if (action === 'create') {
      const name = resolveSubscription(target, values.subscription!);
      const snapshotPath = target.pubsub.snapshot(snapshotName!).name;
      try {
        const [created] = await target.subscriber.createSnapshot({
          name: snapshotPath,
          subscription: target.pubsub.subscription(name).name,
          labels: { [ORIGIN_LABEL]: labelValue(name) },
        });
        target.snapshotOrigins?.record(snapshotPath, labelValue(name));
        process.stdout.write(`created snapshot ${snapshotName} of ${name}; it expires ${expiry(created.expireTime)}\n`);
      } catch (error) {
        // FAILED_PRECONDITION: the oldest unacknowledged message would expire within the hour.
        if (grpcCode(error) === 9) throw new CommandFailed(`snapshot ${snapshotName} not created: ${(error as Error).message} (a snapshot must live at least an hour; its oldest message may be too old)`);
        if (grpcCode(error) === 6) throw new CommandFailed(`snapshot ${snapshotName} already exists in ${target.project}: delete it first (ops snapshot delete ${snapshotName}), or choose another name`);
        if (grpcCode(error) === 5) throw new CommandFailed(`subscription ${name} does not exist in ${target.project}`);
        throw error;
      }
      return 0;
    }
    if (action === 'list') {
      const [snapshots] = await target.subscriber.listSnapshots({ project: `projects/${target.project}` }, { autoPaginate: true });
      if (snapshots.length === 0) process.stdout.write('no snapshots\n');
      for (const s of snapshots) {
        const origin = s.labels?.[ORIGIN_LABEL] ?? (s.name ? target.snapshotOrigins?.read(s.name) : null) ?? '(unknown subscription)';
        process.stdout.write(`${s.name?.split('/').pop()}  of ${origin}  expires ${expiry(s.expireTime)}\n`);
      }
      return 0;
    }
    if (!(await confirm(`Delete snapshot ${snapshotName} in ${target.project}?`, values.yes))) return 1;
    const snapshotPath = target.pubsub.snapshot(snapshotName!).name;
    try {
      await target.subscriber.deleteSnapshot({ snapshot: snapshotPath });
    } catch (error) {
      if (grpcCode(error) === 5) throw new CommandFailed(`snapshot ${snapshotName} does not exist in ${target.project} (ops snapshot list shows those that do)`);
      throw error;
    }
    target.snapshotOrigins?.forget(snapshotPath);
    process.stdout.write(`deleted snapshot ${snapshotName}\n`);
    return 0;
  } finally {
    await target.close();
  }
}
