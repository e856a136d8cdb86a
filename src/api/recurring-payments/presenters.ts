import type { PaymentRow } from '../../payments/repository';
import { LOCAL_RUN_TIME } from '../../payments/recurring/schedule';
import type { RecurringPaymentRow } from '../../payments/recurring/repository';

/** Exactly the fields of a recurring payment, its runs and their payments that leave the server. */

const pad = (n: number) => String(n).padStart(2, '0');

export function presentRecurringPayment(row: RecurringPaymentRow) {
  return {
    id: row.id,
    status: row.status,
    pausedReason: row.paused_reason,
    billerId: row.biller_id,
    customerRef: row.customer_ref,
    fromAccountId: row.from_account_id,
    amount: String(row.amount_minor),
    currency: row.currency,
    frequency: row.frequency,
    startDate: row.start_date,
    timezone: row.timezone,
    localTime: `${pad(LOCAL_RUN_TIME.hour)}:${pad(LOCAL_RUN_TIME.minute)}`,
    scheduleId: row.schedule_id,
    dunning: row.dunning_period
      ? {
          period: row.dunning_period,
          retries: row.dunning_retries,
          nextRetryAt: row.next_retry_at?.toISOString() ?? null,
          lastFailureReason: row.last_failure_reason,
        }
      : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    cancelledAt: row.cancelled_at?.toISOString() ?? null,
  };
}

/** The dunning retry a payment was (0 for the period's own payment), from its workflow id `…:retry-<n>`. */
export function attemptOf(payment: Pick<PaymentRow, 'workflow_id'>): number {
  const retry = /:retry-(\d+)$/.exec(payment.workflow_id);
  return retry ? Number(retry[1]) : 0;
}

type RunStatus = 'processing' | 'needs_review' | 'succeeded' | 'retrying' | 'failed' | 'cancelled';

/**
 * A recurring payment's past runs: its payments grouped by period, latest period first,
 * each period's payments in attempt order. A period paid once is `succeeded` whatever
 * attempts failed before; one whose dunning is still under way is `retrying`.
 */
export function presentRuns(row: RecurringPaymentRow, payments: readonly PaymentRow[]) {
  const byPeriod = new Map<string, PaymentRow[]>();
  for (const payment of payments) {
    const period = payment.period ?? '';
    byPeriod.set(period, [...(byPeriod.get(period) ?? []), payment]);
  }
  // Periods of one frequency sort as text (`2027-03`, `2027-W09`, `2027-Q1`); runs of a
  // backfill may pay them in any order.
  const newestFirst = [...byPeriod].sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0));
  return newestFirst.map(([period, inPeriod]) => {
    const attempts = [...inPeriod].sort((a, b) => attemptOf(a) - attemptOf(b));
    const last = attempts[attempts.length - 1] as PaymentRow;
    let status: RunStatus = last.status;
    if (attempts.some((p) => p.status === 'succeeded')) status = 'succeeded';
    else if (last.status === 'failed' && row.status === 'active' && row.dunning_period === period) status = 'retrying';
    return {
      period,
      status,
      payments: attempts.map((p) => ({
        id: p.id,
        attempt: attemptOf(p),
        status: p.status,
        failureReason: p.failure_reason,
        amount: String(p.amount_minor),
        fee: String(p.fee_minor),
        createdAt: p.created_at.toISOString(),
        updatedAt: p.updated_at.toISOString(),
      })),
    };
  });
}
