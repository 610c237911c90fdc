import type { Target } from './target.js';

/** Short names for the pipeline's subscriptions; anything else is taken as a subscription id. */
export function resolveSubscription(target: Target, name: string): string {
  const aliases: Record<string, string> = {
    handler: target.names.pushSubscription,
    warehouse: target.warehouseSubscription,
    bigquery: target.warehouseSubscription,
    dlq: target.names.deadLetterSubscription,
    replay: target.names.replaySubscription,
  };
  return aliases[name] ?? name;
}

export const SUBSCRIPTION_HELP = 'SUB is handler, warehouse (the BigQuery subscription, or the local sink\'s), dlq, replay, or a subscription id';
