import {
  ApplicationFailure,
  CancellationScope,
  TemporalFailure,
  allHandlersFinished,
  condition,
  defineUpdate,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { PaymentLeg, PaymentRepair, ResolveHoldsInput } from '../../activities/payments/payments';
import type { NewPayment } from '../../payments/repository';
import { STEP_PLANS, type PaymentKind, type PaymentStep, type StepStatus } from '../../payments/steps';
import { businessFailure, businessFailureOf } from '../../temporal/failures';
import { searchAttributes } from '../../temporal/names';
import { profiles } from '../shared/activity-profiles';
import { alertHolders } from '../banking/alerts';
import { Saga, failureDetail, failureReason } from '../shared/saga';

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
 *   payment waits in `needs_review` for an operator's `resolve` update;
 * - once the biller has the money, the saga only goes forward: the posting is retried
 *   until it succeeds, and a cashback or bonus that fails is queued for repair.
 */

export const paymentProfiles = {
  /** The biller: a few minutes of retries, after which the payment fails as `biller_unavailable`. */
  biller: {
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
  },
  /** An undo: retried for a while; one that still fails is recorded and the next undo runs. */
  compensation: {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
  },
  /** Writing a step of the history: one short local row insert, no round trip to the server. */
  record: {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  },
} satisfies Record<string, ActivityOptions | LocalActivityOptions>;

const { validateBillerCustomer, payBiller, getBillerPaymentStatus } = proxyActivities<Activities>(paymentProfiles.biller);
const { quoteBillPayment, holdPaymentFunds, postPaymentHolds, creditCashback, creditReferralBonus } = proxyActivities<Activities>(profiles.database);
const { holdPaymentFundsForReview, recordPaymentResolution, queuePaymentRepairs } = proxyActivities<Activities>(profiles.database);
const { voidPaymentHolds, reversePaymentTransfers } = proxyActivities<Activities>(paymentProfiles.compensation);
const { sendPaymentNotice } = proxyActivities<Activities>(profiles.provider);
const { openPayment, recordPaymentStep, recordCashback, finishPayment } = proxyLocalActivities<Activities>(paymentProfiles.record);

/** A hold lasts a week; after that the ledger expires it, whatever became of the workflow. */
export const HOLD_TIMEOUT_MS = 7 * 24 * 3600_000;
/** An unknown biller outcome is polled from 5 s, doubling to 15 min, for at most 3 days (well inside the hold). */
const FIRST_STATUS_POLL_MS = 5_000;
const MAX_STATUS_POLL_MS = 15 * 60_000;
const MAX_OUTCOME_WAIT_MS = 3 * 24 * 3600_000;
/** A posting the ledger refuses after the biller accepted is retried from 1 min, doubling to 1 h, until it succeeds. */
const FIRST_POST_RETRY_MS = 60_000;
const MAX_POST_RETRY_MS = 3600_000;

/** Patch id: an unknown biller outcome waits for an operator instead of failing `biller_unavailable`. */
export const UNKNOWN_OUTCOME_REVIEW = 'payment-unknown-outcome-review';
/** Patch id: after the biller accepted, the posting is retried and failed credits are repaired, never undone. */
export const FORWARD_ONLY_AFTER_ACCEPTANCE = 'payment-forward-only-after-acceptance';

export interface PayBillInput {
  /** Derived from the workflow id (`paymentIdFrom`); the biller's idempotency key. */
  paymentId: string;
  userId: string;
  billerId: string;
  customerRef: string;
  fromAccountId: string;
  /** Minor units as a decimal string. */
  amountMinor: string;
  currency: string;
  /** Set when a recurring payment's Schedule started this run. */
  recurring?: { recurringPaymentId: string; period: string };
}

export interface PaymentStepOutcome {
  step: PaymentStep;
  status: StepStatus;
  reason?: string;
}

export interface PayBillResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  reason?: string;
  /** Each planned step with the last status it reached, in plan order. */
  steps: PaymentStepOutcome[];
}

/** Cancels a payment whose biller has not been called; answers the payment's final result. */
export const cancelPaymentUpdate = defineUpdate<PayBillResult>('cancel');

/** What an operator found out about a payment under review, and why they say so. */
export interface PaymentResolution {
  outcome: 'paid' | 'not_paid';
  note: string;
}

/**
 * Resolves a payment under review (`needs_review`): `paid` posts the hold and goes on,
 * `not_paid` voids it. Accepted once, only while the payment waits for it; answers the
 * payment's final result.
 */
export const resolvePaymentUpdate = defineUpdate<PayBillResult, [PaymentResolution]>('resolve');

type Outcome = { status: 'succeeded' } | { status: 'failed' | 'cancelled'; reason: string };

/** A Temporal cancellation (an operator, in the Web UI) before the point of no return. */
export const operatorCancelled = { status: 'cancelled', reason: 'cancelled_by_operator' } as const;

/**
 * What a payment workflow knows of its steps, written through to `payment_steps`. The
 * BusinessStatus search attribute shows the step under way (one upsert per step, not
 * per status change: each upsert is an event in the history). Steps whose activity
 * records its own outcome (in the transaction that moves the money) are only noted here.
 */
export class PaymentSteps {
  private readonly reached = new Map<PaymentStep, PaymentStepOutcome>();
  /** The step under way: the one a failure is charged to. */
  current: PaymentStep;

  constructor(
    private readonly paymentId: string,
    private readonly kind: PaymentKind,
  ) {
    this.current = STEP_PLANS[kind][0] as PaymentStep;
  }

  /** Starts a step: failures are charged to it from now on, and operators see it under way. */
  begin(step: PaymentStep): void {
    this.current = step;
    setBusinessStatus(step);
  }

  /** Notes a status an activity has recorded itself. */
  note(step: PaymentStep, status: StepStatus, reason?: string): void {
    this.reached.set(step, reason === undefined ? { step, status } : { step, status, reason });
  }

  /** Records a status change through a local activity. */
  async record(step: PaymentStep, status: StepStatus, reason?: string, amounts: { feeMinor?: string; cashbackMinor?: string } = {}): Promise<void> {
    this.note(step, status, reason);
    await recordPaymentStep({ paymentId: this.paymentId, step, status, reason, ...amounts });
  }

  statusOf(step: PaymentStep): StepStatus | undefined {
    return this.reached.get(step)?.status;
  }

  /** Every planned step in order; one never reached is `skipped`. */
  list(): PaymentStepOutcome[] {
    return STEP_PLANS[this.kind].map((step) => this.reached.get(step) ?? { step, status: 'skipped' });
  }
}

export function setBusinessStatus(value: string): void {
  upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value }]);
}

/**
 * Search attributes an operator finds the payment by, whoever started it (the API or a
 * Schedule), set in one upsert with the first step, `validate`.
 */
export function tagPayment(ids: { userId: string; fromAccountId: string; paymentId: string }): void {
  upsertSearchAttributes([
    { key: searchAttributes.CustomerId, value: ids.userId },
    { key: searchAttributes.AccountId, value: ids.fromAccountId },
    { key: searchAttributes.PaymentId, value: ids.paymentId },
    { key: searchAttributes.BusinessStatus, value: 'validate' },
  ]);
}

/** Whether a caught error is a step failing for good (an activity's, or one the workflow raised), not a bug. */
export function isStepFailure(err: unknown): boolean {
  return err instanceof TemporalFailure && !isCancellation(err);
}

export async function payBill(input: PayBillInput): Promise<PayBillResult> {
  const { workflowId } = workflowInfo();
  const run: BillRun = {
    input,
    workflowId,
    payment: billPayment(input, workflowId),
    steps: new PaymentSteps(input.paymentId, 'bill'),
    saga: new Saga<PaymentStep>(),
    review: { open: false },
    forwardOnly: false,
  };
  const cancel = { requested: false, allowed: true };
  const finished: { result?: PayBillResult } = {};
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
  }, run.steps);
  cancel.allowed = false;
  finished.result = await conclude({ ...run, outcome });
  // A cancel update waits for the result: let it answer before the workflow closes
  // (even a cancelled workflow, whose every cancellable wait would throw).
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return finished.result;
}

interface BillRun {
  input: PayBillInput;
  workflowId: string;
  /** The payment's row, as the workflow would write it. */
  payment: NewPayment;
  steps: PaymentSteps;
  saga: Saga<PaymentStep>;
  /** Open while the payment waits in `needs_review`; the operator's resolution once given. */
  review: { open: boolean; resolution?: PaymentResolution };
  /** Decided once, when the biller has accepted: whether this run goes only forward from there. */
  forwardOnly: boolean;
}

/** What validation learnt: the fee to hold and the words the ledger and the alerts use. */
interface BillTerms {
  feeMinor: string;
  description: string;
}

function billPayment(input: PayBillInput, workflowId: string): NewPayment {
  return {
    id: input.paymentId,
    userId: input.userId,
    kind: 'bill',
    billerId: input.billerId,
    customerRef: input.customerRef,
    fromAccountId: input.fromAccountId,
    toAccountId: null,
    amountMinor: input.amountMinor,
    currency: input.currency,
    workflowId,
    recurringPaymentId: input.recurring?.recurringPaymentId ?? null,
    period: input.recurring?.period ?? null,
  };
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

/** Holds amount (→ biller settlement) and fee (→ fee revenue) together, until posted, voided or expired. */
async function hold({ input, workflowId, steps, saga }: BillRun, terms: BillTerms): Promise<string[]> {
  const { paymentId, fromAccountId, amountMinor, currency } = input;
  steps.begin('hold');
  const legs: PaymentLeg[] = [{ name: 'amount', to: { systemRole: 'biller_settlement' }, amountMinor, code: 'bill_payment' }];
  if (BigInt(terms.feeMinor) > 0n) legs.push({ name: 'fee', to: { systemRole: 'fee_revenue' }, amountMinor: terms.feeMinor, code: 'fee' });
  // Once asked for, a hold must reach the saga's memory: a cancellation mid-call would
  // leave a hold that no undo knows of.
  const { holdIds } = await CancellationScope.nonCancellable(() =>
    holdPaymentFunds({ paymentId, key: `${workflowId}:hold`, fromAccountId, currency, legs, expiresAt: holdExpiry(), description: terms.description }),
  );
  steps.note('hold', 'succeeded');
  saga.add('hold', () => voidPaymentHolds({ paymentId, key: `${workflowId}:void`, holdIds, description: terms.description }));
  return holdIds;
}

/** Posts the holds; from then on the undo is a reversal of the postings, not a void. */
async function post({ input, workflowId, steps, saga, forwardOnly }: BillRun, holdIds: string[], terms: BillTerms): Promise<string[]> {
  const { paymentId } = input;
  steps.begin('post');
  const request: ResolveHoldsInput = { paymentId, key: `${workflowId}:post`, holdIds, description: terms.description };
  const { transferIds } = forwardOnly ? await postUntilPosted(request) : await postPaymentHolds(request);
  steps.note('post', 'succeeded');
  saga.supersede('hold');
  saga.add('post', () => reverse(paymentId, 'post', `${workflowId}:reverse:post`, transferIds));
  return transferIds;
}

/**
 * After the biller accepted, the posting is the only way forward: a refusal is retried
 * with backoff until it succeeds (the posting is idempotent under its key), while the
 * BusinessStatus `post_retrying` shows operators a payment stuck there.
 */
async function postUntilPosted(request: ResolveHoldsInput): Promise<{ transferIds: string[] }> {
  for (let delayMs = FIRST_POST_RETRY_MS; ; delayMs = Math.min(delayMs * 2, MAX_POST_RETRY_MS)) {
    try {
      return await postPaymentHolds(request);
    } catch (err) {
      if (!isStepFailure(err)) throw err;
      setBusinessStatus('post_retrying');
      await sleep(delayMs);
      setBusinessStatus('post');
    }
  }
}

/** A credit the payment earned, and the account it went to (for its alert). */
interface Credit {
  transferId: string;
  accountId: string;
}

/**
 * Credits the payment's cashback (capped monthly), then the referrer's bonus if this is
 * the payer's first payment; answers what was credited.
 */
async function creditCashbackAndBonus({ input, workflowId, steps, saga }: BillRun): Promise<Credit[]> {
  const { paymentId, userId, amountMinor, currency, billerId } = input;
  steps.begin('cashback');
  const cashback = await creditCashback({ paymentId, userId, amountMinor, currency, billerId, transferKey: `${workflowId}:cashback` });
  const { transferId } = cashback;
  if (transferId) saga.add('cashback', () => reverse(paymentId, 'cashback', `${workflowId}:reverse:cashback`, [transferId]));
  const bonus = await creditReferralBonus({ referredUserId: userId, currency });
  const bonusTransferId = bonus.status === 'credited' ? bonus.transferId : null;
  const accounts = await recordCashback({ paymentId, cashbackMinor: cashback.cashbackMinor, transferId, bonusTransferId });
  steps.note('cashback', 'succeeded');
  const credits: Array<Credit | null> = [
    transferId && accounts.cashbackAccountId ? { transferId, accountId: accounts.cashbackAccountId } : null,
    bonusTransferId && accounts.bonusAccountId ? { transferId: bonusTransferId, accountId: accounts.bonusAccountId } : null,
  ];
  return credits.filter((c): c is Credit => c !== null);
}

/**
 * The forward-only cashback step: credits the cashback and the referral bonus; a credit
 * that fails for good is queued for the repair Schedule and the payment goes on (the
 * biller has the money: nothing is undone for a credit). Credits made are alerted.
 */
async function creditOrQueueRepairs({ input, workflowId, steps }: BillRun): Promise<Credit[]> {
  const { paymentId, userId, amountMinor, currency, billerId } = input;
  steps.begin('cashback');
  const repairs: PaymentRepair[] = [];
  const attempt = async <T>(credit: PaymentRepair['credit'], request: Record<string, unknown>, call: () => Promise<T>): Promise<T | null> => {
    try {
      return await call();
    } catch (err) {
      if (!isStepFailure(err)) throw err;
      repairs.push({ credit, input: request, reason: failureDetail(err) });
      return null;
    }
  };
  const cashbackRequest = { paymentId, userId, amountMinor, currency, billerId, transferKey: `${workflowId}:cashback` };
  const bonusRequest = { referredUserId: userId, currency };
  const cashback = await attempt('cashback', cashbackRequest, () => creditCashback(cashbackRequest));
  const bonus = await attempt('referral_bonus', bonusRequest, () => creditReferralBonus(bonusRequest));
  if (repairs.length > 0) {
    await queuePaymentRepairs({ paymentId, repairs });
    steps.note('cashback', 'failed', 'queued for repair');
    return [];
  }
  const transferId = cashback?.transferId ?? null;
  const bonusTransferId = bonus?.status === 'credited' ? bonus.transferId : null;
  const accounts = await recordCashback({ paymentId, cashbackMinor: cashback?.cashbackMinor ?? '0', transferId, bonusTransferId });
  steps.note('cashback', 'succeeded');
  const credits: Array<Credit | null> = [
    transferId && accounts.cashbackAccountId ? { transferId, accountId: accounts.cashbackAccountId } : null,
    bonusTransferId && accounts.bonusAccountId ? { transferId: bonusTransferId, accountId: accounts.bonusAccountId } : null,
  ];
  return credits.filter((c): c is Credit => c !== null);
}

/**
 * One SMS per posted transfer on a customer account: the amount and the fee to the
 * payer, the cashback to the payer, a referral bonus to the referrer.
 */
async function alertHoldersOfPayment({ input, steps }: BillRun, postIds: string[], credits: Credit[]): Promise<void> {
  steps.begin('notify');
  await Promise.all([
    ...postIds.map((postId) => alertHolders(postId, [input.fromAccountId])),
    ...credits.map((credit) => alertHolders(credit.transferId, [credit.accountId])),
  ]);
}

/** A reversing transfer for each posted one: the undo of a posting. */
function reverse(paymentId: string, step: PaymentStep, key: string, transferIds: string[]): Promise<void> {
  return reversePaymentTransfers({ paymentId, step, key, transferIds }).then(() => undefined);
}

/** A week after the run started: deterministic, so a retried hold asks the ledger for the same hold. */
export function holdExpiry(): string {
  return new Date(workflowInfo().runStartTime.getTime() + HOLD_TIMEOUT_MS).toISOString();
}

/**
 * Runs a payment's steps and turns how they ended into an outcome: a step failing for
 * good (after its retries) is a failure charged to that step; a workflow cancellation
 * before the point of no return is a cancellation. Anything else is a bug, rethrown so
 * that the workflow task retries rather than compensating for it.
 */
export async function runSteps(story: () => Promise<Outcome>, steps: PaymentSteps): Promise<Outcome> {
  try {
    return await story();
  } catch (err) {
    if (isCancellation(err)) return operatorCancelled;
    if (!isStepFailure(err)) throw err;
    await CancellationScope.nonCancellable(() => steps.record(steps.current, 'failed', failureDetail(err)));
    return { status: 'failed', reason: failureReason(err) };
  }
}

/** Patch id: recurring runs short of funds get their notice from the dunning run only. */
const DUNNING_OWNS_NOTICE = 'recurring-dunning-owns-notice';

/**
 * Ends a payment: on failure or cancellation, compensates and tells the payer; then
 * records the final status. Non-cancellable, so nothing stops it halfway.
 */
export async function conclude(run: {
  payment: NewPayment;
  steps: PaymentSteps;
  saga: Saga<PaymentStep>;
  outcome: Outcome;
}): Promise<PayBillResult> {
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

/**
 * Pays the biller and finds out what became of it. A decline fails the step
 * (`biller_declined`). An `unknown` answer, or a biller unreachable through every retry,
 * is followed by status queries with backoff: a payment the biller never received is
 * paid again under the same id, one still pending is waited for, and when the biller
 * stays unreachable the payment fails as `biller_unavailable`. Once paid, the step's
 * undo is recorded: the biller port has no refund, so it can only be flagged.
 */
async function payTheBiller(run: BillRun, holdIds: string[], terms: BillTerms): Promise<string[]> {
  const { input, steps, saga } = run;
  steps.begin('pay_biller');
  await steps.record('pay_biller', 'running');
  const outcome = await billerOutcome(input);
  if (outcome.status === 'unknown') return awaitResolution(run, holdIds, terms, outcome.reason);
  await steps.record('pay_biller', 'succeeded', `biller reference ${outcome.billerReference}`);
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
async function awaitResolution(run: BillRun, holdIds: string[], terms: BillTerms, reason: string): Promise<string[]> {
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

type BillerOutcome = { status: 'accepted'; billerReference: string } | { status: 'unknown'; reason: string };

/**
 * An outcome nobody knows (the biller unreachable through every retry and every status
 * query, pending past the wait, or withdrawn mid-payment): in review since the patch,
 * a `biller_unavailable` failure in histories recorded before it.
 */
function unknownOutcome(reason: string): BillerOutcome {
  if (!patched(UNKNOWN_OUTCOME_REVIEW)) throw businessFailure('biller_unavailable', reason);
  return { status: 'unknown', reason };
}

async function billerOutcome(input: PayBillInput): Promise<BillerOutcome> {
  const { paymentId, billerId, customerRef, amountMinor, currency } = input;
  const pay = async (): Promise<{ status: 'accepted'; billerReference: string } | { status: 'unknown' } | { status: 'unreachable' } | { status: 'withdrawn' }> => {
    try {
      return await payBiller({ paymentId, billerId, customerRef, amountMinor, currency });
    } catch (err) {
      // A biller withdrawn after validation may have taken an earlier attempt: nobody knows.
      if (businessFailureOf(err)?.type === 'biller_not_found') return { status: 'withdrawn' };
      // A refusal is an answer; only a biller that never answered is unreachable.
      if (!isStepFailure(err) || businessFailureOf(err)) throw err;
      return { status: 'unreachable' };
    }
  };
  const status = async () => {
    try {
      return await getBillerPaymentStatus({ billerId, paymentId });
    } catch (err) {
      if (!isStepFailure(err)) throw err;
      return { status: 'unreachable' as const };
    }
  };

  let outcome = await pay();
  let waitedMs = 0;
  for (let delayMs = FIRST_STATUS_POLL_MS; outcome.status !== 'accepted'; delayMs = Math.min(delayMs * 2, MAX_STATUS_POLL_MS)) {
    if (outcome.status === 'withdrawn') {
      // Before the patch this failure ended the payment straight away.
      if (!patched(UNKNOWN_OUTCOME_REVIEW)) throw businessFailure('biller_not_found', `no active biller ${billerId}`);
      return { status: 'unknown', reason: `biller ${billerId} was withdrawn during payment ${paymentId}` };
    }
    // After every payment call failed, one status query decides whether the biller has it.
    const known = await status();
    if (known.status === 'accepted') return { status: 'accepted', billerReference: known.billerReference };
    if (known.status === 'declined') throw businessFailure('biller_declined', `the biller declined payment ${paymentId}: ${known.reason}`);
    if (outcome.status === 'unreachable' && (known.status === 'unreachable' || known.status === 'not_found')) {
      return unknownOutcome(`the biller could not be reached for payment ${paymentId}`);
    }
    if (waitedMs >= MAX_OUTCOME_WAIT_MS) return unknownOutcome(`no outcome from the biller for payment ${paymentId}`);
    setBusinessStatus('awaiting_biller_outcome');
    await sleep(delayMs);
    waitedMs += delayMs;
    if (known.status === 'not_found') outcome = await pay();
  }
  return outcome;
}
