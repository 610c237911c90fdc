/**
 * The handler's time budget, one definition. Each bound must sit inside the next:
 *   claim + Customer.io calls + done-write (DEDUPE_DEADLINE_SECONDS × 2 + CIO_DEADLINE_SECONDS)
 *     ≤ function timeout < push ack deadline < dedupe lease
 * so an attempt answers before Pub/Sub redelivers, and a redelivery never finds an expired lease
 * while the first attempt is still running.
 */
export const TIMING = {
  cioDeadlineSeconds: 30,
  dedupeDeadlineSeconds: 5,
  handlerTimeoutSeconds: 50,
  pushAckDeadlineSeconds: 60,
  dedupeLeaseSeconds: 120,
  dedupeTtlDays: 30,
  /** Customer.io waits 4 s; the receiver answers within its publish timeout. */
  receiverPublishTimeoutMs: 2000,
  receiverTimeoutSeconds: 10,
  maxDeliveryAttempts: 10,
  retryMinimumBackoff: '10s',
  retryMaximumBackoff: '600s',
} as const;
