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
    /** Warehouse rows sent back to the handler only (ops replay --from-warehouse). */
    replayTopic: `${prefix}-events-replay`,
    replaySubscription: `${prefix}-events-replay-handler`,
    /** The raw events: email addresses, recipients and whole payloads. */
    dataset: `${prefix}_webhooks`,
    /** Pseudonymized views for analysts: keyed hashes instead of addresses, no message content. */
    analyticsDataset: `${prefix}_analytics`,
    receiver: `${prefix}-receiver`,
    handler: `${prefix}-handler`,
    /** The deliverability guard's function, and the Cloud Scheduler job that runs it. */
    guard: `${prefix}-guard`,
    guardJob: `${prefix}-deliverability-guard`,
    /** A named Firestore database of its own: a project's "(default)" may belong to something else. */
    dedupeDatabase: `${prefix}-dedupe`,
    functionsRepository: `${prefix}-functions`,
  } as const;
}

export type PipelineNames = ReturnType<typeof pipelineNames>;

export const DEFAULT_PREFIX = 'cio';
/** The stack's id: its Terraform directory is cdktf.out/stacks/<STACK_NAME>. */
export const STACK_NAME = 'cio-webhooks';
/** The handler's default collection (DEDUPE_COLLECTION); the TTL policy must name the same one. */
export const DEDUPE_COLLECTION = SETTINGS.dedupeCollection.default;
