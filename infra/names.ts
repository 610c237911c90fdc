/**
 * Resource names, one definition for the stack and for the local stack (`npm start`) and the ops
 * CLI, so the local topology is the deployed one.
 */
import { SETTINGS } from '../shared/config.js';

export function pipelineNames(prefix: string) {
  return {
    topic: `${prefix}-events`,
    deadLetterTopic: `${prefix}-events-dlq`,
    deadLetterSubscription: `${prefix}-events-dlq`,
    pushSubscription: `${prefix}-events-handler`,
    bigquerySubscription: `${prefix}-events-bigquery`,
    dataset: `${prefix}_webhooks`,
    receiver: `${prefix}-receiver`,
    handler: `${prefix}-handler`,
  } as const;
}

export const DEFAULT_PREFIX = 'cio';
/** The handler's default collection (DEDUPE_COLLECTION); the TTL policy must name the same one. */
export const DEDUPE_COLLECTION = SETTINGS.dedupeCollection.default;
