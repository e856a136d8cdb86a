import { CancellationScope, allHandlersFinished, condition, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { PaymentAlert, SettledBillPayment } from '../../activities/payments/bill-steps';
import { businessFailure, businessFailureOf } from '../../temporal/failures';
import { profiles } from '../shared/activity-profiles';
import { setBusinessStatus } from '../shared/business-status';
import { failureReason, isStepFailure } from '../shared/failures';
import type { BillRun, BillTerms } from './bill-run';
import { billerOutcome } from './biller-outcome';
import { conclude } from './conclude';
import { openBillRun } from './open-bill-run';
import type { PayBillInput, PayBillResult } from './contract';
import { awaitResolution } from './pay-biller';
import { holdExpiry, operatorCancelled, runSteps, tagPayment } from './payment-steps';
import { untilPosted } from './post-holds';
import { paymentProfiles } from './profiles';

/**
 * The bill payment saga in the fewest round trips (docs/payments.md, "Fewer steps"): the
 * same story as payBill and payBillV2, which stay registered for the runs they started,
 *
 *   validate + hold → pay_biller → post + cashback, the payment ends → notify
 *
 * in two local steps and two remote activities. The first local step validates, quotes
 * and holds (one transaction after the biller's word); the biller call records its own
 * `running`; the second local step posts, credits and ends the payment in one
 * transaction, so the customer's final status (and the `outcome` update the API waits
 * on) does not wait for the SMS notice, which is sent after it in one activity.
 */

const { prepareBillPayment } = proxyLocalActivities<Activities>(paymentProfiles.biller);
const { settleBillPayment, recordBillNoticeFailure } = proxyLocalActivities<Activities>(paymentProfiles.record);
const { voidPaymentHolds, voidHoldsPlacedUnder } = proxyActivities<Activities>(paymentProfiles.compensation);
const { sendBillPaymentNotice } = proxyActivities<Activities>(profiles.provider);

export async function payBillV3(input: PayBillInput): Promise<PayBillResult> {
  const { run, cancel, finished } = openBillRun(input);
  const { steps } = run;
  const cancelled = { status: 'cancelled', reason: 'cancelled_by_customer' } as const;

  tagPayment(input);
  let settled: SettledBillPayment | undefined;
  const outcome = await runSteps(async () => {
    const { holdIds, terms } = await prepare(run);
    // As in payBill: the cancel window closes in the same synchronous stretch as this check.
    if (cancel.requested) return cancelled;
    if (CancellationScope.current().consideredCancelled) return operatorCancelled;
    cancel.allowed = false;
    return CancellationScope.nonCancellable(async () => {
      const paid = await payTheBiller(run, holdIds, terms);
      settled = await settleAndEnd(run, paid, terms);
      return { status: 'succeeded' } as const;
    });
  }, steps);
  cancel.allowed = false;
  if (settled) {
    // The settle transaction ended the payment: whoever waits for it has its answer now.
    steps.note('notify', 'pending');
    finished.result = { status: 'succeeded', steps: steps.list() };
    await CancellationScope.nonCancellable(() => notify(run, settled as SettledBillPayment));
    setBusinessStatus('succeeded');
  } else {
    finished.result = await conclude({ ...run, outcome });
  }
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return { ...finished.result, steps: steps.list() };
}

/**
 * `validate` and `hold` in one local step: the biller knows the customer and takes this
 * amount, the fee it costs, and the amount and fee held (the payer's cashback first with
 * `useCashback`) until posted, voided or expired.
 */
async function prepare(run: BillRun): Promise<{ holdIds: string[]; terms: BillTerms }> {
  const { input, workflowId, payment, steps, saga } = run;
  steps.note('validate', 'running');
  // Not cancellable: the row it writes must exist for the payment to be concluded, and
  // a hold once asked for must reach the saga's memory.
  const prepared = await CancellationScope.nonCancellable(() => prepareBillPayment({ payment, holdKey: `${workflowId}:hold`, expiresAt: holdExpiry() })).catch(
    async (err: unknown) => {
      // Its refusals stand as they are.
      if (!isStepFailure(err) || businessFailureOf(err)) throw err;
      // A step that failed through its retries may have committed a hold in an attempt
      // whose answer was lost: release whatever it placed before the payment fails.
      await releaseLostHolds(run);
      // A biller that cannot even be asked is unavailable.
      throw businessFailure('biller_unavailable', `${input.billerId} could not validate ${input.customerRef}`);
    },
  );
  steps.note('validate', 'succeeded');
  steps.enter('hold');
  // The step recorded the refusal; the saga fails it here, charged to the hold.
  if (prepared.status === 'refused') throw businessFailure(prepared.type, prepared.message);
  const { holdIds, feeMinor, description } = prepared;
  if (prepared.earningBaseMinor !== undefined) run.earningBaseMinor = prepared.earningBaseMinor;
  steps.note('hold', 'succeeded');
  saga.add('hold', () => voidPaymentHolds({ paymentId: input.paymentId, key: `${workflowId}:void`, holdIds, description }));
  return { holdIds, terms: { feeMinor, description } };
}

/** Voids the holds a lost attempt of the first step placed; a release that fails for good is recorded as the hold's. */
async function releaseLostHolds({ input, workflowId, steps }: BillRun): Promise<void> {
  const release = { paymentId: input.paymentId, holdKey: `${workflowId}:hold`, key: `${workflowId}:void`, description: `${input.billerId} ${input.customerRef}` };
  await CancellationScope.nonCancellable(() => voidHoldsPlacedUnder(release)).then(
    ({ voided }) => {
      if (voided > 0) steps.note('hold', 'compensated');
    },
    (err: unknown) => steps.record('hold', 'compensation_failed', failureReason(err)),
  );
}

/** Pays the biller (which records `pay_biller: running`); an outcome nobody knows waits for an operator's review. */
async function payTheBiller(run: BillRun, holdIds: string[], terms: BillTerms): Promise<{ holdIds: string[]; billerReference?: string }> {
  const { input, steps } = run;
  steps.begin('pay_biller');
  steps.note('pay_biller', 'running');
  const outcome = await billerOutcome(input, { recordsRunning: true });
  if (outcome.status === 'unknown') return { holdIds: await awaitResolution(run, holdIds, terms, outcome.reason) };
  steps.note('pay_biller', 'succeeded', `biller reference ${outcome.billerReference}`);
  return { holdIds, billerReference: outcome.billerReference };
}

/**
 * Posts the holds, credits what the payment earned and ends the payment as `succeeded`,
 * in one transaction; a refused posting is retried until it posts.
 */
async function settleAndEnd(run: BillRun, paid: { holdIds: string[]; billerReference?: string }, terms: BillTerms): Promise<SettledBillPayment> {
  const { input, workflowId, payment, steps, saga, earningBaseMinor } = run;
  const { paymentId, userId, billerId, currency } = input;
  steps.enter('post');
  const request = { paymentId, userId, billerId, currency, workflowId, holdIds: paid.holdIds, description: terms.description, earningBaseMinor: earningBaseMinor ?? input.amountMinor, finish: payment };
  const settled = await untilPosted(() => settleBillPayment(paid.billerReference ? { ...request, billerReference: paid.billerReference } : request));
  // Posted: the holds are gone, and from here the saga only goes forward.
  saga.supersede('hold');
  steps.note('post', 'succeeded');
  if (settled.repairQueued) steps.note('cashback', 'failed', 'queued for repair');
  else steps.note('cashback', 'succeeded');
  return settled;
}

/**
 * One SMS per posted transfer on a customer account (the amount and the fee to the
 * payer, the cashback to the payer, a bonus to the referrer), in one remote activity.
 * Should it fail through its retries, every alert still queued is recorded as failed
 * with the reason, and so is the step; the payment stays `succeeded`.
 */
async function notify({ input, steps }: BillRun, settled: SettledBillPayment): Promise<void> {
  const alerts: PaymentAlert[] = [...settled.transferIds.map((transferId) => ({ transferId, accountId: input.fromAccountId })), ...settled.credits];
  steps.enter('notify');
  try {
    const notice = await sendBillPaymentNotice({ paymentId: input.paymentId, alerts });
    steps.note('notify', notice.status, notice.reason);
  } catch (err) {
    if (!isStepFailure(err)) throw err;
    const reason = failureReason(err);
    await recordBillNoticeFailure({ paymentId: input.paymentId, alerts, reason });
    steps.note('notify', 'failed', reason);
  }
}
