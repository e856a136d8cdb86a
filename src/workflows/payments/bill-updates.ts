import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import type { BillRun } from './bill-run';
import { cancelPaymentUpdate, resolvePaymentUpdate, type PayBillResult } from './contract';

/** The customer's cancel request, and whether the saga still takes one. */
export interface CancelWindow {
  requested: boolean;
  allowed: boolean;
}

/**
 * Accepts the bill payment's updates: `cancel` while the biller has not been called,
 * `resolve` while the payment waits in review. Both answer the payment's final result,
 * so each waits until `finished` holds it.
 */
export function acceptBillUpdates(run: BillRun, cancel: CancelWindow, finished: { result?: PayBillResult }): void {
  setHandler(
    cancelPaymentUpdate,
    async () => {
      cancel.requested = true;
      await condition(() => finished.result !== undefined);
      return finished.result as PayBillResult;
    },
    {
      validator: () => {
        if (!cancel.allowed) throw ApplicationFailure.create({ type: 'payment_not_cancellable', nonRetryable: true, message: 'the biller has already been called' });
      },
    },
  );
  setHandler(
    resolvePaymentUpdate,
    async (resolution) => {
      run.review.resolution = resolution;
      await condition(() => finished.result !== undefined);
      return finished.result as PayBillResult;
    },
    {
      validator: (resolution) => {
        if (!run.review.open || run.review.resolution) {
          throw ApplicationFailure.create({ type: 'payment_not_in_review', nonRetryable: true, message: 'the payment is not waiting for a resolution' });
        }
        if (resolution.outcome !== 'paid' && resolution.outcome !== 'not_paid') {
          throw ApplicationFailure.create({ type: 'invalid_resolution', nonRetryable: true, message: 'outcome must be paid or not_paid' });
        }
      },
    },
  );
}
