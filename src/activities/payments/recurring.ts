import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../../db/knex';
import { formatMoney, maskAccount } from '../../money/money';
import type { Notifier } from '../../providers/notifier';
import type { Frequency } from '../../payments/recurring/period';
import { changeStatus, findRecurringPayment, recordDunning, recordPeriodOutcome, type RecurringPaymentRow, type RecurringStatus } from '../../payments/recurring/repository';
import { paymentIdFrom } from '../../payments/repository';
import { businessFailure } from '../../temporal/failures';
import type { PayBillInput } from '../../workflows/payments/contract';

/**
 * The side effects of a recurring payment's run (docs/payments.md, "Recurring
 * payments"): reading the standing instruction, recording dunning, telling the
 * customer, and pausing the Schedule when dunning is exhausted. The payment itself is
 * the payBill workflow, started by the run as a child.
 */

/** What a run needs to know before it can name its period. */
export interface RecurringRunDetails {
  recurringPaymentId: string;
  userId: string;
  status: RecurringStatus;
  frequency: Frequency;
  timezone: string;
}

export interface BeginAttemptInput {
  recurringPaymentId: string;
  period: string;
  /** The payment workflow this attempt starts; the payment id derives from it. */
  workflowId: string;
}

export type BeginAttemptResult =
  | { status: 'proceed'; payment: PayBillInput }
  /** The customer paused or cancelled it (or it is gone): this attempt pays nothing. */
  | { status: 'stopped'; reason: 'not_found' | 'paused' | 'cancelled' };

export interface RecordDunningInput {
  recurringPaymentId: string;
  period: string;
  /** Retries made so far once the next one runs: 1 before the first retry. */
  retries: number;
  /** How long the run waits before that retry. */
  retryInMs: number;
  reason: string;
}

export interface RecurringNoticeInput {
  recurringPaymentId: string;
  period: string;
  /** `recurring:<id>:<period>:<notice>` (dedupeKeys.recurringPaymentNotice): one SMS per notice. The idempotency key, under the name recorded histories carry. */
  dedupeKey: string;
  notice: 'retry_scheduled' | 'paused';
  reason: string;
  /** Retries made (paused) or about to be made (retry_scheduled), and how many there are in all. */
  retry: number;
  retries: number;
  /** ISO instant of the next retry, for `retry_scheduled`. */
  nextRetryAt?: string;
}

export interface PauseRecurringInput {
  recurringPaymentId: string;
  period: string;
  reason: string;
}

/** Words a failure reason reads as in the customer's SMS. */
const REASON_WORDS: Record<string, string> = { insufficient_funds: 'insufficient funds' };

export function createRecurringActivities({ db, notifier, now, temporal }: { db: Db; notifier: Notifier; now: () => Date; temporal?: Client }) {
  async function rowOf(id: string): Promise<RecurringPaymentRow> {
    const row = await findRecurringPayment(db, id);
    if (!row) throw businessFailure('recurring_payment_not_found', `recurring payment ${id} does not exist`);
    return row;
  }

  return {
    /** The run's standing instruction, or null when it no longer exists (its customer was erased). */
    async loadRecurringPayment({ recurringPaymentId }: { recurringPaymentId: string }): Promise<RecurringRunDetails | null> {
      const row = await findRecurringPayment(db, recurringPaymentId);
      if (!row) return null;
      return { recurringPaymentId: row.id, userId: row.user_id, status: row.status, frequency: row.frequency, timezone: row.timezone };
    },

    /**
     * Reads the instruction again right before an attempt pays (the customer may have
     * paused or cancelled it while the run waited to retry) and answers the payment to
     * start: what the row says now, under the id the attempt's workflow id names.
     */
    async beginRecurringAttempt({ recurringPaymentId, period, workflowId }: BeginAttemptInput): Promise<BeginAttemptResult> {
      const row = await findRecurringPayment(db, recurringPaymentId);
      if (!row) return { status: 'stopped', reason: 'not_found' };
      if (row.status !== 'active') return { status: 'stopped', reason: row.status };
      return {
        status: 'proceed',
        payment: {
          paymentId: paymentIdFrom(workflowId),
          userId: row.user_id,
          billerId: row.biller_id,
          customerRef: row.customer_ref,
          fromAccountId: row.from_account_id,
          amountMinor: String(row.amount_minor),
          currency: row.currency,
          recurring: { recurringPaymentId, period },
        },
      };
    },

    /** Records that `period` will be retried and when; answers that time for the customer's notice. */
    async recordRecurringDunning(input: RecordDunningInput): Promise<{ nextRetryAt: string }> {
      const nextRetryAt = new Date(now().getTime() + input.retryInMs);
      await recordDunning(db, { id: input.recurringPaymentId, period: input.period, retries: input.retries, nextRetryAt, reason: input.reason });
      return { nextRetryAt: nextRetryAt.toISOString() };
    },

    /** Records how a period ended (reason null: paid); dunning for it, if any, is over. */
    async recordRecurringOutcome(input: { recurringPaymentId: string; period: string; reason: string | null }): Promise<void> {
      await recordPeriodOutcome(db, { id: input.recurringPaymentId, period: input.period, reason: input.reason });
    },

    /**
     * Pauses a recurring payment whose dunning is exhausted: the row first (every run
     * reads it, so from then on nothing is paid), then its Schedule, so no run fires
     * until the customer resumes. One the customer cancelled meanwhile stays cancelled.
     */
    async pauseRecurringPayment({ recurringPaymentId, period, reason }: PauseRecurringInput): Promise<{ paused: boolean }> {
      const row = await changeStatus(db, recurringPaymentId, { status: 'paused', reason });
      if (!row || row.status !== 'paused') return { paused: false };
      if (!temporal) throw new Error('pauseRecurringPayment needs a Temporal client: pass `temporal` in ActivityDeps');
      try {
        await temporal.schedule.getHandle(row.schedule_id).pause(`dunning exhausted for ${period}: ${reason}`);
      } catch (err) {
        // A deleted Schedule fires nothing any more: there is nothing left to pause.
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      }
      return { paused: true };
    },

    /**
     * Tells the customer that a period's payment failed and when it will be retried, or
     * that retries are exhausted and the recurring payment is paused. Once per notice.
     */
    async sendRecurringPaymentNotice(input: RecurringNoticeInput): Promise<{ notificationId: string }> {
      const row = await rowOf(input.recurringPaymentId);
      const user: { phone: string } | undefined = await db('users').where({ id: row.user_id }).first('phone');
      if (!user) throw businessFailure('customer_not_found', `customer ${row.user_id} does not exist`);
      const biller: { name: string } | undefined = await db('billers').where({ id: row.biller_id }).first('name');
      const sent = await notifier.send({
        dedupeKey: input.dedupeKey,
        userId: row.user_id,
        channel: 'sms',
        recipient: user.phone,
        template: `recurring_payment_${input.notice}`,
        body: composeRecurringNotice(row, biller?.name ?? row.biller_id, input),
      });
      return { notificationId: sent.id };
    },
  };
}

/** The SMS of a dunning step, dates in the customer's timezone. */
export function composeRecurringNotice(row: RecurringPaymentRow, payee: string, notice: Omit<RecurringNoticeInput, 'dedupeKey'>): string {
  const what = `your ${row.frequency} payment of ${formatMoney(BigInt(row.amount_minor), row.currency)} to ${payee} for ${notice.period}`;
  const why = REASON_WORDS[notice.reason] ?? notice.reason.replace(/_/g, ' ');
  const account = maskAccount(row.from_account_id);
  if (notice.notice === 'paused') {
    return `finflow: ${what} failed again (${why}) after ${notice.retries} retries. The recurring payment is paused; resume it once account ${account} has funds.`;
  }
  const when = notice.nextRetryAt
    ? new Date(notice.nextRetryAt).toLocaleString('en-US', { timeZone: row.timezone, dateStyle: 'medium', timeStyle: 'short' })
    : 'soon';
  return `finflow: ${what} failed: ${why}. We will try again on ${when} (retry ${notice.retry} of ${notice.retries}); please add funds to account ${account}.`;
}
