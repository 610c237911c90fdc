/**
 * Log messages that other things key on: the log-based metrics and alerts in infra/ match these
 * exact strings, so they are defined once.
 */
export const LOG_EVENTS = {
  signatureRejected: 'webhook signature rejected',
  eventHandled: 'event handled',
} as const;
