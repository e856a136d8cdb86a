import {
  ParentClosePolicy,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  executeChild,
  proxyActivities,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { periodOf } from '../payments/recurring/period';
import { dedupeKeys, scheduleIds, searchAttributes, systemSearchAttributes, workflowIds } from '../temporal/names';
import { profiles } from './activity-profiles';
import { payBill, type PayBillResult } from './pay-bill';

/**
 * One run of a recurring payment, started by its Temporal Schedule
 * (`recurring-payment:<id>`; docs/payments.md, "Recurring payments"):
 *
 *   read the instruction → name the period → pay it (child payBill) → on insufficient
 *   funds, retry after 1 day and again after 3 days, telling the customer each time →
 *   after the last retry fails, pause the Schedule and say so.
 *
 * The period's payment has the workflow id `payment:recurring:<id>:<period>` and a
 * retry `…:retry-<n>`, started with REJECT_DUPLICATE: a second run of the same period
 * (a double fire, a backfill, a retried run) cannot start it again, and stops there.
 */

const { loadRecurringPayment, beginRecurringAttempt, recordRecurringDunning, recordRecurringOutcome, pauseRecurringPayment } =
  proxyActivities<Activities>(profiles.database);
const { sendRecurringPaymentNotice } = proxyActivities<Activities>(profiles.provider);

/** Waits before each dunning retry: the first after a day, the second three days later. */
export const DUNNING_DELAYS_MS = [24 * 3600_000, 3 * 24 * 3600_000] as const;

/** A failure dunning retries: the account may have money tomorrow; a declined bill will not change. */
const DUNNED_REASONS = new Set(['insufficient_funds']);

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

export async function recurringPaymentRun(input: RecurringPaymentRunInput): Promise<RecurringPaymentRunResult> {
  const { recurringPaymentId } = input;
  const recurring = await loadRecurringPayment({ recurringPaymentId });
  if (!recurring) return finish({ period: null, status: 'skipped', reason: 'not_found', paymentIds: [] });
  const period = periodOf(recurring.frequency, scheduledTimeOf(input), recurring.timezone);
  const paymentIds: string[] = [];
  const retries = DUNNING_DELAYS_MS.length;

  for (let retry = 0; ; retry++) {
    if (retry > 0) {
      setBusinessStatus(`awaiting_retry_${retry}`);
      await sleep(DUNNING_DELAYS_MS[retry - 1] as number);
    }
    const workflowId = workflowIds.recurringPayment(recurringPaymentId, period, retry);
    const attempt = await beginRecurringAttempt({ recurringPaymentId, period, workflowId });
    if (attempt.status === 'stopped') return finish({ period, status: 'skipped', reason: attempt.reason, paymentIds });

    setBusinessStatus(retry === 0 ? 'paying' : `paying_retry_${retry}`);
    let result: PayBillResult;
    try {
      result = await executeChild(payBill, {
        workflowId,
        args: [attempt.payment],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        // The payment is a saga with money held: it finishes whatever becomes of this run.
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return finish({ period, status: 'already_paid', paymentIds });
      throw err;
    }
    paymentIds.push(attempt.payment.paymentId);

    if (result.status === 'succeeded') {
      await recordRecurringOutcome({ recurringPaymentId, period, reason: null });
      return finish({ period, status: 'paid', paymentIds });
    }
    const reason = result.reason ?? result.status;
    if (!DUNNED_REASONS.has(reason)) {
      await recordRecurringOutcome({ recurringPaymentId, period, reason });
      return finish({ period, status: 'failed', reason, paymentIds });
    }
    const notice = { recurringPaymentId, period, reason, retries };
    if (retry === retries) {
      const { paused } = await pauseRecurringPayment({ recurringPaymentId, period, reason });
      if (paused) {
        await sendRecurringPaymentNotice({ ...notice, notice: 'paused', retry, dedupeKey: dedupeKeys.recurringPaymentNotice(recurringPaymentId, period, 'paused') });
      }
      return finish({ period, status: paused ? 'paused' : 'skipped', reason, paymentIds });
    }
    const { nextRetryAt } = await recordRecurringDunning({ recurringPaymentId, period, reason, retries: retry + 1, retryInMs: DUNNING_DELAYS_MS[retry] as number });
    await sendRecurringPaymentNotice({
      ...notice,
      notice: 'retry_scheduled',
      retry: retry + 1,
      nextRetryAt,
      dedupeKey: dedupeKeys.recurringPaymentNotice(recurringPaymentId, period, `retry-${retry + 1}`),
    });
  }
}

/**
 * The time the run stands for: the input's, else the time its Schedule fired it for
 * (not when it started: a backfilled or delayed run still pays its own period), else
 * the start of the run.
 */
function scheduledTimeOf(input: RecurringPaymentRunInput): Date {
  if (input.scheduledAt) return new Date(input.scheduledAt);
  const info = workflowInfo();
  const scheduled = info.typedSearchAttributes.get(systemSearchAttributes.TemporalScheduledStartTime);
  return scheduled ?? info.startTime;
}

function setBusinessStatus(value: string): void {
  upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value }]);
}

function finish(result: RecurringPaymentRunResult): RecurringPaymentRunResult {
  setBusinessStatus(result.status);
  return result;
}

/** The Schedule that starts these runs, for operators reading a run's history. */
export const scheduleIdOf = scheduleIds.recurringPayment;
