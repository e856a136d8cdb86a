import type { z } from 'zod';
import type { AttemptRow, PaymentRow, PaymentStepRow } from '../../payments/repository';
import type { Quote } from '../../payments/quote';
import { STEP_PLANS } from '../../payments/steps';
import type { PaymentSchema } from './schema';

type PresentedStep = z.infer<typeof PaymentSchema>['steps'][number];

/**
 * Each planned step with the status it last reached and its whole history. A step a
 * running payment has not reached yet is `pending`.
 */
function presentSteps(row: PaymentRow, history: readonly PaymentStepRow[]): PresentedStep[] {
  return STEP_PLANS[row.kind].map((step) => {
    const changes = history.filter((h) => h.step === step);
    const last = changes[changes.length - 1];
    return {
      step,
      status: last?.status ?? 'pending',
      at: last ? last.at.toISOString() : null,
      reason: last?.reason ?? null,
      history: changes.map((h) => ({ status: h.status, at: h.at.toISOString(), reason: h.reason })),
    };
  });
}

/** Exactly the fields of a payment that leave the server. */
export function presentPayment({ row, steps: history, attempts }: { row: PaymentRow; steps: readonly PaymentStepRow[]; attempts: readonly AttemptRow[] }): z.infer<typeof PaymentSchema> {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    resolution:
      row.resolution && row.resolved_at ? { outcome: row.resolution, note: row.resolution_note ?? '', at: row.resolved_at.toISOString() } : null,
    failureReason: row.failure_reason,
    billerId: row.biller_id,
    customerRef: row.customer_ref,
    fromAccountId: row.from_account_id,
    cardId: row.to_account_id,
    amount: String(row.amount_minor),
    fee: String(row.fee_minor),
    total: (BigInt(row.amount_minor) + BigInt(row.fee_minor)).toString(),
    cashback: String(row.cashback_minor),
    useCashback: row.use_cashback,
    cashbackUsed: String(row.cashback_used_minor),
    billerReference: row.biller_reference,
    currency: row.currency,
    recurringPaymentId: row.recurring_payment_id,
    period: row.period,
    retryOf: row.retry_of,
    attempts: attempts.map((a, i) => ({ attempt: i + 1, id: a.id, status: a.status, failureReason: a.failure_reason, createdAt: a.created_at.toISOString() })),
    steps: presentSteps(row, history),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** A quote as the client sees it, with the customer the biller named and whether the account covers it. */
export function presentQuote(quote: Quote, customer: { customerRef: string; customerName: string }, sufficientFunds: boolean | null) {
  return {
    billerId: quote.billerId,
    customerRef: customer.customerRef,
    customerName: customer.customerName,
    currency: quote.currency,
    amount: quote.amountMinor.toString(),
    fee: quote.feeMinor.toString(),
    total: quote.totalMinor.toString(),
    cashback: quote.cashbackMinor.toString(),
    cashbackRateBps: quote.cashback.rateBps,
    cashbackUsed: (quote.spend?.cashbackUsedMinor ?? 0n).toString(),
    fromAccount: (quote.spend?.walletMinor ?? quote.totalMinor).toString(),
    monthlyCashbackCap: {
      limit: quote.cashback.capMinor.toString(),
      used: quote.cashback.monthToDateMinor.toString(),
      remaining: quote.cashback.remainingBeforeMinor.toString(),
    },
    sufficientFunds,
    rules: quote.rules,
  };
}
