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
  /** Customer.io waits 4 s; the receiver answers within its publish timeout. */
  receiverPublishTimeoutMs: 2000,
  receiverTimeoutSeconds: 10,
  maxDeliveryAttempts: 10,
  retryMinimumBackoff: '10s',
  retryMaximumBackoff: '600s',
} as const;

/**
 * How long a grant is given to propagate before something that checks it is created (the function
 * builds check the build account's, the BigQuery subscription the Pub/Sub agent's). IAM documents
 * propagation "typically within 60 seconds"; the provider's own Cloud Functions builder example
 * waits 60 s. It runs once, on the first apply (and again only when the grants change).
 */
export const IAM_PROPAGATION_WAIT = '60s';
