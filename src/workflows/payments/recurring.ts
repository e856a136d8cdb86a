import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  executeChild,
  patched,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { periodOf } from '../../payments/recurring/period';
import { dedupeKeys, systemSearchAttributes, workflowIds } from '../../temporal/names';
import { profiles } from '../shared/activity-profiles';
import { setBusinessStatus } from '../shared/business-status';
import type { PayBillResult, RecurringPaymentRunInput, RecurringPaymentRunResult } from './contract';
import { payBill } from './pay-bill';
import { payBillV2 } from './pay-bill-v2';
import { payBillV3 } from './pay-bill-v3';

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

/** What a run knows while it pays its period. */
interface Run {
  recurringPaymentId: string;
  period: string;
  /** The payments started so far, in order. */
  paymentIds: string[];
}

const RETRIES = DUNNING_DELAYS_MS.length;

/** Patch id: a run pays its period with payBillV2 (the saga in few round trips). */
export const PAYS_WITH_V2 = 'recurring-pays-with-pay-bill-v2';

/** Patch id: a run pays its period with payBillV3 (the payment ends before its notice). */
export const PAYS_WITH_V3 = 'recurring-pays-with-pay-bill-v3';

export async function recurringPaymentRun(input: RecurringPaymentRunInput): Promise<RecurringPaymentRunResult> {
  const { recurringPaymentId } = input;
  const recurring = await loadRecurringPayment({ recurringPaymentId });
  if (!recurring) return finish({ period: null, status: 'skipped', reason: 'not_found', paymentIds: [] });
  const run: Run = { recurringPaymentId, period: periodOf(recurring.frequency, scheduledTimeOf(input), recurring.timezone), paymentIds: [] };

  for (let retry = 0; ; retry++) {
    if (retry > 0) {
      setBusinessStatus(`awaiting_retry_${retry}`);
      await sleep(DUNNING_DELAYS_MS[retry - 1] as number);
    }
    const attempt = await payOnce(run, retry);
    if (attempt.status !== 'unpaid') return finish(attempt);
    if (!DUNNED_REASONS.has(attempt.reason)) {
      await recordRecurringOutcome({ recurringPaymentId, period: run.period, reason: attempt.reason });
      return finish({ ...result(run, 'failed'), reason: attempt.reason });
    }
    if (retry === RETRIES) return finish(await giveUp(run, attempt.reason));
    await announceRetry(run, retry + 1, attempt.reason);
  }
}

const result = (run: Run, status: RecurringPaymentRunResult['status']): RecurringPaymentRunResult => ({
  period: run.period,
  status,
  paymentIds: run.paymentIds,
});

/**
 * One attempt at the period: the period's payment (retry 0) or its n-th dunning retry,
 * as a child payBill under an id no other run can start again. `unpaid` carries the
 * reason the payment failed or was cancelled.
 */
async function payOnce(run: Run, retry: number): Promise<RecurringPaymentRunResult | { status: 'unpaid'; reason: string }> {
  const { recurringPaymentId, period } = run;
  const workflowId = workflowIds.recurringPayment(recurringPaymentId, period, retry);
  const attempt = await beginRecurringAttempt({ recurringPaymentId, period, workflowId });
  if (attempt.status === 'stopped') return { ...result(run, 'skipped'), reason: attempt.reason };

  setBusinessStatus(retry === 0 ? 'paying' : `paying_retry_${retry}`);
  let paid: PayBillResult;
  try {
    // Runs since each patch pay with the newest saga; older ones replay as they ran.
    const saga = patched(PAYS_WITH_V3) ? payBillV3 : patched(PAYS_WITH_V2) ? payBillV2 : payBill;
    paid = await executeChild(saga, {
      workflowId,
      args: [attempt.payment],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      // The payment is a saga with money held: it finishes whatever becomes of this run.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return result(run, 'already_paid');
    throw err;
  }
  run.paymentIds.push(attempt.payment.paymentId);
  if (paid.status !== 'succeeded') return { status: 'unpaid', reason: paid.reason ?? paid.status };
  await recordRecurringOutcome({ recurringPaymentId, period, reason: null });
  return result(run, 'paid');
}

/** Records that the period will be retried and tells the customer when. */
async function announceRetry(run: Run, retry: number, reason: string): Promise<void> {
  const { recurringPaymentId, period } = run;
  const { nextRetryAt } = await recordRecurringDunning({ recurringPaymentId, period, reason, retries: retry, retryInMs: DUNNING_DELAYS_MS[retry - 1] as number });
  await sendRecurringPaymentNotice({
    recurringPaymentId,
    period,
    reason,
    notice: 'retry_scheduled',
    retry,
    retries: RETRIES,
    nextRetryAt,
    dedupeKey: dedupeKeys.recurringPaymentNotice(recurringPaymentId, period, `retry-${retry}`),
  });
}

/** Dunning is exhausted: pause the recurring payment and its Schedule, and say so (unless the customer cancelled it meanwhile). */
async function giveUp(run: Run, reason: string): Promise<RecurringPaymentRunResult> {
  const { recurringPaymentId, period } = run;
  const { paused } = await pauseRecurringPayment({ recurringPaymentId, period, reason });
  if (!paused) return { ...result(run, 'skipped'), reason };
  await sendRecurringPaymentNotice({
    recurringPaymentId,
    period,
    reason,
    notice: 'paused',
    retry: RETRIES,
    retries: RETRIES,
    dedupeKey: dedupeKeys.recurringPaymentNotice(recurringPaymentId, period, 'paused'),
  });
  return { ...result(run, 'paused'), reason };
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

function finish(result: RecurringPaymentRunResult): RecurringPaymentRunResult {
  setBusinessStatus(result.status);
  return result;
}
