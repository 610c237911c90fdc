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
 * builds check the build account's, the BigQuery subscription the Pub/Sub agent's). Google's IAM
 * page "Access change propagation" (cloud.google.com/iam/docs/access-change-propagation): a change
 * to an allow policy "typically" propagates in 2 minutes, "potentially 7 minutes or longer". The
 * wait covers the typical case; a slower propagation fails the step, and the next apply completes
 * it (docs/deploy.md, "If the first apply fails"). A sleep waits when it is created: on the first
 * apply, and for the build account again when its roles change (the sleep's triggers).
 */
export const IAM_PROPAGATION_WAIT = '120s';
