import { attemptsOf, findPayment, firstAttemptOf, type PaymentRow } from '../../payments/repository';
import { workflowIds } from '../../temporal/names';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import type { Submitted } from '../core/money-requests';
import { payBillFor } from './service';

/**
 * Retrying a failed bill payment (docs/payments.md, "Retrying a payment"): a new
 * payment of the same bill, from the same account, linked to the first attempt
 * (`retryOf`), checked and run like any payment. Only a bill none of whose attempts
 * succeeded, is running or waits for review may be retried. The new attempt is named by
 * the first attempt and its position (`workflowIds.paymentRetry`), so two retries
 * racing with different Idempotency-Keys start one payment, not two.
 */
export async function retryPaymentOf(app: AppContext, userId: string, idempotencyKey: string, id: string): Promise<Submitted<PaymentRow>> {
  const payment = await findPayment(app.deps.db, id, userId);
  if (!payment) throw problems.notFound('No such payment.');
  if (payment.kind !== 'bill' || payment.biller_id === null || payment.customer_ref === null) {
    throw problems.paymentNotRetryable('Only a bill payment can be retried; pay the card again with a new request.');
  }
  if (payment.status !== 'failed') throw problems.paymentNotRetryable(`The payment ${payment.status === 'processing' || payment.status === 'needs_review' ? 'is still running' : `has ${payment.status}`}; only a failed payment can be retried.`);
  const first = firstAttemptOf(payment);
  const attempts = (await attemptsOf(app.deps.db, [payment])).get(first) ?? [];
  const open = attempts.find((a) => a.status !== 'failed' && a.status !== 'cancelled');
  if (open) throw problems.paymentNotRetryable(`Attempt ${open.id} of this bill ${open.status === 'succeeded' ? 'succeeded' : 'is still running'}.`);

  const body = {
    billerId: payment.biller_id,
    customerRef: payment.customer_ref,
    amount: String(payment.amount_minor),
    fromAccountId: payment.from_account_id,
    ...(payment.use_cashback ? { useCashback: true } : {}),
  };
  const workflowId = workflowIds.paymentRetry(userId, first, attempts.length + 1);
  return payBillFor(app, userId, idempotencyKey, body, { workflowId, retryOf: first });
}
