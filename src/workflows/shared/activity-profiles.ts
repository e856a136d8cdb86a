import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Named timeout and retry profiles, so a workflow says what kind of call it makes
 * rather than repeating numbers. Business failures are non-retryable by type
 * (see src/temporal/failures.ts); everything else is retried with backoff.
 */
export const profiles = {
  /** A local PostgreSQL read or write. */
  database: {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  },
  /** A call to an external provider (SMS, email, biller): slower, retried longer. */
  provider: {
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 20 },
  },
} satisfies Record<string, ActivityOptions>;
