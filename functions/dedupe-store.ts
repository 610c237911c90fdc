/**
 * Adapter: the dedupe state machine of shared/dedupe.ts on Firestore, one document per event (per
 * workspace and event with several workspaces: dedupeDocumentId). `create()` is the claim (one
 * round trip for a new event, two with the done-write); a duplicate costs one read more; only a
 * reclaim (expired lease, failed attempt) costs a transaction.
 */
import { FieldValue, Timestamp, type Firestore } from '@google-cloud/firestore';
import { dedupeDocumentId, expireAt, judgeExisting, type DedupeRecord, type DedupeStatus } from '../shared/dedupe.js';
import { withDeadline } from '../shared/deadline.js';
import type { EventRow } from '../shared/row.js';

export type ClaimResult =
  | { kind: 'claimed'; attempt: number }
  | { kind: 'duplicate'; status: 'done' | 'rejected' }
  | { kind: 'busy'; leaseUntilMs: number };

export type Outcome = { status: 'done' } | { status: 'rejected' | 'failed'; error: string };

/** What a record is keyed by: the event id, and the workspace with several (shared/dedupe.ts). */
export type EventKey = Pick<EventRow, 'event_id' | 'workspace'>;

export interface DedupeStore {
  claim(row: EventRow, nowMs: number): Promise<ClaimResult>;
  finish(event: EventKey, outcome: Outcome, nowMs: number): Promise<void>;
}

export interface FirestoreDedupeOptions {
  firestore: Firestore;
  collection: string;
  leaseSeconds: number;
  ttlDays: number;
  /** Bound on each claim or finish; past it the handler nacks. */
  deadlineMs: number;
}

const ALREADY_EXISTS = 6;

function isAlreadyExists(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === ALREADY_EXISTS || code === 409 || code === 'ALREADY_EXISTS';
}

function toRecord(data: FirebaseFirestore.DocumentData | undefined): DedupeRecord {
  const status = data?.status as DedupeStatus | undefined;
  const lease = data?.lease_until;
  return {
    // An unreadable record is treated as a failed attempt: reclaimable, never silently "done".
    status: status === 'processing' || status === 'done' || status === 'rejected' ? status : 'failed',
    leaseUntilMs: lease instanceof Timestamp ? lease.toMillis() : 0,
    attempts: typeof data?.attempts === 'number' ? data.attempts : 0,
  };
}

/** Firestore calls made, for the benchmark's round-trips-per-event figure. */
export interface RoundTripCounter {
  roundTrips: number;
}

/** One record per event and workspace: the claim and the finish of an event find the same one. */
const recordId = (event: EventKey) => dedupeDocumentId(event.event_id, event.workspace ?? null);

export function createFirestoreDedupeStore(options: FirestoreDedupeOptions): DedupeStore & RoundTripCounter {
  const { firestore, collection, leaseSeconds, ttlDays, deadlineMs } = options;
  const docs = firestore.collection(collection);
  const leaseUntil = (nowMs: number) => Timestamp.fromMillis(nowMs + leaseSeconds * 1000);

  const store = {
    roundTrips: 0,

    claim(row: EventRow, nowMs: number): Promise<ClaimResult> {
      return withDeadline(claim(row, nowMs), deadlineMs, 'dedupe claim');
    },

    finish(event: EventKey, outcome: Outcome, nowMs: number): Promise<void> {
      return withDeadline(finish(event, outcome, nowMs), deadlineMs, 'dedupe record update');
    },
  };

  async function claim(row: EventRow, nowMs: number): Promise<ClaimResult> {
    const ref = docs.doc(recordId(row));
    const now = Timestamp.fromMillis(nowMs);
    const fresh = {
      event_id: row.event_id,
      // With several workspaces the same event id may be two events: the record says whose it is.
      ...(row.workspace === null ? {} : { workspace: row.workspace }),
      object_type: row.object_type,
      metric: row.metric,
      status: 'processing',
      lease_until: leaseUntil(nowMs),
      attempts: 1,
      created_at: now,
      updated_at: now,
    };
    try {
      store.roundTrips += 1;
      await ref.create(fresh);
      return { kind: 'claimed', attempt: 1 };
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
    // A plain read settles the common cases (duplicate, live lease) in one more round trip; terminal
    // states are never left, and a stale "busy" only means a later redelivery.
    store.roundTrips += 1;
    const existing = await ref.get();
    if (existing.exists) {
      const verdict = judgeExisting(toRecord(existing.data()), nowMs);
      if (verdict.kind !== 'reclaim') return verdict;
    }
    // Reclaiming must be atomic: two redeliveries may find the same expired lease.
    store.roundTrips += 2; // transaction read + commit
    return firestore.runTransaction(async (tx): Promise<ClaimResult> => {
      const snapshot = await tx.get(ref);
      if (!snapshot.exists) {
        tx.create(ref, fresh);
        return { kind: 'claimed', attempt: 1 };
      }
      const record = toRecord(snapshot.data());
      const verdict = judgeExisting(record, nowMs);
      if (verdict.kind !== 'reclaim') return verdict;
      const attempt = record.attempts + 1;
      tx.update(ref, {
        status: 'processing',
        lease_until: leaseUntil(nowMs),
        attempts: attempt,
        updated_at: now,
        error: FieldValue.delete(),
      });
      return { kind: 'claimed', attempt };
    });
  }

  async function finish(event: EventKey, outcome: Outcome, nowMs: number): Promise<void> {
    const terminal = outcome.status !== 'failed';
    store.roundTrips += 1;
    await docs.doc(recordId(event)).update({
      status: outcome.status,
      updated_at: Timestamp.fromMillis(nowMs),
      error: 'error' in outcome ? outcome.error : FieldValue.delete(),
      // Firestore's TTL policy deletes terminal records after DEDUPE_TTL_DAYS; failed ones stay claimable.
      expire_at: terminal ? Timestamp.fromDate(expireAt(nowMs, ttlDays)) : FieldValue.delete(),
    });
  }

  return store;
}
