import { CancellationScope, allHandlersFinished, condition, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { PaymentAlert, SettledBillPayment } from '../../activities/payments/bill-steps';
import { businessFailure, businessFailureOf } from '../../temporal/failures';
import { alertHolders } from '../banking/alerts';
import { profiles } from '../shared/activity-profiles';
import { setBusinessStatus } from '../shared/business-status';
import { isStepFailure } from '../shared/failures';
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
 * The bill payment saga in few round trips (docs/payments.md, "Few round trips"): the
 * same story as payBill, which stays registered for the runs it started,
 *
 *   validate → hold → pay_biller → post + cashback → notify
 *
 * but every step that only touches PostgreSQL is one transaction with its own step
 * record, run as a local activity (no round trip to the server), and the steps that can
 * share a transaction do: the hold with its cashback split, the posting with the credits
 * and their records. The biller call and the notice are the only remote activities, so
 * a payment costs three workflow tasks. It goes only forward once the biller accepted,
 * and an unknown outcome waits for an operator's review, as payBill does since its patches.
 */

const { validateBillPayment } = proxyLocalActivities<Activities>(paymentProfiles.biller);
const { holdBillFunds, settleBillPayment } = proxyLocalActivities<Activities>(paymentProfiles.record);
const { voidPaymentHolds } = proxyActivities<Activities>(paymentProfiles.compensation);
const { sendPaymentAlerts } = proxyActivities<Activities>(profiles.provider);

export async function payBillV2(input: PayBillInput): Promise<PayBillResult> {
  const { run, cancel, finished } = openBillRun(input);
  const { steps } = run;
  const cancelled = { status: 'cancelled', reason: 'cancelled_by_customer' } as const;

  tagPayment(input);
  let notified = false;
  const outcome = await runSteps(async () => {
    const terms = await validate(run);
    if (cancel.requested) return cancelled;
    const holdIds = await hold(run, terms);
    // As in payBill: the cancel window closes in the same synchronous stretch as this check.
    if (cancel.requested) return cancelled;
    if (CancellationScope.current().consideredCancelled) return operatorCancelled;
    cancel.allowed = false;
    return CancellationScope.nonCancellable(async () => {
      const paid = await payTheBiller(run, holdIds, terms);
      const settled = await settle(run, paid, terms);
      notified = await alertAndFinish(run, settled);
      return { status: 'succeeded' } as const;
    });
  }, steps);
  cancel.allowed = false;
  if (notified) {
    // The notice's transaction recorded the step and ended the payment.
    setBusinessStatus('succeeded');
    finished.result = { status: 'succeeded', steps: steps.list() };
  } else {
    finished.result = await conclude({ ...run, outcome });
  }
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return finished.result;
}

/** The biller knows the customer and still takes this amount in this currency; the fee it costs. */
async function validate({ input, payment, steps }: BillRun): Promise<BillTerms> {
  steps.note('validate', 'running');
  // Not cancellable: the row it writes must exist for the payment to be concluded.
  const terms = await CancellationScope.nonCancellable(() => validateBillPayment({ payment })).catch((err: unknown) => {
    // A biller that cannot even be asked is unavailable; its refusals stand as they are.
    throw isStepFailure(err) && !businessFailureOf(err) ? businessFailure('biller_unavailable', `${input.billerId} could not validate ${input.customerRef}`) : err;
  });
  steps.note('validate', 'succeeded');
  return terms;
}

/** Holds amount and fee (the payer's cashback first with `useCashback`) until posted, voided or expired. */
async function hold(run: BillRun, terms: BillTerms): Promise<string[]> {
  const { input, workflowId, steps, saga } = run;
  const { paymentId, userId, fromAccountId, amountMinor, currency } = input;
  const { description, feeMinor } = terms;
  steps.enter('hold');
  // Once asked for, a hold must reach the saga's memory: a cancellation mid-call would
  // leave a hold that no undo knows of.
  const held = await CancellationScope.nonCancellable(() =>
    holdBillFunds({ paymentId, userId, key: `${workflowId}:hold`, fromAccountId, amountMinor, feeMinor, currency, useCashback: input.useCashback ?? false, expiresAt: holdExpiry(), description }),
  );
  if (held.earningBaseMinor !== undefined) run.earningBaseMinor = held.earningBaseMinor;
  steps.note('hold', 'succeeded');
  saga.add('hold', () => voidPaymentHolds({ paymentId, key: `${workflowId}:void`, holdIds: held.holdIds, description }));
  return held.holdIds;
}

/** Pays the biller; an outcome nobody knows waits for an operator's review (pay-biller.ts). */
async function payTheBiller(run: BillRun, holdIds: string[], terms: BillTerms): Promise<{ holdIds: string[]; billerReference?: string }> {
  const { input, steps } = run;
  steps.begin('pay_biller');
  await steps.record('pay_biller', 'running');
  const outcome = await billerOutcome(input);
  if (outcome.status === 'unknown') return { holdIds: await awaitResolution(run, holdIds, terms, outcome.reason) };
  steps.note('pay_biller', 'succeeded', `biller reference ${outcome.billerReference}`);
  return { holdIds, billerReference: outcome.billerReference };
}

/** Posts the holds and credits what the payment earned, in one transaction; a refused posting is retried until it posts. */
async function settle({ input, workflowId, steps, saga, earningBaseMinor }: BillRun, paid: { holdIds: string[]; billerReference?: string }, terms: BillTerms): Promise<SettledBillPayment> {
  const { paymentId, userId, billerId, currency } = input;
  steps.enter('post');
  const request = { paymentId, userId, billerId, currency, workflowId, holdIds: paid.holdIds, description: terms.description, earningBaseMinor: earningBaseMinor ?? input.amountMinor };
  const settled = await untilPosted(() => settleBillPayment(paid.billerReference ? { ...request, billerReference: paid.billerReference } : request));
  // Posted: the holds are gone, and from here the saga only goes forward.
  saga.supersede('hold');
  steps.note('post', 'succeeded');
  if (settled.repairQueued) steps.note('cashback', 'failed', 'queued for repair');
  else steps.note('cashback', 'succeeded');
  return settled;
}

/**
 * One SMS per posted transfer on a customer account, then the payment ends, in one
 * remote activity. Should it fail after its retries, each alert is tried and recorded on
 * its own (alerts.ts) and the payment is concluded as payBill concludes it.
 */
async function alertAndFinish({ input, payment, steps }: BillRun, settled: SettledBillPayment): Promise<boolean> {
  const alerts: PaymentAlert[] = [...settled.transferIds.map((transferId) => ({ transferId, accountId: input.fromAccountId })), ...settled.credits];
  steps.enter('notify');
  try {
    await sendPaymentAlerts({ payment, alerts });
  } catch (err) {
    if (!isStepFailure(err)) throw err;
    await Promise.all(alerts.map((alert) => alertHolders(alert.transferId, [alert.accountId])));
    return false;
  }
  steps.note('notify', 'succeeded');
  return true;
}
