import type { Knex } from 'knex';
import type { Db } from '../../db/knex';
import { LimitExceededError, type Limits } from '../../limits/limits';
import { reserveLimit } from '../../limits/reserve';
import { transferIdFrom } from '../../ledger/ids';
import { createLedger } from '../../ledger/service';
import type { Account, Ledger, TransferCode, TransferInput, TransferResult } from '../../ledger/types';
import { formatMoney, maskAccount, parseAmountMinor } from '../../money/money';
import type { Notifier } from '../../providers/notifier';
import {
  finishPayment,
  findPaymentAmount,
  insertPayment,
  markForReview,
  PAYING_ACCOUNT_TYPES,
  recordResolution,
  recordStep,
  setPaymentAmounts,
  type NewPayment,
  type PaymentRow,
  type PaymentStatus,
  type PaymentStep,
  type StepChange,
} from '../../payments/repository';
import { businessFailure, type BusinessFailureType } from '../../temporal/failures';
import type { AccountRef } from '../banking/ledger';

/**
 * The payment saga's own side effects (docs/payments.md): the payment's row and step
 * history, and its ledger legs: hold, post, void and reverse. Every ledger write and
 * the step it completes are one PostgreSQL transaction, so the history never says a
 * hold exists that does not, or the reverse. Transfer ids derive from the key the
 * workflow passes (`<workflowId>:<step>`), so a retried activity applies nothing twice.
 */

/** One leg of a payment: money held from the payer's account to `to`. */
export interface PaymentLeg {
  /** Names the leg inside the payment: `amount`, `fee`. Part of its transfer id. */
  name: string;
  to: AccountRef;
  amountMinor: string;
  code: TransferCode;
  /** The account the leg draws on when it is not the payment's (the payer's cashback account). */
  fromAccountId?: string;
}

export interface HoldFundsInput {
  paymentId: string;
  /** `<workflowId>:hold`: each leg's pending transfer id is derived from `<key>:<leg>`. The idempotency key, under the name recorded histories carry. */
  key: string;
  fromAccountId: string;
  currency: string;
  legs: PaymentLeg[];
  /** ISO instant after which the holds can only expire (the ledger releases them). */
  expiresAt: string;
  description: string;
  /** What the legs take from the payer's cashback account, recorded on the payment with the hold. */
  cashbackUsedMinor?: string;
  /** Said on the hold step (how the total is split between cashback and the account). */
  note?: string;
}

export interface HeldFunds {
  /** The pending transfer of each leg, in the order of the legs. */
  holdIds: string[];
}

export interface ResolveHoldsInput {
  paymentId: string;
  /** `<workflowId>:post` or `<workflowId>:void`: each resolution's id derives from `<key>:<holdId>`. The idempotency key, under the name recorded histories carry. */
  key: string;
  holdIds: string[];
  description: string;
}

export interface ReverseTransfersInput {
  paymentId: string;
  /** The step whose effect the reversal undoes; it is recorded `compensated`. */
  step: PaymentStep;
  /** `<workflowId>:reverse:<step>`: each reversal's id derives from `<key>:<transferId>`. The idempotency key, under the name recorded histories carry. */
  key: string;
  transferIds: string[];
}

export interface CardPaymentAccounts {
  paymentId: string;
  userId: string;
  cardAccountId: string;
  fromAccountId: string;
  currency: string;
}

export interface PaymentNoticeInput {
  paymentId: string;
  /** `<workflowId>:notice`: one notice per payment whatever retries happen. The idempotency key, under the name recorded histories carry. */
  dedupeKey: string;
  /** `pending`: the biller's outcome is unknown and the money stays held while an operator finds out. */
  outcome: 'failed' | 'cancelled' | 'pending';
  reason: string;
}

/** A credit the payment earned that failed for good after the biller accepted, for the repair Schedule. */
export interface PaymentRepair {
  credit: 'cashback' | 'referral_bonus';
  /** The credit activity's input, replayed as it was. */
  input: Record<string, unknown>;
  reason: string;
}

/** Ledger refusals as the business failures a payment ends with; the rest are `transfer_rejected`. */
const FAILURE_FOR: Partial<Record<string, BusinessFailureType>> = {
  insufficient_funds: 'insufficient_funds',
  exceeds_credit_limit: 'exceeds_credit_limit',
  account_not_found: 'account_not_found',
  currency_mismatch: 'currency_mismatch',
};

/** Words a failure reason reads as in the customer's SMS. */
const REASON_WORDS: Record<string, string> = {
  insufficient_funds: 'insufficient funds',
  exceeds_credit_limit: 'the credit limit would be exceeded',
  unknown_customer: 'the biller does not know the customer reference',
  biller_declined: 'the biller declined it',
  biller_unavailable: 'the biller could not be reached',
  payment_invalid: 'the biller no longer accepts it',
  cancelled_by_customer: 'you cancelled it',
  biller_not_paid: 'the biller did not receive it',
};

const isApplied = (r: TransferResult) => r.status === 'created' || r.status === 'exists';

/** The first refusal of a linked batch: the failing transfer's own code, not `linked_event_failed`. */
function refusalOf(results: TransferResult[]): string | undefined {
  const refused = results.filter((r) => !isApplied(r)).map((r) => r.status);
  return refused.find((code) => code !== 'linked_event_failed') ?? refused[0];
}

export function createPaymentActivities({ db, ledger, notifier, limits, now }: { db: Db; ledger: Ledger; notifier: Notifier; limits?: Limits; now: () => Date }) {
  async function accountIdOf(ref: AccountRef, currency: string): Promise<string> {
    return 'accountId' in ref ? ref.accountId : ledger.systemAccountId(ref.systemRole, currency);
  }

  /**
   * Applies a linked batch and records the step's outcome in the same transaction. A
   * refusal is recorded as the step's failure (with the ledger's code) and thrown as a
   * business failure once committed; retrying cannot change it.
   */
  async function applyAndRecord(
    transfers: TransferInput[],
    change: Omit<StepChange, 'status'> & { status: 'succeeded' | 'compensated' },
    first?: (trx: Knex.Transaction) => Promise<void>,
  ): Promise<void> {
    const refusal = await db.transaction(async (trx) => {
      await first?.(trx);
      const results = await createLedger(trx).createTransfers(transfers, { linked: true });
      const code = refusalOf(results);
      await recordStep(trx, code ? { ...change, status: change.status === 'succeeded' ? 'failed' : 'compensation_failed', reason: code } : change);
      return code;
    });
    if (refusal) {
      throw businessFailure(FAILURE_FOR[refusal] ?? 'transfer_rejected', `payment ${change.paymentId}: ${change.step} refused by the ledger: ${refusal}`, {
        code: refusal,
      });
    }
  }

  /**
   * Counts the payment against its payer's limits in the transaction that holds the
   * money. The API reserved it already for a payment it started (the same id counts
   * once); a recurring payment's run is counted here first.
   */
  async function reservePaymentLimit(trx: Knex.Transaction, paymentId: string): Promise<void> {
    const payment = await findPaymentAmount(trx, paymentId);
    if (!payment) return;
    await reserveLimit(trx, limits, { requestId: paymentId, userId: payment.userId, kind: 'payment', currency: payment.currency, amountMinor: payment.amountMinor, at: now() });
  }

  return {
    /**
     * Writes the payment's row unless it exists (the API writes it before starting the
     * workflow; a Schedule's run does not) and marks validation as running.
     */
    async openPayment(payment: NewPayment): Promise<void> {
      await db.transaction(async (trx) => {
        await insertPayment(trx, payment);
        await recordStep(trx, { paymentId: payment.id, step: 'validate', status: 'running' });
      });
    },

    /**
     * The card payment's validation: the card is the payer's credit card, the source
     * the payer's savings account or wallet, both in the payment's currency. The API
     * checked this before starting; it is checked again because a Schedule or a retry
     * may start a payment long after, and accounts can be closed or erased meanwhile.
     */
    async validateCardPayment(input: CardPaymentAccounts): Promise<void> {
      const [card, from] = await Promise.all([ledger.getAccount(input.cardAccountId), ledger.getAccount(input.fromAccountId)]);
      const owned = (a: Account | null) => a !== null && a.ownerUserId === input.userId;
      if (!owned(card) || card?.type !== 'credit_card') throw businessFailure('account_not_found', `${input.cardAccountId} is not a credit card of the payer`);
      if (!owned(from) || !PAYING_ACCOUNT_TYPES.has(from?.type ?? '')) throw businessFailure('account_not_found', `${input.fromAccountId} is not a savings account or wallet of the payer`);
      if (card.currency !== input.currency || from?.currency !== input.currency) throw businessFailure('currency_mismatch', `the card and the source must both be in ${input.currency}`);
      await recordStep(db, { paymentId: input.paymentId, step: 'validate', status: 'succeeded' });
    },

    /** Appends a step's status change; with what the workflow has learnt (fee, cashback, the biller's reference). */
    async recordPaymentStep(change: StepChange & { feeMinor?: string; cashbackMinor?: string; billerReference?: string }): Promise<void> {
      const { feeMinor, cashbackMinor, billerReference, ...step } = change;
      await recordStep(db, step);
      await setPaymentAmounts(db, change.paymentId, { feeMinor, cashbackMinor, billerReference });
    },

    /**
     * Records the cashback step with what was credited, and answers the accounts the
     * cashback and a referral bonus went to (the credited side of each transfer, for
     * their alerts); null for a credit that was not made.
     */
    async recordCashback(input: {
      paymentId: string;
      cashbackMinor: string;
      transferId: string | null;
      bonusTransferId: string | null;
    }): Promise<{ cashbackAccountId: string | null; bonusAccountId: string | null }> {
      const reason = input.transferId ? null : 'nothing to credit (no cashback rate, or the monthly cap is reached)';
      await recordStep(db, { paymentId: input.paymentId, step: 'cashback', status: 'succeeded', reason });
      await setPaymentAmounts(db, input.paymentId, { cashbackMinor: input.cashbackMinor });
      const creditedBy = async (id: string | null) => (id ? ((await ledger.getTransfer(id))?.creditAccountId ?? null) : null);
      const [cashbackAccountId, bonusAccountId] = await Promise.all([creditedBy(input.transferId), creditedBy(input.bonusTransferId)]);
      return { cashbackAccountId, bonusAccountId };
    },

    /**
     * Holds every leg at once (linked pending transfers from the payer), each with the
     * same expiry, so that money is never held forever even if the workflow were lost.
     */
    async holdPaymentFunds(input: HoldFundsInput): Promise<HeldFunds> {
      const holdIds = input.legs.map((leg) => transferIdFrom(`${input.key}:${leg.name}`));
      const transfers: TransferInput[] = await Promise.all(
        input.legs.map(async (leg, i) => ({
          id: holdIds[i] as string,
          kind: 'pending' as const,
          debitAccountId: leg.fromAccountId ?? input.fromAccountId,
          creditAccountId: await accountIdOf(leg.to, input.currency),
          amountMinor: parseAmountMinor(leg.amountMinor),
          currency: input.currency,
          code: leg.code,
          timeoutAt: new Date(input.expiresAt),
          metadata: { paymentId: input.paymentId, leg: leg.name, description: input.description },
        })),
      );
      try {
        await applyAndRecord(transfers, { paymentId: input.paymentId, step: 'hold', status: 'succeeded', reason: input.note ?? null }, async (trx) => {
          await reservePaymentLimit(trx, input.paymentId);
          if (input.cashbackUsedMinor) await trx('payments').where({ id: input.paymentId }).update({ cashback_used_minor: input.cashbackUsedMinor });
        });
      } catch (err) {
        if (!(err instanceof LimitExceededError)) throw err;
        throw businessFailure('limit_exceeded', `payment ${input.paymentId}: ${err.message}`, { limit: err.limit });
      }
      return { holdIds };
    },

    /** Posts every hold in full, together; returns the posting transfers (what an alert or a reversal names). */
    async postPaymentHolds(input: ResolveHoldsInput): Promise<{ transferIds: string[] }> {
      const transfers: TransferInput[] = input.holdIds.map((pendingId) => ({
        id: transferIdFrom(`${input.key}:${pendingId}`),
        kind: 'post_pending' as const,
        pendingId,
        metadata: { paymentId: input.paymentId, description: input.description },
      }));
      await applyAndRecord(transfers, { paymentId: input.paymentId, step: 'post', status: 'succeeded' });
      return { transferIds: transfers.map((t) => t.id) };
    },

    /**
     * The hold's undo: releases every hold. A hold the ledger already released (voided,
     * or expired after its timeout) counts as released; one past its timeout but not yet
     * expired is expired now, under the id the ledger's own expiry would use.
     */
    async voidPaymentHolds(input: ResolveHoldsInput): Promise<void> {
      const unreleased: string[] = [];
      for (const pendingId of input.holdIds) {
        const [voided] = await ledger.createTransfers([
          { id: transferIdFrom(`${input.key}:${pendingId}`), kind: 'void_pending', pendingId, metadata: { paymentId: input.paymentId, description: input.description } },
        ]);
        if (voided && isApplied(voided)) continue;
        if (voided?.status === 'pending_expired') {
          const [expired] = await ledger.createTransfers([{ id: transferIdFrom(`expire_pending:${pendingId}`), kind: 'expire_pending', pendingId }]);
          if (expired && (isApplied(expired) || expired.status === 'pending_already_resolved') && (await releasedHold(db, pendingId))) continue;
        }
        if (voided?.status === 'pending_already_resolved' && (await releasedHold(db, pendingId))) continue;
        unreleased.push(`${pendingId}: ${voided?.status ?? 'no result'}`);
      }
      if (unreleased.length > 0) {
        await recordStep(db, { paymentId: input.paymentId, step: 'hold', status: 'compensation_failed', reason: unreleased.join('; ') });
        throw businessFailure('transfer_rejected', `payment ${input.paymentId}: holds not released: ${unreleased.join('; ')}`);
      }
      await recordStep(db, { paymentId: input.paymentId, step: 'hold', status: 'compensated' });
    },

    /**
     * Undoes posted transfers with reversing transfers (code `reversal`,
     * `metadata.reverses`), all or none: history is never edited.
     */
    async reversePaymentTransfers(input: ReverseTransfersInput): Promise<{ reversalIds: string[] }> {
      const originals = await Promise.all(input.transferIds.map((id) => ledger.getTransfer(id)));
      const transfers: TransferInput[] = originals.map((original, i) => {
        if (!original) throw businessFailure('transfer_not_found', `transfer ${input.transferIds[i]} does not exist`);
        return {
          id: transferIdFrom(`${input.key}:${original.id}`),
          debitAccountId: original.creditAccountId,
          creditAccountId: original.debitAccountId,
          amountMinor: original.amountMinor,
          currency: original.currency,
          code: 'reversal' as const,
          metadata: { paymentId: input.paymentId, reverses: original.id, description: `Reversal of payment ${maskAccount(input.paymentId)}` },
        };
      });
      await applyAndRecord(transfers, { paymentId: input.paymentId, step: input.step, status: 'compensated' });
      return { reversalIds: transfers.map((t) => t.id) };
    },

    /**
     * Tells the payer that the payment failed or was cancelled, and that nothing was
     * taken. Sent once per payment. It is about their own payment, so it goes out even
     * when transaction alerts are turned off.
     */
    async sendPaymentNotice(input: PaymentNoticeInput): Promise<{ notificationId: string }> {
      const payment = (await db('payments').where({ id: input.paymentId }).first()) as PaymentRow | undefined;
      if (!payment) throw businessFailure('transfer_not_found', `payment ${input.paymentId} does not exist`);
      const user: { phone: string } | undefined = await db('users').where({ id: payment.user_id }).first('phone');
      if (!user) throw businessFailure('customer_not_found', `customer ${payment.user_id} does not exist`);
      const sent = await notifier.send({
        dedupeKey: input.dedupeKey,
        userId: payment.user_id,
        channel: 'sms',
        recipient: user.phone,
        template: `payment_${input.outcome}`,
        body: composeNotice(payment, await payeeOf(db, payment), input),
      });
      return { notificationId: sent.id };
    },

    /** Ends the payment: its final status and reason, and `skipped` for steps never reached. */
    async finishPayment(input: { payment: NewPayment; status: Exclude<PaymentStatus, 'processing' | 'needs_review'>; reason?: string }): Promise<void> {
      await finishPayment(db, input);
    },

    /**
     * Keeps the money held while an operator finds out whether the biller was paid:
     * each hold is swapped, in one linked batch, for a hold without a timeout (void the
     * old, hold the same amount again), so neither the ledger's expiry nor the
     * housekeeping Schedule can release money the biller may have received. The
     * payment is marked `needs_review` in the same transaction.
     */
    async holdPaymentFundsForReview(input: ResolveHoldsInput & { reason: string }): Promise<HeldFunds> {
      const originals = await Promise.all(input.holdIds.map((id) => ledger.getTransfer(id)));
      const transfers: TransferInput[] = [];
      const holdIds: string[] = [];
      for (const [i, original] of originals.entries()) {
        if (!original) throw businessFailure('transfer_not_found', `hold ${input.holdIds[i]} does not exist`);
        const id = transferIdFrom(`${input.key}:${original.id}`);
        holdIds.push(id);
        transfers.push({ id: transferIdFrom(`${input.key}:void:${original.id}`), kind: 'void_pending', pendingId: original.id, metadata: { paymentId: input.paymentId, description: input.description } });
        transfers.push({
          id,
          kind: 'pending',
          debitAccountId: original.debitAccountId,
          creditAccountId: original.creditAccountId,
          amountMinor: original.amountMinor,
          currency: original.currency,
          code: original.code as TransferCode,
          metadata: { ...original.metadata, underReview: true, replaces: original.id },
        });
      }
      const refusal = await db.transaction(async (trx) => {
        const code = refusalOf(await createLedger(trx).createTransfers(transfers, { linked: true }));
        if (!code) await markForReview(trx, { paymentId: input.paymentId, reason: input.reason });
        return code;
      });
      if (refusal) throw businessFailure(FAILURE_FOR[refusal] ?? 'transfer_rejected', `payment ${input.paymentId}: review hold refused by the ledger: ${refusal}`, { code: refusal });
      return { holdIds };
    },

    /** Keeps an operator's resolution of a payment under review on its row. */
    async recordPaymentResolution(input: { paymentId: string; outcome: 'paid' | 'not_paid'; note: string }): Promise<void> {
      await recordResolution(db, input);
    },

    /**
     * Queues credits that failed for good after the biller accepted, for the repair
     * Schedule (`repairPaymentCredits`), and records the cashback step as failed with
     * why; the payment itself goes on. Idempotent: one repair per payment and credit.
     */
    async queuePaymentRepairs(input: { paymentId: string; repairs: PaymentRepair[] }): Promise<void> {
      await db.transaction(async (trx) => {
        await trx('payment_repairs')
          .insert(input.repairs.map((r) => ({ id: `${input.paymentId}:${r.credit}`, payment_id: input.paymentId, credit: r.credit, input: JSON.stringify(r.input), last_error: r.reason })))
          .onConflict('id')
          .ignore();
        const reason = input.repairs.map((r) => `${r.credit}: ${r.reason}`).join('; ');
        await recordStep(trx, { paymentId: input.paymentId, step: 'cashback', status: 'failed', reason: `${reason} (queued for repair)` });
      });
    },
  };
}

/** Whether a hold was released (voided or expired) rather than posted. */
async function releasedHold(db: Db, pendingId: string): Promise<boolean> {
  const resolution: { outcome: string } | undefined = await db('ledger_pending_resolutions').where({ pending_id: pendingId }).first('outcome');
  return resolution !== undefined && resolution.outcome !== 'posted';
}

/** Who a payment pays, as the customer knows them: the biller's name, or the card. */
async function payeeOf(db: Db, payment: PaymentRow): Promise<string> {
  if (payment.kind === 'card') return `card ${maskAccount(payment.to_account_id ?? '')}`;
  const biller: { name: string } | undefined = await db('billers').where({ id: payment.biller_id }).first('name');
  return biller?.name ?? String(payment.biller_id);
}

export function composeNotice(payment: PaymentRow, payee: string, notice: Pick<PaymentNoticeInput, 'outcome' | 'reason'>): string {
  const amount = formatMoney(BigInt(payment.amount_minor), payment.currency);
  if (notice.outcome === 'pending') {
    // Never "refunded" here: the biller may have the money.
    return `finflow: your payment of ${amount} to ${payee} is pending: we are confirming with the biller whether it arrived. The money stays held on account ${maskAccount(payment.from_account_id)} until then; we will tell you the outcome.`;
  }
  const why = REASON_WORDS[notice.reason] ?? notice.reason.replace(/_/g, ' ');
  const what = notice.outcome === 'cancelled' ? 'was cancelled' : `failed: ${why}`;
  return `finflow: your payment of ${amount} to ${payee} ${what}. Any money held or taken for it is back on account ${maskAccount(payment.from_account_id)}.`;
}
