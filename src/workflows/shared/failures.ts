import { TemporalFailure, isCancellation } from '@temporalio/workflow';
import { businessFailureOf } from '../../temporal/failures';

/**
 * A short, stable reason for a failure a workflow caught: the business failure's type
 * when there is one, else the innermost message (an ActivityFailure only says that the
 * activity failed; its cause says why).
 */
export function failureReason(err: unknown): string {
  return businessFailureOf(err)?.type ?? innermostMessage(err);
}

/** The innermost message: an ActivityFailure says only that the activity failed, its cause says why. */
export function innermostMessage(err: unknown): string {
  let innermost: unknown = err;
  while (innermost instanceof Error && innermost.cause instanceof Error) innermost = innermost.cause;
  return innermost instanceof Error ? innermost.message : String(err);
}

/** The reason with the failure's own words, for a step's history: `biller_declined: … account_suspended`. */
export function failureDetail(err: unknown): string {
  const business = businessFailureOf(err);
  return business ? `${business.type}: ${business.message}` : failureReason(err);
}

/** Whether a caught error is a step failing for good (an activity's, or one the workflow raised), not a bug. */
export function isStepFailure(err: unknown): boolean {
  return err instanceof TemporalFailure && !isCancellation(err);
}
