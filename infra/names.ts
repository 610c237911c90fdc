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

/**
 * The operator-filled secrets of one Customer.io workspace: today's names with one workspace
 * (workspace null), `<prefix>-<workspace>-…` with several, so adding a workspace adds three secrets
 * and renames none. The stack creates them, the functions read them by name, doctor checks them.
 */
export function workspaceSecretIds(prefix: string, workspace: string | null) {
  const base = workspace === null ? prefix : `${prefix}-${workspace}`;
  return {
    signingKeys: `${base}-webhook-signing-keys`,
    siteId: `${base}-track-site-id`,
    trackApiKey: `${base}-track-api-key`,
  } as const;
}

export const DEFAULT_PREFIX = 'cio';
/** The stack's id: its Terraform directory is cdktf.out/stacks/<STACK_NAME>. */
export const STACK_NAME = 'cio-webhooks';
/** The handler's default collection (DEDUPE_COLLECTION); the TTL policy must name the same one. */
export const DEDUPE_COLLECTION = SETTINGS.dedupeCollection.default;

/**
 * Pub/Sub's rule for topic, subscription and snapshot ids (the API's resource-name documentation,
 * google/pubsub/v1/pubsub.proto): 3–255 characters, starting with a letter, of letters, digits and
 * - _ . ~ + %, not starting with "goog". Returns what `id` breaks, or null.
 */
export function pubsubIdProblem(id: string): string | null {
  if (id.length < 3) return 'is shorter than 3 characters';
  if (id.length > 255) return 'is longer than 255 characters';
  if (!/^[A-Za-z]/.test(id)) return 'does not start with a letter';
  const bad = [...new Set(id.replace(/[A-Za-z0-9\-_.~+%]/g, ''))];
  if (bad.length > 0) return `holds ${bad.map((c) => JSON.stringify(c)).join(', ')}`;
  if (id.startsWith('goog')) return 'starts with "goog"';
  return null;
}

export const PUBSUB_ID_RULE = 'Pub/Sub names are 3–255 characters, start with a letter, hold only letters, digits and - _ . ~ + %, and do not start with "goog"';
