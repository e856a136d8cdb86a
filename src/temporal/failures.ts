import { ApplicationFailure } from '@temporalio/common';

/**
 * Business failures: outcomes that retrying cannot change. Activities throw them as
 * non-retryable ApplicationFailures whose `type` is one of these names; anything else
 * an activity throws is a technical failure that Temporal retries.
 */
export type BusinessFailureType =
  | 'customer_not_found'
  | 'sms_rejected'
  | 'email_rejected'
  /** The ledger refused a transfer; `details[0].code` is the ledger's error code. */
  | 'insufficient_funds'
  | 'exceeds_credit_limit'
  | 'account_not_found'
  | 'currency_mismatch'
  | 'transfer_rejected'
  /** An alert or posting names a ledger transfer that does not exist. */
  | 'transfer_not_found'
  // Payments (docs/payments.md). A payment that ends `failed` carries one of these as its reason.
  /** No active biller has this id. */
  | 'biller_not_found'
  /** The customer reference does not match the biller's format. */
  | 'invalid_customer_reference'
  /** The biller does not know the customer reference. */
  | 'unknown_customer'
  /** The biller refused the payment; the message says why. */
  | 'biller_declined'
  /** The biller could not be reached through every retry, and never received the payment. */
  | 'biller_unavailable'
  /** An operator, reviewing a payment whose biller outcome was unknown, found the biller was not paid. */
  | 'biller_not_paid'
  /** A per-transaction or daily limit (docs/security.md); `details[0].limit` names it. */
  | 'limit_exceeded'
  /** The payment no longer fits its biller (withdrawn, limits or currency changed since it was accepted). */
  | 'payment_invalid'
  /** A cancel after the biller was called (or after the payment finished): the update validator's refusal. */
  | 'payment_not_cancellable'
  // Recurring payments (docs/payments.md, "Recurring payments").
  /** The recurring payment a run or notice names does not exist (its customer was erased). */
  | 'recurring_payment_not_found'
  // Statements (docs/statements.md).
  /** The statement a step names has no row (or its holder was erased). */
  | 'statement_not_found'
  // Invoices (docs/invoices.md).
  /** The customer has no mailbox connected (removed, or erased, since the run was asked for). */
  | 'mailbox_not_connected'
  /** The invoice a notice or payment names does not exist (erased). */
  | 'invoice_not_found';

export function businessFailure(type: BusinessFailureType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? [] : [details] });
}

/**
 * The business failure behind an error a workflow caught (an ActivityFailure wraps the
 * activity's ApplicationFailure), or undefined for a technical failure. Workflow-safe.
 */
export function businessFailureOf(err: unknown): { type: BusinessFailureType; message: string } | undefined {
  for (let cause: unknown = err; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure && cause.nonRetryable && cause.type) {
      return { type: cause.type as BusinessFailureType, message: cause.message };
    }
  }
  return undefined;
}
