/**
 * The steps of a payment and the statuses each may reach (docs/payments.md, "The payment
 * saga"). Workflow-safe: no I/O, so the payment workflows, their activities and the API
 * share one definition.
 */

export type PaymentKind = 'bill' | 'card';
export type PaymentStatus = 'processing' | 'succeeded' | 'failed' | 'cancelled';
export type PaymentStep = 'validate' | 'hold' | 'pay_biller' | 'post' | 'cashback' | 'notify';

/**
 * `pending`: not reached yet (shown, never stored); `compensated`: its effect was undone
 * (a void or a reversing transfer); `compensation_failed`: the undo failed and an
 * operator must finish it; `skipped`: never ran because the payment ended first.
 */
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'compensated' | 'compensation_failed' | 'skipped';

/** The steps each kind of payment walks through, in order. */
export const STEP_PLANS: Record<PaymentKind, readonly PaymentStep[]> = {
  bill: ['validate', 'hold', 'pay_biller', 'post', 'cashback', 'notify'],
  card: ['validate', 'hold', 'post', 'notify'],
};
