import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/** The payment sagas' own timeout and retry profiles, beside the shared ones (shared/activity-profiles.ts). */
export const paymentProfiles = {
  /** The biller: a few minutes of retries, after which the payment fails as `biller_unavailable`. */
  biller: {
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
  },
  /** An undo: retried for a while; one that still fails is recorded and the next undo runs. */
  compensation: {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
  },
  /** Writing a step of the history: one short local row insert, no round trip to the server. */
  record: {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  },
} satisfies Record<string, ActivityOptions | LocalActivityOptions>;
