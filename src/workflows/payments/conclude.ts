import { CancellationScope, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { NewPayment } from '../../payments/repository';
import type { PaymentStep } from '../../payments/steps';
import { profiles } from '../shared/activity-profiles';
import { setBusinessStatus } from '../shared/business-status';
import { failureReason } from '../shared/failures';
import type { Saga } from '../shared/saga';
import type { PayBillResult } from './contract';
import type { Outcome, PaymentSteps } from './payment-steps';
import { paymentProfiles } from './profiles';

const { sendPaymentNotice } = proxyActivities<Activities>(profiles.provider);
const { finishPayment } = proxyLocalActivities<Activities>(paymentProfiles.record);

/** Patch id: recurring runs short of funds get their notice from the dunning run only. */
const DUNNING_OWNS_NOTICE = 'recurring-dunning-owns-notice';

/**
 * Ends a payment: on failure or cancellation, compensates and tells the payer; then
 * records the final status. Non-cancellable, so nothing stops it halfway.
 */
export async function conclude(run: { payment: NewPayment; steps: PaymentSteps; saga: Saga<PaymentStep>; outcome: Outcome }): Promise<PayBillResult> {
  const { payment, steps, saga, outcome } = run;
  const paymentId = payment.id;
  return CancellationScope.nonCancellable(async () => {
    if (outcome.status !== 'succeeded') {
      setBusinessStatus('compensating');
      const undone = await saga.compensate({ onFailure: (step, reason) => steps.record(step, 'compensation_failed', reason) });
      for (const { step, status, reason } of undone) steps.note(step, status, reason);
      // A recurring run that lacks funds is retried on a dunning schedule whose run tells
      // the customer what happens next; a second SMS from here would only repeat it.
      const dunningNotifies = payment.recurringPaymentId !== null && outcome.reason === 'insufficient_funds';
      if (dunningNotifies && patched(DUNNING_OWNS_NOTICE)) {
        await steps.record('notify', 'skipped', 'the recurring payment run notifies about its retries');
      } else {
        steps.begin('notify');
        await sendPaymentNotice({ paymentId, dedupeKey: `${payment.workflowId}:notice`, outcome: outcome.status, reason: outcome.reason }).catch((err: unknown) =>
          // The notice is a courtesy: its failure is recorded, never a reason to undo more.
          steps.record('notify', 'failed', failureReason(err)),
        );
      }
    }
    const notified = steps.statusOf('notify');
    if (notified !== 'failed' && notified !== 'skipped') await steps.record('notify', 'succeeded');
    const reason = outcome.status === 'succeeded' ? undefined : outcome.reason;
    await finishPayment({ payment, status: outcome.status, reason });
    setBusinessStatus(outcome.status);
    return { status: outcome.status, ...(reason ? { reason } : {}), steps: steps.list() };
  });
}
