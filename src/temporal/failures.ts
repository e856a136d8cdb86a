import { ApplicationFailure } from '@temporalio/common';

/**
 * Business failures: outcomes that retrying cannot change. Activities throw them as
 * non-retryable ApplicationFailures whose `type` is one of these names; anything else
 * an activity throws is a technical failure that Temporal retries.
 */
export type BusinessFailureType = 'customer_not_found' | 'sms_rejected';

export function businessFailure(type: BusinessFailureType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? [] : [details] });
}
