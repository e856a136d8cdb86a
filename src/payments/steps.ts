/**
 * The steps of a payment and the statuses each may reach (docs/payments.md, "The payment
 * saga"). Workflow-safe: no I/O, so the payment workflows, their activities and the API
 * share one definition.
 */

export type PaymentKind = 'bill' | 'card';
/**
 * `needs_review`: the biller's outcome is unknown; the hold stays until an operator
 * resolves the payment as paid or not paid.
 */
export type PaymentStatus = 'processing' | 'needs_review' | 'succeeded' | 'failed' | 'cancelled';
export type PaymentStep = 'validate' | 'hold' | 'pay_biller' | 'post' | 'cashback' | 'notify';

/**
 * `pending`: not reached yet (shown, never stored); `compensated`: its effect was undone
 * (a void or a reversing transfer); `compensation_failed`: the undo failed and an
 * operator must finish it; `skipped`: never ran because the payment ended first;
 * `needs_review`: `pay_biller` with no known outcome, waiting for an operator.
 */
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'needs_review' | 'compensated' | 'compensation_failed' | 'skipped';

/** The steps each kind of payment walks through, in order. */
export const STEP_PLANS: Record<PaymentKind, readonly PaymentStep[]> = {
  bill: ['validate', 'hold', 'pay_biller', 'post', 'cashback', 'notify'],
  card: ['validate', 'hold', 'post', 'notify'],
};
