import { PUBSUB_ID_RULE, pubsubIdProblem } from '../infra/names.js';
import { UsageError } from './cli.js';
import type { Target } from './target.js';

/** Short names for the pipeline's subscriptions; anything else is taken as a subscription id (checked against Pub/Sub's rule). */
export function resolveSubscription(target: Target, name: string): string {
  const aliases: Record<string, string> = {
    handler: target.names.pushSubscription,
    warehouse: target.warehouseSubscription,
    bigquery: target.warehouseSubscription,
    dlq: target.names.deadLetterSubscription,
    replay: target.names.replaySubscription,
  };
  const alias = aliases[name];
  if (alias) return alias;
  const problem = pubsubIdProblem(name);
  if (problem) throw new UsageError(`--subscription ${JSON.stringify(name)} is not an alias (${Object.keys(aliases).join(', ')}) and as a subscription id it ${problem}: ${PUBSUB_ID_RULE}`);
  return name;
}

export const SUBSCRIPTION_HELP = 'SUB is handler, warehouse (the BigQuery subscription, or the local sink\'s), dlq, replay, or a subscription id';
