import { ScheduleAlreadyRunning, ScheduleNotFoundError } from '@temporalio/client';
import { canonicalTimeZone, compareLocalDates, formatLocalDate, localDateTimeOf, parseLocalDate, type LocalDate } from '../../payments/recurring/period';
import {
  PAUSED_BY_CUSTOMER,
  activeRecurringPaymentsOf,
  changeStatus,
  findRecurringPayment,
  insertRecurringPayment,
  paymentsOfRecurring,
  recurringPaymentIdFrom,
  recurringPaymentsOf,
  type RecurringPaymentRow,
  type StatusChange,
} from '../../payments/recurring/repository';
import { LOCAL_RUN_TIME, recurringScheduleOptions } from '../../payments/recurring/schedule';
import type { PaymentRow } from '../../payments/repository';
import { withDeadline } from '../../temporal/client';
import { scheduleIds } from '../../temporal/names';
import { validateCustomer } from '../billers/checks';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import { paginate, type PageQuery } from '../core/pagination';
import { checkBill, payingAccount } from '../payments/checks';
import type { RecurringPaymentBody } from './schema';

/**
 * Recurring payments (docs/payments.md, "Recurring payments"). The row is the
 * customer's intent and is written first; the Temporal Schedule follows it. Every run
 * reads the row before paying, so when a Schedule call fails after the row changed
 * (a 503 the client retries) nothing is paid that the customer stopped.
 */

/** How many of the Schedule's next fire times GET shows. */
const NEXT_RUNS = 5;
/** How many of its latest payments GET groups into past runs. */
const PAST_PAYMENTS = 60;

export interface RecurringPaymentView {
  row: RecurringPaymentRow;
  nextRuns: Date[];
  payments: PaymentRow[];
}

/** Whether a stored recurring payment records the same request (a repeat of its Idempotency-Key). */
function sameRequest(row: RecurringPaymentRow, body: RecurringPaymentBody, timezone: string, fromAccountId: string): boolean {
  return (
    row.biller_id === body.billerId &&
    row.customer_ref === body.customerRef &&
    row.from_account_id === fromAccountId &&
    String(row.amount_minor) === body.amount &&
    row.frequency === body.frequency &&
    row.start_date === body.startDate &&
    row.timezone === timezone
  );
}

/**
 * The checks a payment makes before it starts (biller, reference format, limits, the
 * payer's own account in the biller's currency), plus the customer at the biller:
 * a standing instruction to an unknown reference would fail every period.
 */
async function checkPayment(app: AppContext, userId: string, body: RecurringPaymentBody) {
  const { biller } = await checkBill(app, body);
  const account = await payingAccount(app, userId, body.fromAccountId, biller.currency);
  await validateCustomer(app.deps.billers, biller, body.customerRef);
  return { biller, account };
}

/**
 * Sets up a recurring payment: its row (id derived from the Idempotency-Key), then its
 * Schedule. A repeat of the request finds both; a repeat after a failed Schedule call
 * creates the Schedule. A start date of today whose 09:00 has passed pays today's
 * period at once rather than skipping it.
 */
export async function createRecurringPayment(app: AppContext, userId: string, idempotencyKey: string, body: RecurringPaymentBody): Promise<{ view: RecurringPaymentView; fresh: boolean }> {
  const { db, now } = app.deps;
  const timezone = canonicalTimeZone(body.timezone) as string;
  const startDate = parseLocalDate(body.startDate) as LocalDate;
  const id = recurringPaymentIdFrom(userId, idempotencyKey);
  const existing = await findRecurringPayment(db, id, userId);
  if (existing) {
    // A repeat is answered from what the first request made, whatever has changed since.
    if (!sameRequest(existing, body, timezone, body.fromAccountId)) throw problems.idempotencyKeyReused();
    if (existing.status !== 'cancelled') await ensureSchedule(app, existing, { triggerImmediately: false, paused: existing.status === 'paused' });
    return { view: await viewOf(app, existing), fresh: false };
  }

  const localNow = localDateTimeOf(now(), timezone);
  if (compareLocalDates(startDate, localNow) < 0) {
    throw problems.field('body', 'startDate', 'in_the_past', `startDate must be today (${formatLocalDate(localNow)} in ${timezone}) or later.`);
  }
  const { biller, account } = await checkPayment(app, userId, body);
  const { row, inserted } = await insertRecurringPayment(db, {
    id,
    userId,
    billerId: biller.id,
    customerRef: body.customerRef,
    fromAccountId: account.id,
    amountMinor: body.amount,
    currency: biller.currency,
    frequency: body.frequency,
    startDate: body.startDate,
    timezone,
    scheduleId: scheduleIds.recurringPayment(id),
  });
  const startsToday = compareLocalDates(startDate, localNow) === 0;
  const runTimePassed = localNow.hour * 60 + localNow.minute >= LOCAL_RUN_TIME.hour * 60 + LOCAL_RUN_TIME.minute;
  try {
    await ensureSchedule(app, row, { triggerImmediately: inserted && startsToday && runTimePassed, paused: false });
  } catch (err) {
    // Nothing fires for a row whose Schedule was never made: it goes, and a retry makes both.
    if (inserted) await db('recurring_payments').where({ id }).delete();
    throw err;
  }
  return { view: await viewOf(app, row), fresh: inserted };
}

/** Creates the row's Schedule unless it exists. */
async function ensureSchedule(app: AppContext, row: RecurringPaymentRow, options: { triggerImmediately: boolean; paused: boolean }): Promise<void> {
  const { temporal } = app.deps;
  const schedule = recurringScheduleOptions({
    id: row.id,
    userId: row.user_id,
    frequency: row.frequency,
    startDate: parseLocalDate(row.start_date) as LocalDate,
    timezone: row.timezone,
    triggerImmediately: options.triggerImmediately,
  });
  if (options.paused) schedule.state = { paused: true, note: row.paused_reason ?? PAUSED_BY_CUSTOMER };
  try {
    await withDeadline(temporal, app.config.dependencyTimeoutMs, () => temporal.schedule.create(schedule));
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}

/** The caller's own recurring payment, or 404: another customer's is indistinguishable from none. */
async function ownRecurringPayment(app: AppContext, userId: string, id: string): Promise<RecurringPaymentRow> {
  const row = await findRecurringPayment(app.deps.db, id, userId);
  if (!row) throw problems.notFound('No such recurring payment.');
  return row;
}

/** When the Schedule fires next; none unless the recurring payment is active (or its Schedule is gone). */
async function nextRunsOf(app: AppContext, row: RecurringPaymentRow, count: number): Promise<Date[]> {
  if (row.status !== 'active') return [];
  const { temporal } = app.deps;
  try {
    const described = await withDeadline(temporal, app.config.dependencyTimeoutMs, () => temporal.schedule.getHandle(row.schedule_id).describe());
    return described.state.paused ? [] : described.info.nextActionTimes.slice(0, count);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return [];
    throw err;
  }
}

async function viewOf(app: AppContext, row: RecurringPaymentRow): Promise<RecurringPaymentView> {
  const [nextRuns, payments] = await Promise.all([nextRunsOf(app, row, NEXT_RUNS), paymentsOfRecurring(app.deps.db, row.id, PAST_PAYMENTS)]);
  return { row, nextRuns, payments };
}

export async function viewRecurringPayment(app: AppContext, userId: string, id: string): Promise<RecurringPaymentView> {
  return viewOf(app, await ownRecurringPayment(app, userId, id));
}

export async function listRecurringPayments(app: AppContext, userId: string, page: PageQuery): Promise<{ rows: RecurringPaymentRow[]; nextCursor: string | null }> {
  return paginate<RecurringPaymentRow>(recurringPaymentsOf(app.deps.db, userId), page, 'recurring_payments');
}

/**
 * Pauses, resumes or cancels the caller's recurring payment: the row first, then the
 * Schedule (paused, unpaused, deleted). Each is idempotent and also repairs a Schedule
 * left behind by an earlier failed call. A cancelled one cannot be paused or resumed.
 */
export async function changeRecurringPayment(app: AppContext, userId: string, id: string, action: 'pause' | 'resume' | 'cancel'): Promise<RecurringPaymentView> {
  const { db, temporal } = app.deps;
  const current = await ownRecurringPayment(app, userId, id);
  if (current.status === 'cancelled' && action !== 'cancel') throw problems.conflict('This recurring payment is cancelled; create a new one.');
  const change: StatusChange =
    action === 'pause' ? { status: 'paused', reason: PAUSED_BY_CUSTOMER } : action === 'resume' ? { status: 'active' } : { status: 'cancelled' };
  const row = (await changeStatus(db, id, change)) ?? current;
  const handle = temporal.schedule.getHandle(row.schedule_id);
  try {
    await withDeadline(temporal, app.config.dependencyTimeoutMs, () => {
      if (action === 'pause') return handle.pause('paused by the customer');
      if (action === 'resume') return handle.unpause('resumed by the customer');
      return handle.delete();
    });
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    // A Schedule that is gone is what a cancel wants; to resume, it is made again.
    if (action === 'resume') await ensureSchedule(app, row, { triggerImmediately: false, paused: false });
  }
  return viewOf(app, row);
}

/**
 * The dashboard's upcoming recurring payments: the next run of each active one, soonest
 * first. One whose Schedule cannot be described just now is left out rather than
 * failing the dashboard.
 */
export async function upcomingRecurringPayments(app: AppContext, userId: string) {
  const rows = await activeRecurringPaymentsOf(app.deps.db, userId);
  const upcoming = await Promise.all(
    rows.map(async (row) => {
      const [next] = await nextRunsOf(app, row, 1).catch(() => []);
      return next ? { id: row.id, billerId: row.biller_id, amount: String(row.amount_minor), currency: row.currency, nextRunAt: next.toISOString() } : undefined;
    }),
  );
  return upcoming.filter((u) => u !== undefined).sort((a, b) => (a.nextRunAt < b.nextRunAt ? -1 : a.nextRunAt > b.nextRunAt ? 1 : 0));
}
