import type { Knex } from 'knex';
import type { Db } from '../../db/knex';
import { uuidV5 } from '../../ledger/ids';
import type { PaymentRow } from '../repository';
import type { Frequency } from './period';

/**
 * Persistence of recurring payments (migration 007). The row is the customer's intent;
 * the API writes it before touching the Schedule and every run reads it before paying,
 * so a run that fires while the customer pauses or cancels pays nothing.
 */

export type RecurringStatus = 'active' | 'paused' | 'cancelled';

/** Why a recurring payment is paused: by its owner, or the failure that exhausted dunning. */
export const PAUSED_BY_CUSTOMER = 'paused_by_customer';

/** Fixed forever: recurring payment ids are stored. */
const RECURRING_NAMESPACE = '41ee8479-1c1f-4335-8c4a-aae4eb06b461';

/** The id a customer's `Idempotency-Key` names, so a retried create finds the row it made. */
export function recurringPaymentIdFrom(userId: string, idempotencyKey: string): string {
  return uuidV5(RECURRING_NAMESPACE, `recurring:${userId}:${idempotencyKey}`);
}

export interface RecurringPaymentRow {
  id: string;
  user_id: string;
  biller_id: string;
  customer_ref: string;
  from_account_id: string;
  amount_minor: string;
  currency: string;
  frequency: Frequency;
  /** `YYYY-MM-DD`, in the customer's timezone. */
  start_date: string;
  timezone: string;
  status: RecurringStatus;
  paused_reason: string | null;
  schedule_id: string;
  dunning_period: string | null;
  dunning_retries: number;
  next_retry_at: Date | null;
  last_failure_reason: string | null;
  created_at: Date;
  updated_at: Date;
  cancelled_at: Date | null;
}

export interface NewRecurringPayment {
  id: string;
  userId: string;
  billerId: string;
  customerRef: string;
  fromAccountId: string;
  amountMinor: string;
  currency: string;
  frequency: Frequency;
  startDate: string;
  timezone: string;
  scheduleId: string;
}

const COLUMNS = [
  'id',
  'user_id',
  'biller_id',
  'customer_ref',
  'from_account_id',
  'amount_minor',
  'currency',
  'frequency',
  'timezone',
  'status',
  'paused_reason',
  'schedule_id',
  'dunning_period',
  'dunning_retries',
  'next_retry_at',
  'last_failure_reason',
  'created_at',
  'updated_at',
  'cancelled_at',
].map((column) => `recurring_payments.${column}`);

/** Every column, with the start date as the `YYYY-MM-DD` it was given as (pg would make it a local-midnight Date). */
function selectRows(db: Db | Knex.Transaction): Knex.QueryBuilder {
  return db('recurring_payments').select(...COLUMNS, db.raw(`to_char(recurring_payments.start_date, 'YYYY-MM-DD') as start_date`));
}

/** Inserts the row unless its id exists; answers the stored row and whether this call inserted it. */
export async function insertRecurringPayment(db: Db | Knex.Transaction, p: NewRecurringPayment): Promise<{ row: RecurringPaymentRow; inserted: boolean }> {
  const inserted = await db('recurring_payments')
    .insert({
      id: p.id,
      user_id: p.userId,
      biller_id: p.billerId,
      customer_ref: p.customerRef,
      from_account_id: p.fromAccountId,
      amount_minor: p.amountMinor,
      currency: p.currency,
      frequency: p.frequency,
      start_date: p.startDate,
      timezone: p.timezone,
      schedule_id: p.scheduleId,
    })
    .onConflict('id')
    .ignore()
    .returning('id');
  const row = await findRecurringPayment(db, p.id);
  if (!row) throw new Error(`recurring payment ${p.id} vanished after its insert`);
  return { row, inserted: inserted.length === 1 };
}

/** The recurring payment, only when it is `userId`'s (when given). */
export async function findRecurringPayment(db: Db | Knex.Transaction, id: string, userId?: string): Promise<RecurringPaymentRow | undefined> {
  const query = selectRows(db).where('recurring_payments.id', id);
  if (userId) query.andWhere('recurring_payments.user_id', userId);
  return (await query.first()) as RecurringPaymentRow | undefined;
}

/** A user's recurring payments, for the API to paginate. */
export function recurringPaymentsOf(db: Db, userId: string): Knex.QueryBuilder {
  return selectRows(db).where('recurring_payments.user_id', userId);
}

/** A user's active recurring payments, oldest first. */
export async function activeRecurringPaymentsOf(db: Db, userId: string): Promise<RecurringPaymentRow[]> {
  return (await recurringPaymentsOf(db, userId).andWhere('recurring_payments.status', 'active').orderBy('recurring_payments.created_at')) as RecurringPaymentRow[];
}

export type StatusChange = { status: 'active' } | { status: 'paused'; reason: string } | { status: 'cancelled' };

/**
 * Moves a recurring payment to a new status; a cancelled one never changes again.
 * Resuming a paused one clears its dunning state: the customer has seen to the
 * account. Pausing an already paused one keeps its first reason. Answers the row as
 * it now is.
 */
export async function changeStatus(db: Db, id: string, change: StatusChange): Promise<RecurringPaymentRow | undefined> {
  const query = db('recurring_payments').where({ id }).whereNot({ status: 'cancelled' });
  if (change.status === 'active') {
    // Only a paused one: resuming an active one must not hide a dunning still under way.
    await query.where({ status: 'paused' }).update({
      status: 'active',
      paused_reason: null,
      dunning_period: null,
      dunning_retries: 0,
      next_retry_at: null,
      updated_at: db.fn.now(),
    });
  } else if (change.status === 'paused') {
    await query.whereNot({ status: 'paused' }).update({ status: 'paused', paused_reason: change.reason, next_retry_at: null, updated_at: db.fn.now() });
  } else {
    await query.update({ status: 'cancelled', paused_reason: null, next_retry_at: null, cancelled_at: db.fn.now(), updated_at: db.fn.now() });
  }
  return findRecurringPayment(db, id);
}

/** Records that `period` failed and will be retried: the retries made so far and when the next one is due. */
export async function recordDunning(db: Db, input: { id: string; period: string; retries: number; nextRetryAt: Date; reason: string }): Promise<void> {
  await db('recurring_payments').where({ id: input.id }).update({
    dunning_period: input.period,
    dunning_retries: input.retries,
    next_retry_at: input.nextRetryAt,
    last_failure_reason: input.reason,
    updated_at: db.fn.now(),
  });
}

/** Records how a period ended: dunning for it (if any) is over; a failure's reason is kept. */
export async function recordPeriodOutcome(db: Db, input: { id: string; period: string; reason: string | null }): Promise<void> {
  await db('recurring_payments')
    .where({ id: input.id })
    .update({
      ...(input.reason ? { last_failure_reason: input.reason } : {}),
      updated_at: db.fn.now(),
    });
  await db('recurring_payments')
    .where({ id: input.id, dunning_period: input.period })
    .update({ dunning_period: null, dunning_retries: 0, next_retry_at: null });
}

/** The payments a recurring payment made, newest first. */
export async function paymentsOfRecurring(db: Db, id: string, limit: number): Promise<PaymentRow[]> {
  return (await db('payments').where({ recurring_payment_id: id }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit)) as PaymentRow[];
}
