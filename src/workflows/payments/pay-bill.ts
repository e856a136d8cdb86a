import { CancellationScope, allHandlersFinished, condition, patched, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { NewPayment } from '../../payments/repository';
import type { PaymentStep } from '../../payments/steps';
import { businessFailure, businessFailureOf } from '../../temporal/failures';
import { alertHolders } from '../banking/alerts';
import { profiles } from '../shared/activity-profiles';
import { isStepFailure } from '../shared/failures';
import { Saga } from '../shared/saga';
import { acceptBillUpdates, type CancelWindow } from './bill-updates';
import type { BillRun, BillTerms } from './bill-run';
import { conclude } from './conclude';
import type { PayBillInput, PayBillResult } from './contract';
import { creditCashbackAndBonus, creditOrQueueRepairs, type Credit } from './credits';
import { PaymentSteps, holdExpiry, operatorCancelled, runSteps, tagPayment } from './payment-steps';
import { planHold } from './hold-plan';
import { payTheBiller } from './pay-biller';
import { post } from './post-holds';
import { paymentProfiles } from './profiles';

/**
 * The bill payment saga (docs/payments.md, "The payment saga"):
 *
 *   validate → hold → pay_biller → post → cashback → notify
 *
 * Each step that changes money records its undo as it succeeds; when a step fails for
 * good the undos run in reverse, the payer is told, and the payment ends `failed` with
 * the reason. Until pay_biller starts, the customer may cancel (update `cancel`).
 *
 * Two rules keep the customer's side in step with the biller's (patched, so histories
 * recorded before them replay as they ran):
 * - when nobody knows whether the biller was paid, the money stays held and the
 *   payment waits in `needs_review` for an operator's `resolve` update (pay-biller.ts);
 * - once the biller has the money, the saga only goes forward: the posting is retried
 *   until it succeeds, and a cashback or bonus that fails is queued for repair.
 */

const { validateBillerCustomer } = proxyActivities<Activities>(paymentProfiles.biller);
const { quoteBillPayment, holdPaymentFunds } = proxyActivities<Activities>(profiles.database);
const { voidPaymentHolds } = proxyActivities<Activities>(paymentProfiles.compensation);
const { openPayment } = proxyLocalActivities<Activities>(paymentProfiles.record);

/** Patch id: after the biller accepted, the posting is retried and failed credits are repaired, never undone. */
export const FORWARD_ONLY_AFTER_ACCEPTANCE = 'payment-forward-only-after-acceptance';

export async function payBill(input: PayBillInput): Promise<PayBillResult> {
  const { workflowId } = workflowInfo();
  const steps = new PaymentSteps(input.paymentId, 'bill');
  const saga = new Saga<PaymentStep>();
  const run: BillRun = { input, workflowId, payment: billPayment(input, workflowId), steps, saga, review: { open: false }, forwardOnly: false };
  const cancel: CancelWindow = { requested: false, allowed: true };
  const finished: { result?: PayBillResult } = {};
  acceptBillUpdates(run, cancel, finished);
  const cancelled = { status: 'cancelled', reason: 'cancelled_by_customer' } as const;

  await open(run);
  const outcome = await runSteps(async () => {
    const terms = await validate(run);
    if (cancel.requested) return cancelled;
    const holdIds = await hold(run, terms);
    // The cancel window closes in the same synchronous stretch as this last check, so a
    // cancel is either seen here or refused by the validator: never both, never lost.
    if (cancel.requested) return cancelled;
    if (CancellationScope.current().consideredCancelled) return operatorCancelled;
    cancel.allowed = false;
    // From here on the biller may have the money: a workflow cancellation must not cut
    // the story short, so it runs to its end (or its compensation) regardless.
    return CancellationScope.nonCancellable(async () => {
      const heldIds = await payTheBiller(run, holdIds, terms);
      run.forwardOnly = patched(FORWARD_ONLY_AFTER_ACCEPTANCE);
      const postIds = await post(run, heldIds, terms);
      const credits = run.forwardOnly ? await creditOrQueueRepairs(run) : await creditCashbackAndBonus(run);
      await alertHoldersOfPayment(run, postIds, credits);
      return { status: 'succeeded' } as const;
    });
  }, steps);
  cancel.allowed = false;
  finished.result = await conclude({ ...run, outcome });
  // A cancel update waits for the result: let it answer before the workflow closes
  // (even a cancelled workflow, whose every cancellable wait would throw).
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return finished.result;
}

export function billPayment(input: PayBillInput, workflowId: string): NewPayment {
  const { paymentId: id, userId, billerId, customerRef, fromAccountId, amountMinor, currency, recurring, useCashback, retryOf } = input;
  const [recurringPaymentId, period] = recurring ? [recurring.recurringPaymentId, recurring.period] : [null, null];
  const extras = { ...(useCashback ? { useCashback } : {}), ...(retryOf ? { retryOf } : {}) };
  return { id, userId, kind: 'bill', billerId, customerRef, fromAccountId, toAccountId: null, amountMinor, currency, workflowId, recurringPaymentId, period, ...extras };
}

/** Writes the payment's row if nobody has (a Schedule's run) and tags the workflow for operators. */
async function open({ input, payment, steps }: BillRun): Promise<void> {
  tagPayment(input);
  steps.note('validate', 'running');
  // Not cancellable: the row must exist for the payment to be concluded, whatever happens.
  await CancellationScope.nonCancellable(() => openPayment(payment));
}

/** The biller knows the customer and still takes this amount in this currency; the fee it costs. */
async function validate({ input, steps }: BillRun): Promise<BillTerms> {
  const { billerId, customerRef, userId, amountMinor, currency } = input;
  const [customer, quote] = await Promise.all([validateBillerCustomer({ billerId, customerRef }), quoteBillPayment({ billerId, userId, amountMinor })]).catch(
    (err: unknown) => {
      // A biller that cannot even be asked is unavailable; its refusals stand as they are.
      throw isStepFailure(err) && !businessFailureOf(err) ? businessFailure('biller_unavailable', `${billerId} could not validate ${customerRef}`) : err;
    },
  );
  if (quote.currency !== currency) throw businessFailure('payment_invalid', `${billerId} is paid in ${quote.currency}, not ${currency}`);
  await steps.record('validate', 'succeeded', undefined, { feeMinor: quote.feeMinor });
  return { feeMinor: quote.feeMinor, description: `${customer.billerName} ${customerRef}` };
}

/**
 * Holds amount (→ biller settlement) and fee (→ fee revenue) together, until posted,
 * voided or expired; with `useCashback`, the cashback account pays first (hold-plan.ts).
 */
async function hold(run: BillRun, terms: BillTerms): Promise<string[]> {
  const { input, workflowId, steps, saga } = run;
  const { paymentId, fromAccountId, currency } = input;
  const { description } = terms;
  steps.begin('hold');
  const { legs, cashbackUsedMinor, note } = await planHold(run, terms);
  // Once asked for, a hold must reach the saga's memory: a cancellation mid-call would
  // leave a hold that no undo knows of.
  const { holdIds } = await CancellationScope.nonCancellable(() =>
    holdPaymentFunds({ paymentId, key: `${workflowId}:hold`, fromAccountId, currency, legs, expiresAt: holdExpiry(), description, ...(note ? { note, cashbackUsedMinor } : {}) }),
  );
  steps.note('hold', 'succeeded', note);
  saga.add('hold', () => voidPaymentHolds({ paymentId, key: `${workflowId}:void`, holdIds, description }));
  return holdIds;
}

/** One SMS per posted transfer on a customer account: the amount and the fee to the payer, the cashback to the payer, a bonus to the referrer. */
async function alertHoldersOfPayment({ input, steps }: BillRun, postIds: string[], credits: Credit[]): Promise<void> {
  steps.begin('notify');
  await Promise.all([
    ...postIds.map((postId) => alertHolders(postId, [input.fromAccountId])),
    ...credits.map((credit) => alertHolders(credit.transferId, [credit.accountId])),
  ]);
}
