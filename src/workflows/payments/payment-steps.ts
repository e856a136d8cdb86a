import { CancellationScope, isCancellation, proxyActivities, proxyLocalActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { STEP_PLANS, type PaymentKind, type PaymentStep, type StepStatus } from '../../payments/steps';
import { searchAttributes } from '../../temporal/names';
import { setBusinessStatus } from '../shared/business-status';
import { failureDetail, failureReason, isStepFailure } from '../shared/failures';
import type { PaymentStepOutcome } from './contract';
import { paymentProfiles } from './profiles';

/**
 * The step bookkeeping every payment saga shares: which step is under way, what each
 * reached, how the steps' failures become the payment's outcome.
 */

const { recordPaymentStep } = proxyLocalActivities<Activities>(paymentProfiles.record);
const { reversePaymentTransfers } = proxyActivities<Activities>(paymentProfiles.compensation);

/** A hold lasts a week; after that the ledger expires it, whatever became of the workflow. */
export const HOLD_TIMEOUT_MS = 7 * 24 * 3600_000;

export type Outcome = { status: 'succeeded' } | { status: 'failed' | 'cancelled'; reason: string };

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

  /**
   * Charges failures to a step without telling operators: for a step that runs in the
   * same workflow task as the one before it (a local activity), where an upsert of the
   * BusinessStatus would only add an event nobody could see.
   */
  enter(step: PaymentStep): void {
    this.current = step;
  }

  /** Notes a status an activity has recorded itself. */
  note(step: PaymentStep, status: StepStatus, reason?: string): void {
    this.reached.set(step, reason === undefined ? { step, status } : { step, status, reason });
  }

  /** Records a status change through a local activity. */
  async record(step: PaymentStep, status: StepStatus, reason?: string, amounts: { feeMinor?: string; cashbackMinor?: string; billerReference?: string } = {}): Promise<void> {
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

/** A reversing transfer for each posted one: the undo of a posting. */
export function reverse(paymentId: string, step: PaymentStep, idempotencyKey: string, transferIds: string[]): Promise<void> {
  return reversePaymentTransfers({ paymentId, step, key: idempotencyKey, transferIds }).then(() => undefined);
}
