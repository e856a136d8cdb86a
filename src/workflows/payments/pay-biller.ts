import { ApplicationFailure, condition, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { businessFailure } from '../../temporal/failures';
import { profiles } from '../shared/activity-profiles';
import { setBusinessStatus } from '../shared/business-status';
import { isStepFailure } from '../shared/failures';
import { billerOutcome } from './biller-outcome';
import type { BillRun, BillTerms } from './bill-run';
import type { PaymentResolution } from './contract';
import { paymentProfiles } from './profiles';

const { holdPaymentFundsForReview, recordPaymentResolution } = proxyActivities<Activities>(profiles.database);
const { voidPaymentHolds } = proxyActivities<Activities>(paymentProfiles.compensation);
const { sendPaymentNotice } = proxyActivities<Activities>(profiles.provider);

/**
 * The `pay_biller` step: pays the biller and answers the holds to post. Once paid, the
 * step's undo is recorded: the biller port has no refund, so it can only be flagged.
 * An outcome nobody knows goes to an operator's review (`awaitResolution`).
 */
export async function payTheBiller(run: BillRun, holdIds: string[], terms: BillTerms): Promise<string[]> {
  const { input, steps, saga } = run;
  steps.begin('pay_biller');
  await steps.record('pay_biller', 'running');
  const outcome = await billerOutcome(input);
  if (outcome.status === 'unknown') return awaitResolution(run, holdIds, terms, outcome.reason);
  await steps.record('pay_biller', 'succeeded', `biller reference ${outcome.billerReference}`, { billerReference: outcome.billerReference });
  saga.add('pay_biller', async () => {
    throw ApplicationFailure.create({ type: 'biller_refund_required', nonRetryable: true, message: 'the biller port has no refund; reconcile with the biller' });
  });
  return holdIds;
}

/**
 * Nobody knows whether the biller was paid: the money stays held (under holds with no
 * timeout, so nothing expires them), the payment shows `needs_review`, the payer is told
 * it is pending, and the saga waits for an operator's `resolve` update. `paid` goes on
 * to the posting with the holds answered here; `not_paid` fails the step as
 * `biller_not_paid`, so the saga voids the holds and tells the payer the money is back.
 */
export async function awaitResolution(run: BillRun, holdIds: string[], terms: BillTerms, reason: string): Promise<string[]> {
  const { input, workflowId, steps, saga, review } = run;
  const { paymentId } = input;
  setBusinessStatus('needs_review');
  // Open from the moment the outcome is known to be unknown: a resolution that arrives
  // while the holds are being swapped is kept and acted on once they are.
  review.open = true;
  const held = await holdPaymentFundsForReview({ paymentId, key: `${workflowId}:review`, holdIds, description: terms.description, reason });
  steps.note('pay_biller', 'needs_review', reason);
  saga.supersede('hold');
  saga.add('hold', () => voidPaymentHolds({ paymentId, key: `${workflowId}:void`, holdIds: held.holdIds, description: terms.description }));
  await sendPaymentNotice({ paymentId, dedupeKey: `${workflowId}:pending-notice`, outcome: 'pending', reason }).catch((err: unknown) => {
    // A courtesy, like every notice: its failure is in the outbox, the review goes on.
    if (!isStepFailure(err)) throw err;
  });
  await condition(() => review.resolution !== undefined);
  review.open = false;
  const { outcome, note } = review.resolution as PaymentResolution;
  await recordPaymentResolution({ paymentId, outcome, note });
  if (outcome === 'not_paid') throw businessFailure('biller_not_paid', `an operator found payment ${paymentId} did not reach the biller: ${note}`);
  await steps.record('pay_biller', 'succeeded', `resolved by an operator as paid: ${note}`);
  setBusinessStatus('post');
  return held.holdIds;
}
