/**
 * The dedupe state machine (architecture doc, "Handler contract"). One record per event_id:
 *
 *   (absent) ──create()──▶ processing ──▶ done | rejected      terminal, carry expire_at (TTL)
 *                              │
 *                              └────────▶ failed               retryable
 *   processing with an expired lease, or failed ──reclaim (transaction)──▶ processing
 *
 * The record is written before the side effect and marked after it, so a crash never loses an action
 * and never repeats it while the lease holds. Pure: the Firestore adapter supplies records and time.
 */
import { createHash } from 'node:crypto';

export type DedupeStatus = 'processing' | 'done' | 'rejected' | 'failed';

export interface DedupeRecord {
  status: DedupeStatus;
  /** Epoch ms until which a `processing` claim belongs to its attempt. */
  leaseUntilMs: number;
  attempts: number;
}

export type ClaimVerdict =
  | { kind: 'reclaim' }
  | { kind: 'duplicate'; status: 'done' | 'rejected' }
  | { kind: 'busy'; leaseUntilMs: number };

/** What to do when a record already exists for the event. */
export function judgeExisting(record: DedupeRecord, nowMs: number): ClaimVerdict {
  switch (record.status) {
    case 'done':
    case 'rejected':
      return { kind: 'duplicate', status: record.status };
    case 'processing':
      return record.leaseUntilMs > nowMs ? { kind: 'busy', leaseUntilMs: record.leaseUntilMs } : { kind: 'reclaim' };
    case 'failed':
      return { kind: 'reclaim' };
  }
}

/**
 * Firestore document ids may not contain "/", be "." or "..", match __.*__ or exceed 1,500 bytes;
 * event_ids come from outside. A hash is safe for any input and spreads writes across the keyspace.
 */
export function dedupeDocumentId(eventId: string, workspace: string | null = null): string {
  // One workspace: the event id alone, as before workspaces existed, so an upgrade keeps every record.
  // Several: the workspace too (a newline cannot be part of a workspace name), so two workspaces'
  // events never share a record even if their ids were equal.
  return createHash('sha256').update(workspace === null ? eventId : `${workspace}\n${eventId}`, 'utf8').digest('hex');
}

const DAY_MS = 24 * 3600 * 1000;

export function expireAt(nowMs: number, ttlDays: number): Date {
  return new Date(nowMs + ttlDays * DAY_MS);
}
