import type { Knex } from 'knex';
import { releaseLimit } from '../limits/reserve';
import { emitBusinessEvent } from '../observability/business-events';
import type { Db } from '../db/knex';
import { uuidV5 } from '../ledger/ids';
import { STEP_PLANS, type PaymentKind, type PaymentStatus, type PaymentStep, type StepStatus } from './steps';

/**
 * Persistence of payments and their step history (migration 006). Only the payment
 * workflow's activities write here after the API's first insert; every write is
 * idempotent, since an activity may run again after a crash.
 */

export type { PaymentKind, PaymentStatus, PaymentStep, StepStatus } from './steps';

/**
 * Accounts a payment may draw on: the customer's own money (a wallet or savings). A card's
 * credit is not spent on bills or on another card.
 */
export const PAYING_ACCOUNT_TYPES: ReadonlySet<string> = new Set(['wallet', 'savings']);

/** Fixed forever: payment ids are stored. */
const PAYMENT_NAMESPACE = '3d0c2b8e-5f64-4a7e-9c1d-8b2f6a4e7d90';

/**
 * The payment id for a workflow id (`payment:<userId>:<key>`, or a recurring run's),
 * so the API, a Schedule and a retried start all name the same payment.
 */
export function paymentIdFrom(workflowId: string): string {
  return uuidV5(PAYMENT_NAMESPACE, workflowId);
}

export interface PaymentRow {
  id: string;
  user_id: string;
  kind: PaymentKind;
  biller_id: string | null;
  customer_ref: string | null;
  from_account_id: string;
  to_account_id: string | null;
  amount_minor: string;
  fee_minor: string;
  cashback_minor: string;
  currency: string;
  status: PaymentStatus;
  failure_reason: string | null;
  workflow_id: string;
  recurring_payment_id: string | null;
  period: string | null;
  /** An operator's answer for a payment that needed review. */
  resolution: 'paid' | 'not_paid' | null;
  resolution_note: string | null;
  resolved_at: Date | null;
  /** The payer's cashback paid first (migration H01); what it paid of the total. */
  use_cashback: boolean;
  cashback_used_minor: string;
  /** The biller's own reference for the payment, once it accepted it. */
  biller_reference: string | null;
  /** The first attempt this payment retries; null for a first attempt. */
  retry_of: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface PaymentStepRow {
  id: string;
  payment_id: string;
  step: PaymentStep;
  status: StepStatus;
  reason: string | null;
  at: Date;
}

/** What a payment is, as its workflow knows it: enough to write its row if nobody has yet. */
export interface NewPayment {
  id: string;
  userId: string;
  kind: PaymentKind;
  billerId: string | null;
  customerRef: string | null;
  fromAccountId: string;
  toAccountId: string | null;
  amountMinor: string;
  currency: string;
  workflowId: string;
  recurringPaymentId: string | null;
  period: string | null;
  useCashback?: boolean;
  retryOf?: string | null;
}

export function paymentColumns(p: NewPayment) {
  return {
    id: p.id,
    user_id: p.userId,
    kind: p.kind,
    biller_id: p.billerId,
    customer_ref: p.customerRef,
    from_account_id: p.fromAccountId,
    to_account_id: p.toAccountId,
    amount_minor: p.amountMinor,
    currency: p.currency,
    workflow_id: p.workflowId,
    recurring_payment_id: p.recurringPaymentId,
    period: p.period,
    use_cashback: p.useCashback ?? false,
    retry_of: p.retryOf ?? null,
  };
}

/** Inserts the payment as `processing` unless it exists; true when this call inserted it. */
export async function insertPayment(db: Db | Knex.Transaction, payment: NewPayment): Promise<boolean> {
  const rows = await db('payments')
    .insert({ ...paymentColumns(payment), status: 'processing' })
    .onConflict('id')
    .ignore()
    .returning('id');
  return rows.length === 1;
}

/** The payment, only when it is `userId`'s (when given). */
export async function findPayment(db: Db, id: string, userId?: string): Promise<PaymentRow | undefined> {
  const query = db('payments').where({ id });
  if (userId) query.andWhere({ user_id: userId });
  return (await query.first()) as PaymentRow | undefined;
}

/** What a payment moves and whose it is, with the amount parsed here, at the edge: `bigint` minor units. */
export async function findPaymentAmount(db: Db | Knex.Transaction, id: string): Promise<{ userId: string; amountMinor: bigint; currency: string } | undefined> {
  const row: Pick<PaymentRow, 'user_id' | 'amount_minor' | 'currency'> | undefined = await db('payments').where({ id }).first('user_id', 'amount_minor', 'currency');
  return row && { userId: row.user_id, amountMinor: BigInt(row.amount_minor), currency: row.currency };
}

/** A user's payments, for the API to paginate. */
export function paymentsOf(db: Db, userId: string): Knex.QueryBuilder {
  return db('payments').where({ user_id: userId }).select('*');
}

/** The step histories of some payments, each in the order the changes happened. */
export async function stepsOf(db: Db, paymentIds: readonly string[]): Promise<Map<string, PaymentStepRow[]>> {
  const byPayment = new Map<string, PaymentStepRow[]>(paymentIds.map((id) => [id, []]));
  if (paymentIds.length === 0) return byPayment;
  const rows = (await db('payment_steps').whereIn('payment_id', paymentIds).orderBy('id')) as PaymentStepRow[];
  for (const row of rows) byPayment.get(row.payment_id)?.push(row);
  return byPayment;
}

export interface StepChange {
  paymentId: string;
  step: PaymentStep;
  status: StepStatus;
  reason?: string | null;
}

/**
 * Appends a step's status change. A step reaches each status once, so a retried
 * recording changes nothing (and keeps the time of the first). A payment whose row is
 * gone records nothing rather than failing the step: the API withdraws the row of a
 * start it believed failed, and finishPayment writes it back.
 */
export async function recordStep(db: Db | Knex.Transaction, change: StepChange): Promise<void> {
  await db.raw(
    `insert into payment_steps (payment_id, step, status, reason)
     select id, ?, ?, ? from payments where id = ?
     on conflict (payment_id, step, status) do nothing`,
    [change.step, change.status, change.reason ?? null, change.paymentId],
  );
  await db('payments').where({ id: change.paymentId }).update({ updated_at: db.fn.now() });
}

/** Sets what the workflow learns as it goes (the fee once validated, the cashback once credited, the biller's reference once paid). */
export async function setPaymentAmounts(db: Db, paymentId: string, amounts: { feeMinor?: string; cashbackMinor?: string; billerReference?: string }): Promise<void> {
  const columns: Record<string, string> = {};
  if (amounts.feeMinor !== undefined) columns.fee_minor = amounts.feeMinor;
  if (amounts.cashbackMinor !== undefined) columns.cashback_minor = amounts.cashbackMinor;
  if (amounts.billerReference !== undefined) columns.biller_reference = amounts.billerReference;
  if (Object.keys(columns).length > 0) await db('payments').where({ id: paymentId }).update(columns);
}

/**
 * Ends a payment: its status and reason, once (a finished payment never changes), and
 * `skipped` for each planned step that never ran, but those in `toCome` (a step that
 * runs after the payment ended: payBillV3's notice). Writes the row first if it is gone.
 */
export async function finishPayment(
  db: Db,
  input: { payment: NewPayment; status: Exclude<PaymentStatus, 'processing' | 'needs_review'>; reason?: string | null; toCome?: readonly PaymentStep[] },
): Promise<void> {
  const paymentId = input.payment.id;
  let ended: PaymentKind | undefined;
  await db.transaction(async (trx) => {
    await insertPayment(trx, input.payment);
    const payment: Pick<PaymentRow, 'kind' | 'status'> = await trx('payments').where({ id: paymentId }).forUpdate().first('kind', 'status');
    // A payment under review is still open: only its resolution ends it.
    if (payment.status !== 'processing' && payment.status !== 'needs_review') return;
    const rows: Array<{ step: PaymentStep }> = await trx('payment_steps').where({ payment_id: paymentId }).distinct('step');
    const reached = new Set(rows.map((r) => r.step));
    const skipped = STEP_PLANS[payment.kind].filter((step) => !reached.has(step) && !input.toCome?.includes(step));
    if (skipped.length > 0) {
      await trx('payment_steps')
        .insert(skipped.map((step) => ({ payment_id: paymentId, step, status: 'skipped', reason: null })))
        .onConflict(['payment_id', 'step', 'status'])
        .ignore();
    }
    // A payment that moved no money gives its amount back to the day's limit.
    if (input.status !== 'succeeded') await releaseLimit(trx, paymentId);
    await trx('payments')
      .where({ id: paymentId })
      .update({ status: input.status, failure_reason: input.status === 'succeeded' ? null : (input.reason ?? input.status), updated_at: trx.fn.now() });
    ended = payment.kind;
  });
  // Counted once: a retried recording finds the payment finished and changes nothing.
  if (ended) emitBusinessEvent({ kind: 'payment_finished', paymentKind: ended, outcome: input.status });
}

/**
 * Puts a payment under review: `pay_biller` waits for an operator, the row says
 * `needs_review`. Inside the caller's transaction (the one that keeps the hold), so the
 * API never shows one without the other.
 */
export async function markForReview(trx: Knex.Transaction, input: { paymentId: string; reason: string }): Promise<void> {
  await recordStep(trx, { paymentId: input.paymentId, step: 'pay_biller', status: 'needs_review', reason: input.reason });
  await trx('payments').where({ id: input.paymentId, status: 'processing' }).update({ status: 'needs_review', updated_at: trx.fn.now() });
}

/** Keeps an operator's resolution on the row; the first one stands (the workflow accepts only one). */
export async function recordResolution(db: Db, input: { paymentId: string; outcome: 'paid' | 'not_paid'; note: string }): Promise<void> {
  await db('payments')
    .where({ id: input.paymentId })
    .whereNull('resolution')
    .update({ resolution: input.outcome, resolution_note: input.note, resolved_at: db.fn.now(), updated_at: db.fn.now() });
}

/** One attempt of a bill, as its payments list them. */
export interface AttemptRow {
  id: string;
  status: PaymentStatus;
  failure_reason: string | null;
  retry_of: string | null;
  created_at: Date;
}

/** The first attempt of the bill a payment belongs to (itself when it retries nothing). */
export const firstAttemptOf = (row: Pick<PaymentRow, 'id' | 'retry_of'>): string => row.retry_of ?? row.id;

/** Every attempt of the bills of some payments, oldest first, keyed by the first attempt's id. */
export async function attemptsOf(db: Db | Knex.Transaction, rows: ReadonlyArray<Pick<PaymentRow, 'id' | 'retry_of'>>): Promise<Map<string, AttemptRow[]>> {
  const firsts = [...new Set(rows.map(firstAttemptOf))];
  const byFirst = new Map<string, AttemptRow[]>(firsts.map((id) => [id, []]));
  if (firsts.length === 0) return byFirst;
  const attempts: AttemptRow[] = await db('payments')
    .whereIn('id', firsts)
    .orWhereIn('retry_of', firsts)
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
    .select('id', 'status', 'failure_reason', 'retry_of', 'created_at');
  for (const attempt of attempts) byFirst.get(firstAttemptOf(attempt))?.push(attempt);
  return byFirst;
}
