import type { ActivityOptions, RetryPolicy } from '@temporalio/workflow';

/**
 * Retry profiles of the statement steps. An outage of the storage server or the SMS
 * provider is ridden out with backoff for about a quarter of an hour; after that the
 * statement ends `failed` with the reason rather than waiting on for days.
 */
const retry: RetryPolicy = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 12 };

export const statementProfiles = {
  /** Reads the ledger, renders and encrypts the PDF (up to 1000 lines) and stores it. */
  render: { startToCloseTimeout: '2 minutes', retry },
  /** Signs a link and sends one SMS. */
  send: { startToCloseTimeout: '30 seconds', retry },
} satisfies Record<string, ActivityOptions>;
