import { defineUpdate } from '@temporalio/workflow';
import type { PaymentStep, StepStatus } from '../../payments/steps';

/**
 * What the payments line's workflows take, answer and accept (bill and card payments,
 * recurring payment runs): the only workflow module the API and the activities import.
 */

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
  /** The payer's cashback pays first, the account the rest (docs/payments.md, "Paying with cashback"). */
  useCashback?: boolean;
  /** The first attempt this payment retries (POST /v1/payments/{id}/retry). */
  retryOf?: string;
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

export type PayBillWorkflow = (input: PayBillInput) => Promise<PayBillResult>;

/** Cancels a payment whose biller has not been called; answers the payment's final result. */
export const cancelPaymentUpdate = defineUpdate<PayBillResult>('cancel');

/**
 * Answers a payBillV2 or payBillV3 payment's final result once it has one: what a
 * caller waits on when it starts the payment with update-with-start (the API, for
 * payBillV3, whose payment is final before its notice is sent).
 */
export const paymentOutcomeUpdate = defineUpdate<PayBillResult>('outcome');

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

export interface PayCardInput {
  /** Derived from the workflow id (`paymentIdFrom`). */
  paymentId: string;
  userId: string;
  /** The credit card being paid. */
  cardAccountId: string;
  /** The payer's savings account or wallet. */
  fromAccountId: string;
  amountMinor: string;
  currency: string;
}

export type PayCardResult = PayBillResult;

export type PayCardWorkflow = (input: PayCardInput) => Promise<PayCardResult>;

export interface RecurringPaymentRunInput {
  recurringPaymentId: string;
  /**
   * The time this run stands for (ISO 8601). A Schedule's run leaves it out and the
   * Schedule's `TemporalScheduledStartTime` is used; tests and operators pass it.
   */
  scheduledAt?: string;
}

export interface RecurringPaymentRunResult {
  /** Null when the run stopped before it could name one (the instruction is gone). */
  period: string | null;
  /**
   * `paid`; `already_paid`: another run started this period's payment; `failed`: a
   * failure dunning does not retry; `paused`: dunning exhausted; `skipped`: the
   * instruction is paused, cancelled or gone.
   */
  status: 'paid' | 'already_paid' | 'failed' | 'paused' | 'skipped';
  reason?: string;
  /** The payments this run started, in order. */
  paymentIds: string[];
}

export type RecurringPaymentRunWorkflow = (input: RecurringPaymentRunInput) => Promise<RecurringPaymentRunResult>;
