/**
 * Log messages that other things key on: the log-based metrics and alerts in infra/ match these
 * exact strings, so they are defined once.
 */
export const LOG_EVENTS = {
  signatureRejected: 'webhook signature rejected',
  eventHandled: 'event handled',
  /** One entry per source and measure at or above a threshold, per guard run (WARNING or ERROR). */
  deliverabilityBreach: 'deliverability threshold breached',
  deliverabilityGuardRun: 'deliverability guard run',
  deliverabilityGuardFailed: 'deliverability guard failed',
} as const;
