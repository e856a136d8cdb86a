import { WorkflowNotFoundError } from '@temporalio/common';
import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowUpdateStage } from '@temporalio/client';
import { findCashbackAccount } from '../../payments/cashback-accounts';
import { splitCashback } from '../../payments/cashback-spend';
import { feeFor } from '../../payments/quote';
import {
  attemptsOf,
  firstAttemptOf,
  findPayment,
  paymentColumns,
  paymentIdFrom,
  paymentsOf,
  stepsOf,
  type AttemptRow,
  type NewPayment,
  type PaymentRow,
  type PaymentStepRow,
} from '../../payments/repository';
import { withDeadline } from '../../temporal/client';
import { businessFailureOf } from '../../temporal/failures';
import { workflowIds } from '../../temporal/names';
import { cancelPaymentUpdate, resolvePaymentUpdate, type PayBillInput, type PayCardInput } from '../../workflows/payments/contract';
import { ownAccount } from '../core/own-account';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import { paginate, type PageQuery } from '../core/pagination';
import { SYNC_WAIT_MS, assertFunded, checkPerTransactionLimit, submit, type Submitted } from '../core/money-requests';
import { checkBill, payingAccount } from './checks';
import type { CardPaymentBody, PaymentBody, ResolvePaymentBody } from './schema';

/**
 * Bill and card payments (docs/payments.md). Everything a client can fix is checked
 * before any workflow starts; the workflow checks again, because balances move and a
 * biller can change between the request and the hold. The Idempotency-Key names the
 * payment: workflow id `payment:<userId>:<key>`, payment id derived from it.
 */

export interface PaymentView {
  row: PaymentRow;
  steps: PaymentStepRow[];
  /** Every attempt of the payment's bill, itself included, oldest first. */
  attempts: AttemptRow[];
}

/** Whether the payment's row exists: a repeat of it is answered from its record (and its workflow started if it never was). */
async function isRecorded(app: AppContext, paymentId: string): Promise<boolean> {
  return (await app.deps.db('payments').where({ id: paymentId }).first('id')) !== undefined;
}

/** Whether a stored payment records the same request as `payment` (a repeat of its Idempotency-Key). */
function samePayment(stored: PaymentRow, payment: NewPayment): boolean {
  return (
    stored.kind === payment.kind &&
    stored.biller_id === payment.billerId &&
    stored.customer_ref === payment.customerRef &&
    stored.from_account_id === payment.fromAccountId &&
    stored.to_account_id === payment.toAccountId &&
    String(stored.amount_minor) === payment.amountMinor &&
    stored.use_cashback === (payment.useCashback ?? false)
  );
}

/**
 * Pays a bill. `attempt` names a retry of a failed payment (retry.ts): its workflow id
 * comes from the first attempt, not from the request's key.
 */
export async function payBillFor(
  app: AppContext,
  userId: string,
  idempotencyKey: string,
  body: PaymentBody,
  attempt?: { workflowId: string; retryOf: string },
): Promise<Submitted<PaymentRow>> {
  const { biller, amountMinor } = await checkBill(app, body);
  checkPerTransactionLimit(app, 'payment', biller.currency, amountMinor);
  const from = await payingAccount(app, userId, body.fromAccountId, biller.currency);
  const { feeMinor } = feeFor(biller, amountMinor);
  const workflowId = attempt?.workflowId ?? workflowIds.payment(userId, idempotencyKey);
  const paymentId = paymentIdFrom(workflowId);
  const cashbackMinor = body.useCashback ? ((await findCashbackAccount(app.deps.ledger, userId, biller.currency))?.balances.availableMinor ?? 0n) : 0n;
  await assertFunded(from, splitCashback(amountMinor, feeMinor, cashbackMinor).walletMinor, () => isRecorded(app, paymentId));

  const input: PayBillInput = {
    paymentId,
    userId,
    billerId: biller.id,
    customerRef: body.customerRef,
    fromAccountId: from.id,
    amountMinor: body.amount,
    currency: biller.currency,
    ...(body.useCashback ? { useCashback: true } : {}),
    ...(attempt ? { retryOf: attempt.retryOf } : {}),
  };
  const payment: NewPayment = {
    ...input,
    id: paymentId,
    kind: 'bill',
    toAccountId: null,
    workflowId,
    recurringPaymentId: null,
    period: null,
  };
  return submit<PaymentRow>(app, {
    table: 'payments',
    row: { ...paymentColumns(payment), fee_minor: feeMinor.toString() },
    sameRequest: (stored) => samePayment(stored, payment),
    limit: { userId, kind: 'payment', currency: biller.currency, amountMinor },
    // payBillV3 (docs/payments.md, "Fewer steps"), started with the update that answers
    // once the payment is final, before its notice; payBill and payBillV2 finish the runs they started.
    workflow: { workflowType: 'payBillV3', input: { ...input }, ids: { customerId: userId, accountId: from.id, paymentId }, withOutcome: true },
  });
}

export async function payCardFor(app: AppContext, userId: string, idempotencyKey: string, cardId: string, body: CardPaymentBody): Promise<Submitted<PaymentRow>> {
  const card = await ownAccount(app.deps.ledger, userId, cardId, 'cardId', 'path');
  if (card.type !== 'credit_card') throw problems.field('path', 'cardId', 'not_a_credit_card', 'Only a credit card bill can be paid here.');
  checkPerTransactionLimit(app, 'payment', card.currency, BigInt(body.amount));
  const from = await payingAccount(app, userId, body.fromAccountId, card.currency);
  const workflowId = workflowIds.payment(userId, idempotencyKey);
  const paymentId = paymentIdFrom(workflowId);
  await assertFunded(from, BigInt(body.amount), () => isRecorded(app, paymentId));

  const input: PayCardInput = { paymentId, userId, cardAccountId: card.id, fromAccountId: from.id, amountMinor: body.amount, currency: card.currency };
  const payment: NewPayment = {
    ...input,
    id: paymentId,
    kind: 'card',
    billerId: null,
    customerRef: null,
    toAccountId: card.id,
    workflowId,
    recurringPaymentId: null,
    period: null,
  };
  return submit<PaymentRow>(app, {
    table: 'payments',
    row: paymentColumns(payment),
    sameRequest: (stored) => samePayment(stored, payment),
    limit: { userId, kind: 'payment', currency: card.currency, amountMinor: BigInt(body.amount) },
    workflow: { workflowType: 'payCard', input: { ...input }, ids: { customerId: userId, accountId: from.id, paymentId } },
  });
}

/** The caller's own payment with its steps; anyone else's is indistinguishable from none. */
export async function viewPayment(app: AppContext, userId: string, id: string): Promise<PaymentView> {
  const row = await findPayment(app.deps.db, id, userId);
  if (!row) throw problems.notFound('No such payment.');
  return withSteps(app, row);
}

export async function withSteps(app: AppContext, row: PaymentRow): Promise<PaymentView> {
  const [steps, attempts] = await Promise.all([stepsOf(app.deps.db, [row.id]), attemptsOf(app.deps.db, [row])]);
  return { row, steps: steps.get(row.id) ?? [], attempts: attempts.get(firstAttemptOf(row)) ?? [] };
}

/** Views of some payments, with their steps and attempts, in two queries. */
export async function viewsOf(app: AppContext, rows: PaymentRow[]): Promise<PaymentView[]> {
  const [steps, attempts] = await Promise.all([stepsOf(app.deps.db, rows.map((r) => r.id)), attemptsOf(app.deps.db, rows)]);
  return rows.map((row) => ({ row, steps: steps.get(row.id) ?? [], attempts: attempts.get(firstAttemptOf(row)) ?? [] }));
}

/** One page of the caller's payments, newest first, each with its steps. */
export async function listPaymentsOf(app: AppContext, userId: string, page: PageQuery): Promise<{ data: PaymentView[]; nextCursor: string | null }> {
  const { rows, nextCursor } = await paginate<PaymentRow>(paymentsOf(app.deps.db, userId), page, 'payments');
  return { data: await viewsOf(app, rows), nextCursor };
}

/** How a cancel ended: `done` with the cancelled payment, or `accepted` while its compensation still runs. */
export type CancelOutcome = { status: 'done' | 'accepted'; view: PaymentView };

/**
 * Cancels the caller's payment through the workflow's `cancel` update, whose validator
 * refuses once the biller has been called. Waits a few seconds for the compensation
 * (the void of the hold); past that, answers that the cancel was accepted. Cancelling a
 * cancelled payment again answers it as it is.
 */
export async function cancelPaymentOf(app: AppContext, userId: string, id: string): Promise<CancelOutcome> {
  const { temporal } = app.deps;
  const current = await viewPayment(app, userId, id);
  const settled = async (): Promise<CancelOutcome> => {
    const view = await viewPayment(app, userId, id);
    if (view.row.status === 'cancelled') return { status: 'done', view };
    throw problems.paymentNotCancellable(
      view.row.status === 'processing' || view.row.status === 'needs_review' ? 'The biller has already been called: the payment can no longer be cancelled.' : `The payment has already ${view.row.status}.`,
    );
  };
  if (current.row.status !== 'processing') return settled();
  if (current.row.kind === 'card') throw problems.paymentNotCancellable('A card payment is posted at once and cannot be cancelled.');

  const handle = temporal.workflow.getHandle(current.row.workflow_id);
  try {
    // One update id per payment: a repeated cancel joins the first instead of asking again.
    const update = await withDeadline(temporal, app.config.dependencyTimeoutMs, () =>
      handle.startUpdate(cancelPaymentUpdate, { updateId: 'cancel', waitForStage: WorkflowUpdateStage.ACCEPTED }),
    );
    await withDeadline(temporal, SYNC_WAIT_MS, () => update.result());
  } catch (err) {
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { status: 'accepted', view: await viewPayment(app, userId, id) };
    const refused = err instanceof WorkflowUpdateFailedError && businessFailureOf(err.cause)?.type === 'payment_not_cancellable';
    // A workflow that finished since the row was read has its outcome in the row.
    if (!refused && !(err instanceof WorkflowNotFoundError)) throw err;
  }
  return settled();
}

/**
 * An operator's answer for a payment under review (service token): sent to the
 * payment's workflow as its `resolve` update, which accepts one resolution and then
 * posts (`paid`) or voids (`not_paid`) the hold. One update id per payment, so a
 * repeated call joins the first; the same resolution again answers the payment as it
 * is, a different one is `payment_not_in_review`. Waits a few seconds for the outcome;
 * past that, answers that the resolution was accepted (202).
 */
export async function resolvePayment(app: AppContext, id: string, resolution: ResolvePaymentBody): Promise<CancelOutcome> {
  const { db, temporal } = app.deps;
  const load = async () => {
    const row = await findPayment(db, id);
    if (!row) throw problems.notFound('No such payment.');
    return row;
  };
  const settled = async (): Promise<CancelOutcome> => {
    const row = await load();
    if (row.resolution === resolution.outcome) return { status: row.status === 'needs_review' ? 'accepted' : 'done', view: await withSteps(app, row) };
    throw problems.paymentNotInReview(
      row.resolution ? `The payment was already resolved as ${row.resolution}.` : `The payment is ${row.status}; only a payment in needs_review can be resolved.`,
    );
  };
  const current = await load();
  if (current.status !== 'needs_review' || current.resolution) return settled();

  const handle = temporal.workflow.getHandle(current.workflow_id);
  try {
    const update = await withDeadline(temporal, app.config.dependencyTimeoutMs, () =>
      handle.startUpdate(resolvePaymentUpdate, { updateId: 'resolve', args: [resolution], waitForStage: WorkflowUpdateStage.ACCEPTED }),
    );
    await withDeadline(temporal, SYNC_WAIT_MS, () => update.result());
  } catch (err) {
    // Accepted by the workflow, still posting or voiding: the row shows how it ends.
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { status: 'accepted', view: await withSteps(app, await load()) };
    const refused = err instanceof WorkflowUpdateFailedError && (err.cause as { type?: string } | undefined)?.type === 'payment_not_in_review';
    if (!refused && !(err instanceof WorkflowNotFoundError)) throw err;
  }
  return settled();
}
