import type { Knex } from 'knex';
import type { Db } from '../../db/knex';
import { isLedgerError } from '../../ledger/errors';
import { transferIdFrom } from '../../ledger/ids';
import { cashbackAccountIdOf, findCashbackAccount } from '../../payments/cashback-accounts';
import { createLedger } from '../../ledger/service';
import type { Metadata, TransferCode } from '../../ledger/types';
import { parseAmountMinor } from '../../money/money';
import { getBiller } from '../../payments/billers/repository';
import { REFERRAL_BONUS_MINOR, calendarMonth, computeCashback } from '../../payments/cashback';
import { businessFailure } from '../../temporal/failures';

/**
 * Cashback and referral bonuses (docs/payments.md): money from the `cashback_expense`
 * system account to the customer's `cashback` account. Each credit is one database
 * transaction that decides the amount, records the decision and posts the transfer, so
 * a retry finds the decision and never grants twice.
 */

export interface CreditCashbackInput {
  paymentId: string;
  userId: string;
  /** The payment's amount (cashback is computed from it), minor units as a decimal string. */
  amountMinor: string;
  currency: string;
  billerId: string;
  /** `<workflowId>:cashback`: names the transfer (`transferIdFrom`) and the grant. The idempotency key, under the name recorded histories carry. */
  transferKey: string;
}

export interface CreditCashbackResult {
  /** What was credited; '0' once the monthly cap is reached. */
  cashbackMinor: string;
  /** Null when nothing was credited. */
  transferId: string | null;
}

export interface CreditReferralBonusInput {
  referredUserId: string;
  currency: string;
}

export interface CreditReferralBonusResult {
  /**
   * `credited`: this call paid it; `already_credited`: an earlier call did (another
   * payment's, or this one's before a retry); `no_referrer`: the user was not referred.
   */
  status: 'credited' | 'already_credited' | 'no_referrer';
  referrerUserId: string | null;
  bonusMinor: string;
  transferId: string | null;
}

/** A cashback grant as read: its amounts parsed to `bigint` here, at the edge of the database. */
interface Grant {
  transferId: string;
  userId: string;
  paymentId: string;
  paymentAmountMinor: bigint;
  cashbackMinor: bigint;
  posted: boolean;
}

async function findGrant(trx: Knex.Transaction, transferId: string): Promise<Grant | undefined> {
  const row: { user_id: string; payment_id: string; payment_amount_minor: string; cashback_minor: string; posted: boolean } | undefined = await trx('cashback_grants')
    .where({ transfer_id: transferId })
    .first('user_id', 'payment_id', 'payment_amount_minor', 'cashback_minor', 'posted');
  if (!row) return undefined;
  const { user_id: userId, payment_id: paymentId, posted } = row;
  return { transferId, userId, paymentId, paymentAmountMinor: BigInt(row.payment_amount_minor), cashbackMinor: BigInt(row.cashback_minor), posted };
}

/** The customer's cashback account in `currency`, opened on first use (idempotent by its derived id). */
async function cashbackAccountId(trx: Db, userId: string, currency: string): Promise<string> {
  const account = await createLedger(trx).openAccount({
    id: cashbackAccountIdOf(userId, currency),
    ownerUserId: userId,
    type: 'cashback',
    currency,
  });
  return account.id;
}

/** Posts cashback_expense → the customer's cashback account; a ledger refusal is a business failure. */
async function postFromCashbackExpense(
  trx: Db,
  transfer: { id: string; userId: string; amountMinor: bigint; currency: string; code: TransferCode; metadata: Metadata },
): Promise<void> {
  const ledger = createLedger(trx);
  const expenseId = await ledger.systemAccountId('cashback_expense', transfer.currency);
  const creditAccountId = await cashbackAccountId(trx, transfer.userId, transfer.currency);
  try {
    await ledger.createTransfer({
      id: transfer.id,
      debitAccountId: expenseId,
      creditAccountId,
      amountMinor: transfer.amountMinor,
      currency: transfer.currency,
      code: transfer.code,
      metadata: transfer.metadata,
    });
  } catch (err) {
    if (!isLedgerError(err)) throw err;
    throw businessFailure('transfer_rejected', `${transfer.code} transfer ${transfer.id} refused: ${err.code}`, { code: err.code });
  }
}

export interface SpendableCashback {
  /** Null when the payer has never earned cashback in the currency. */
  accountId: string | null;
  /** The cashback account's available balance, minor units as a decimal string. */
  availableMinor: string;
}

export function createCashbackActivities({ db, now }: { db: Db; now: () => Date }) {
  return {
    /**
     * What the payer's cashback account could pay now. Only a plan: the hold that spends
     * it is checked by the ledger, so cashback spent meanwhile fails the hold as a whole.
     */
    async spendableCashback({ userId, currency }: { userId: string; currency: string }): Promise<SpendableCashback> {
      const account = await findCashbackAccount(createLedger(db), userId, currency);
      if (!account) return { accountId: null, availableMinor: '0' };
      return { accountId: account.id, availableMinor: account.balances.availableMinor.toString() };
    },

    /**
     * Credits the payment's cashback, capped per user, currency and calendar month (UTC).
     * The user's month row is locked first, so concurrent credits of one user queue and
     * their total never exceeds the cap; the grant is recorded under the transfer id, so
     * the same transferKey returns the first result instead of granting again.
     */
    async creditCashback(input: CreditCashbackInput): Promise<CreditCashbackResult> {
      const amountMinor = parseAmountMinor(input.amountMinor);
      const transferId = transferIdFrom(input.transferKey);
      // The payment was already made: a biller withdrawn since still earns its rate.
      const biller = await getBiller(db, input.billerId, { includeInactive: true });
      if (!biller) throw businessFailure('biller_not_found', `no biller ${input.billerId}`, { billerId: input.billerId });
      if (biller.currency !== input.currency) {
        throw businessFailure('currency_mismatch', `${biller.id} is paid in ${biller.currency}, not ${input.currency}`, { code: 'currency_mismatch' });
      }
      const key = { user_id: input.userId, month: calendarMonth(now()), currency: input.currency };

      return db.transaction(async (trx): Promise<CreditCashbackResult> => {
        // Key-share lock: the user cannot be erased halfway through; an erased one earns nothing.
        const user = await trx('users').where({ id: input.userId }).forKeyShare().first('id');
        if (!user) throw businessFailure('customer_not_found', `user ${input.userId} not found`);
        await trx('cashback_monthly').insert({ ...key, granted_minor: 0 }).onConflict(['user_id', 'month', 'currency']).ignore();
        const month: { granted_minor: string } = await trx('cashback_monthly').where(key).forUpdate().first('granted_minor');
        const grantedMinor = BigInt(month.granted_minor);

        // Read under the lock: a concurrent call with this key has committed or not started.
        const existing = await findGrant(trx, transferId);
        if (existing) {
          const same =
            existing.userId === input.userId && existing.paymentId === input.paymentId && existing.paymentAmountMinor === amountMinor;
          if (!same) {
            throw businessFailure('transfer_rejected', `transfer key ${input.transferKey} was used for another cashback`, {
              code: 'exists_with_different_fields',
            });
          }
          return { cashbackMinor: existing.cashbackMinor.toString(), transferId: existing.posted ? existing.transferId : null };
        }

        const cashback = computeCashback(biller.cashbackRateBps, amountMinor, grantedMinor);
        const posted = cashback.cashbackMinor > 0n;
        if (posted) {
          await postFromCashbackExpense(trx, {
            id: transferId,
            userId: input.userId,
            amountMinor: cashback.cashbackMinor,
            currency: input.currency,
            code: 'cashback',
            metadata: { description: `Cashback: ${biller.name}`, paymentId: input.paymentId, billerId: biller.id },
          });
          await trx('cashback_monthly')
            .where(key)
            .update({ granted_minor: trx.raw('granted_minor + ?::bigint', [cashback.cashbackMinor.toString()]) });
        }
        await trx('cashback_grants').insert({
          transfer_id: transferId,
          user_id: input.userId,
          payment_id: input.paymentId,
          biller_id: biller.id,
          month: key.month,
          currency: input.currency,
          payment_amount_minor: amountMinor.toString(),
          rate_bps: cashback.rateBps,
          uncapped_minor: cashback.uncappedMinor.toString(),
          cashback_minor: cashback.cashbackMinor.toString(),
          posted,
        });
        return { cashbackMinor: cashback.cashbackMinor.toString(), transferId: posted ? transferId : null };
      });
    },

    /**
     * Pays the referrer of `referredUserId` a fixed bonus (REFERRAL_BONUS_MINOR), once per
     * referred user: the referral_bonuses row is the claim, written in the transaction
     * that posts the transfer. Call it after each successful payment; only the first pays.
     */
    async creditReferralBonus({ referredUserId, currency }: CreditReferralBonusInput): Promise<CreditReferralBonusResult> {
      const transferId = transferIdFrom(`referral:${referredUserId}`);
      return db.transaction(async (trx): Promise<CreditReferralBonusResult> => {
        const user: { referred_by: string | null } | undefined = await trx('users').where({ id: referredUserId }).first('referred_by');
        const referrerUserId = user?.referred_by ?? null;
        if (!referrerUserId) return { status: 'no_referrer', referrerUserId: null, bonusMinor: '0', transferId: null };

        const claimed = await trx('referral_bonuses')
          .insert({
            referred_user_id: referredUserId,
            referrer_user_id: referrerUserId,
            transfer_id: transferId,
            amount_minor: REFERRAL_BONUS_MINOR.toString(),
            currency,
          })
          .onConflict('referred_user_id')
          .ignore()
          .returning('transfer_id');
        if (claimed.length === 0) {
          // The conflicting claim has committed (the insert waited for it), so this new statement sees it.
          const paid = (await trx('referral_bonuses').where({ referred_user_id: referredUserId }).first()) as {
            referrer_user_id: string | null;
            amount_minor: string;
            transfer_id: string;
          };
          return { status: 'already_credited', referrerUserId: paid.referrer_user_id, bonusMinor: String(paid.amount_minor), transferId: paid.transfer_id };
        }
        await postFromCashbackExpense(trx, {
          id: transferId,
          userId: referrerUserId,
          amountMinor: REFERRAL_BONUS_MINOR,
          currency,
          code: 'referral_bonus',
          metadata: { description: 'Referral bonus', referredUserId },
        });
        return { status: 'credited', referrerUserId, bonusMinor: REFERRAL_BONUS_MINOR.toString(), transferId };
      });
    },
  };
}
