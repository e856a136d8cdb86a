import { ApplicationFailure } from '@temporalio/common';
import type { Knex } from 'knex';
import type { Db } from '../../db/knex';
import { transferIdFrom } from '../../ledger/ids';
import { createLedger } from '../../ledger/service';
import type { Ledger } from '../../ledger/types';
import type { Limits } from '../../limits/limits';
import type { Notifier } from '../../providers/notifier';
import type { BillerPort } from '../../payments/billers/port';
import { cashbackAccountIdOf, findCashbackAccount } from '../../payments/cashback-accounts';
import { cashbackHold, plainHold } from '../../payments/hold-legs';
import { finishPayment, insertPayment, recordStep, setPaymentAmounts, type NewPayment } from '../../payments/repository';
import { businessFailure, type BusinessFailureType } from '../../temporal/failures';
import { dedupeKeys } from '../../temporal/names';
import { createAlertActivities } from '../banking/alerts';
import { createBillerActivities } from './billers';
import { createCashbackActivities, type CreditCashbackResult, type CreditReferralBonusResult } from './cashback';
import { createPaymentActivities, type PaymentRepair } from './payments';

/**
 * The bill payment saga's steps in few round trips (payBillV2, docs/payments.md, "Few
 * round trips"). Each step that only touches PostgreSQL is one transaction that also
 * records the step, run by the workflow as a local activity; the steps that can share a
 * transaction do (the hold with its cashback split; the posting with the credits and
 * their records). They are built from the same functions as payBill's one-step
 * activities, run inside the step's transaction (a function's own transaction becomes a
 * savepoint there), so the two sagas move money the same way.
 */

export interface BillPaymentRef {
  payment: NewPayment;
}

export interface BillTermsResult {
  feeMinor: string;
  /** The words the ledger and the alerts use: `<biller name> <customer reference>`. */
  description: string;
}

export interface HoldBillFundsInput {
  paymentId: string;
  userId: string;
  /** `<workflowId>:hold`, as payBill's hold: each leg's pending transfer id derives from `<key>:<leg>`. */
  key: string;
  fromAccountId: string;
  amountMinor: string;
  feeMinor: string;
  currency: string;
  useCashback: boolean;
  expiresAt: string;
  description: string;
}

export interface HeldBillFunds {
  holdIds: string[];
  /** Set when cashback paid part of the amount: the part that earns cashback. */
  earningBaseMinor?: string;
}

export interface PrepareBillPaymentInput {
  /** The payment's row, written unless the API wrote it. */
  payment: NewPayment;
  /** `<workflowId>:hold`, as payBill's hold: each leg's pending transfer id derives from `<key>:<leg>`. */
  holdKey: string;
  /** ISO instant after which the holds can only expire. */
  expiresAt: string;
}

/** Validated and held; or the hold refused (recorded as the `hold` step's failure), for the workflow to fail the step with. */
export type PreparedBillPayment = ({ status: 'held' } & BillTermsResult & HeldBillFunds) | { status: 'refused'; type: BusinessFailureType; message: string };

export interface SettleBillPaymentInput {
  paymentId: string;
  userId: string;
  billerId: string;
  currency: string;
  /** The biller's reference when the biller accepted it (none when an operator resolved the payment as paid). */
  billerReference?: string;
  /** `<workflowId>`: the posting is keyed `<workflowId>:post`, the cashback `<workflowId>:cashback`, as in payBill. */
  workflowId: string;
  holdIds: string[];
  description: string;
  /** What earns cashback: the amount, or the part of it the account paid. */
  earningBaseMinor: string;
  /**
   * The payment to end as `succeeded` in the same transaction (payBillV3): the customer's
   * final status waits for nothing after the money moved; the notice follows it.
   */
  finish?: NewPayment;
}

export interface BillPaymentNoticeInput {
  paymentId: string;
  alerts: PaymentAlert[];
}

/** How the notice went: `failed` names the alerts refused for good (each recorded in the outbox). */
export interface BillPaymentNotice {
  status: 'succeeded' | 'failed';
  reason?: string;
}

/** A credit the payment earned, and the account it went to (for its alert). */
export interface BillCredit {
  transferId: string;
  accountId: string;
}

export interface SettledBillPayment {
  /** The posting transfers, in the order of the holds. */
  transferIds: string[];
  credits: BillCredit[];
  /** Set when a credit failed for good and was queued for the repair Schedule. */
  repairQueued?: string;
}

export interface PaymentAlert {
  transferId: string;
  accountId: string;
}

const isBusinessFailure = (err: unknown): err is ApplicationFailure => err instanceof ApplicationFailure && err.nonRetryable === true;

/**
 * Runs `work` in one transaction. A business failure it throws is rethrown only once the
 * transaction committed, so what the step recorded about it (a refusal written in a
 * savepoint) stays; anything else rolls back and is retried whole.
 */
async function committingFailures<T>(db: Db, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  let failure: ApplicationFailure | undefined;
  const result = await db.transaction(async (trx) => {
    try {
      return await work(trx);
    } catch (err) {
      if (!isBusinessFailure(err)) throw err;
      failure = err;
      return undefined;
    }
  });
  if (failure) throw failure;
  return result as T;
}

/** Every leg a bill payment's hold may place (hold-legs.ts), in the order the plan lists them. */
const HOLD_LEG_NAMES = ['amount_cashback', 'amount', 'fee_cashback', 'fee'] as const;

/**
 * The hold this payment already placed under `key`, as it was placed. A local activity
 * runs again when the worker that ran it died before the workflow task recorded its
 * result; by then its transaction may have committed, and a second plan (the cashback
 * spent, the workflow's inputs computed anew) could differ from the first. So the
 * ledger's holds are the answer, never a new plan.
 */
async function placedHold(trx: Knex.Transaction, key: string, amountMinor: bigint, useCashback: boolean | undefined): Promise<HeldBillFunds | undefined> {
  const ids = HOLD_LEG_NAMES.map((name) => transferIdFrom(`${key}:${name}`));
  const rows: Array<{ id: string; amount_minor: string }> = await trx('ledger_transfers').whereIn('id', ids).select('id', 'amount_minor');
  if (rows.length === 0) return undefined;
  const holdIds = ids.filter((id) => rows.some((row) => row.id === id));
  if (!useCashback) return { holdIds };
  const fromCashback = rows.find((row) => row.id === ids[0]);
  return { holdIds, earningBaseMinor: (amountMinor - BigInt(fromCashback?.amount_minor ?? 0)).toString() };
}

/**
 * What payBillV3's validate + hold step answered when it committed before: the hold
 * placed under `key`, the fee recorded with it, the description the hold carries.
 */
async function preparedBefore(trx: Knex.Transaction, payment: NewPayment, key: string): Promise<PreparedBillPayment | undefined> {
  const placed = await placedHold(trx, key, BigInt(payment.amountMinor), payment.useCashback);
  if (!placed) return undefined;
  const [row, hold] = await Promise.all([
    trx('payments').where({ id: payment.id }).first<{ fee_minor: string } | undefined>('fee_minor'),
    trx('ledger_transfers').where({ id: placed.holdIds[0] }).first<{ metadata: { description?: string } } | undefined>('metadata'),
  ]);
  return { status: 'held', feeMinor: String(row?.fee_minor ?? '0'), description: hold?.metadata.description ?? '', ...placed };
}

/** The credits a settled payment makes, over the settle step's transaction. */
export type BillCredits = (trx: Knex.Transaction) => Pick<ReturnType<typeof createCashbackActivities>, 'creditCashback' | 'creditReferralBonus'>;

/**
 * `credits` are the cashback line's own credit functions unless given (a test gives
 * ones that refuse, to see a credit fail for good after the biller accepted).
 */
export function createBillStepActivities(
  deps: { db: Db; ledger: Ledger; notifier: Notifier; billers: BillerPort; limits?: Limits; now: () => Date },
  credits: BillCredits = (trx) => createCashbackActivities({ db: trx, now: deps.now }),
) {
  const { db } = deps;
  /** payBill's activities over a transaction: their own transactions nest as savepoints. */
  const inside = (trx: Knex.Transaction) => ({
    // Lookups (system account ids) go through the pool; the moves themselves through `trx`.
    payments: createPaymentActivities({ ...deps, db: trx }),
    billers: createBillerActivities({ ...deps, db: trx }),
    cashback: credits(trx),
  });
  const billers = createBillerActivities(deps);
  const alerts = createAlertActivities(deps);
  const payments = createPaymentActivities(deps);

  /**
   * The hold inside `trx`: the split between cashback and the account (read in the same
   * transaction), the limit, the linked holds and the step's record; the hold already
   * placed under the key when there is one (`placedHold`).
   */
  async function holdIn(trx: Knex.Transaction, input: HoldBillFundsInput): Promise<HeldBillFunds> {
    const { paymentId, userId, key, fromAccountId, currency, expiresAt, description } = input;
    const amountMinor = BigInt(input.amountMinor);
    const feeMinor = BigInt(input.feeMinor);
    const placed = await placedHold(trx, key, amountMinor, input.useCashback);
    if (placed) return placed;
    let plan = plainHold(amountMinor, feeMinor);
    if (input.useCashback) {
      const account = await findCashbackAccount(createLedger(trx), userId, currency);
      plan = cashbackHold(amountMinor, feeMinor, currency, { accountId: account?.id ?? null, availableMinor: account?.balances.availableMinor ?? 0n });
    }
    const { note, cashbackUsedMinor, earningBaseMinor } = plan;
    const { holdIds } = await inside(trx).payments.holdPaymentFunds({ paymentId, key, fromAccountId, currency, legs: plan.legs, expiresAt, description, ...(note ? { note, cashbackUsedMinor } : {}) });
    return { holdIds, ...(earningBaseMinor ? { earningBaseMinor } : {}) };
  }

  return {
    /**
     * The `validate` step: the biller knows the customer (asked outside any transaction,
     * so a slow biller holds no lock), then the quote and the step's record in one
     * transaction. The payment's row (unless the API wrote it) and the step under way
     * are written first, so a refusal can be recorded against them.
     */
    async validateBillPayment({ payment }: BillPaymentRef): Promise<BillTermsResult> {
      const { id: paymentId, billerId, customerRef, userId, amountMinor, currency } = payment;
      await db.transaction(async (trx) => {
        await insertPayment(trx, payment);
        await recordStep(trx, { paymentId, step: 'validate', status: 'running' });
      });
      const customer = await billers.validateBillerCustomer({ billerId: billerId as string, customerRef: customerRef as string });
      return db.transaction(async (trx) => {
        const quote = await inside(trx).billers.quoteBillPayment({ billerId: billerId as string, userId, amountMinor });
        if (quote.currency !== currency) throw businessFailure('payment_invalid', `${billerId} is paid in ${quote.currency}, not ${currency}`);
        await recordStep(trx, { paymentId, step: 'validate', status: 'succeeded' });
        await setPaymentAmounts(trx, paymentId, { feeMinor: quote.feeMinor });
        return { feeMinor: quote.feeMinor, description: `${customer.billerName} ${customerRef}` };
      });
    },

    /**
     * The `hold` step in one transaction: the split between cashback and the account
     * (read in the same transaction), the limit, the linked holds and the step's record.
     * A refusal is recorded as the step's failure and thrown once committed.
     */
    async holdBillFunds(input: HoldBillFundsInput): Promise<HeldBillFunds> {
      return committingFailures(db, (trx) => holdIn(trx, input));
    },

    /**
     * payBillV3's first step, `validate` and `hold` in one local activity: the row and
     * `validate: running` first, then the biller's word (outside any transaction, so a
     * slow biller holds no lock), then one transaction for the quote, `validate:
     * succeeded`, the fee and the hold as holdBillFunds places it (answering the hold
     * already placed when it runs again after its commit). A refused hold is recorded as
     * the hold's failure with the validation and answered, not thrown, so the workflow
     * charges it to the right step; a refused validation is thrown.
     */
    async prepareBillPayment({ payment, holdKey, expiresAt }: PrepareBillPaymentInput): Promise<PreparedBillPayment> {
      const { id: paymentId, billerId, customerRef, userId, fromAccountId, amountMinor, currency } = payment;
      const earlier = await db.transaction(async (trx) => {
        await insertPayment(trx, payment);
        await recordStep(trx, { paymentId, step: 'validate', status: 'running' });
        return preparedBefore(trx, payment, holdKey);
      });
      // Run again after its commit: answered from what it wrote, without asking the biller
      // again (a biller down by then must not fail a payment whose money is held).
      if (earlier) return earlier;
      const customer = await billers.validateBillerCustomer({ billerId: billerId as string, customerRef: customerRef as string });
      const description = `${customer.billerName} ${customerRef}`;
      let refusal: ApplicationFailure | undefined;
      const prepared = await db.transaction(async (trx) => {
        const quote = await inside(trx).billers.quoteBillPayment({ billerId: billerId as string, userId, amountMinor });
        if (quote.currency !== currency) throw businessFailure('payment_invalid', `${billerId} is paid in ${quote.currency}, not ${currency}`);
        await recordStep(trx, { paymentId, step: 'validate', status: 'succeeded' });
        await setPaymentAmounts(trx, paymentId, { feeMinor: quote.feeMinor });
        const hold = { paymentId, userId, key: holdKey, fromAccountId, amountMinor, feeMinor: quote.feeMinor, currency, useCashback: payment.useCashback ?? false, expiresAt, description };
        try {
          return { feeMinor: quote.feeMinor, ...(await holdIn(trx, hold)) };
        } catch (err) {
          // The hold recorded its refusal in a savepoint: commit it with the validation.
          if (!isBusinessFailure(err)) throw err;
          refusal = err;
          return undefined;
        }
      });
      if (refusal || !prepared) return { status: 'refused', type: (refusal?.type ?? 'transfer_rejected') as BusinessFailureType, message: refusal?.message ?? 'the hold was refused' };
      return { status: 'held', description, ...prepared };
    },

    /**
     * payBillV3's release of a hold it never heard of: `prepareBillPayment` may commit
     * its hold in an attempt whose answer is lost (its worker killed), then fail on every
     * later attempt (the database or the biller down for longer than its retries), so the
     * workflow holds no hold ids when it fails the payment. The holds placed under
     * `holdKey`, if any, are voided as the hold's undo voids them; none placed, nothing
     * done.
     */
    async voidHoldsPlacedUnder({ paymentId, holdKey, key, description }: { paymentId: string; holdKey: string; key: string; description: string }): Promise<{ voided: number }> {
      const ids = HOLD_LEG_NAMES.map((name) => transferIdFrom(`${holdKey}:${name}`));
      const placed = (await db('ledger_transfers').whereIn('id', ids).pluck('id')) as string[];
      if (placed.length === 0) return { voided: 0 };
      await payments.voidPaymentHolds({ paymentId, key, holdIds: ids.filter((id) => placed.includes(id)), description });
      return { voided: placed.length };
    },

    /**
     * `pay_biller` recorded, `post` and `cashback` in one transaction: the biller's
     * acceptance, the posting of the holds, the cashback and the referral bonus with
     * their records. The biller has the money by now, so a credit that fails for good is
     * queued for repair (never a reason to undo), while a refused posting is recorded
     * and thrown for the workflow to retry until it posts.
     */
    async settleBillPayment(input: SettleBillPaymentInput): Promise<SettledBillPayment> {
      const { paymentId, userId, billerId, currency, billerReference, workflowId, holdIds, description, earningBaseMinor, finish } = input;
      return committingFailures(db, async (trx) => {
        const settled = await settleIn(trx);
        // The payment ends with the money: the notice (still to come) is not waited for.
        if (finish) await finishPayment(trx, { payment: finish, status: 'succeeded', toCome: ['notify'] });
        return settled;
      });

      async function settleIn(trx: Knex.Transaction): Promise<SettledBillPayment> {
        const steps = inside(trx);
        if (billerReference) {
          await recordStep(trx, { paymentId, step: 'pay_biller', status: 'succeeded', reason: `biller reference ${billerReference}` });
          await setPaymentAmounts(trx, paymentId, { billerReference });
        }
        const { transferIds } = await steps.payments.postPaymentHolds({ paymentId, key: `${workflowId}:post`, holdIds, description });

        const repairs: PaymentRepair[] = [];
        const attempt = async <T>(credit: PaymentRepair['credit'], request: Record<string, unknown>, call: () => Promise<T>): Promise<T | null> => {
          try {
            return await call();
          } catch (err) {
            if (!isBusinessFailure(err)) throw err;
            repairs.push({ credit, input: request, reason: `${err.type ?? 'failed'}: ${err.message}` });
            return null;
          }
        };
        const cashbackRequest = { paymentId, userId, amountMinor: earningBaseMinor, currency, billerId, transferKey: `${workflowId}:cashback` };
        const bonusRequest = { referredUserId: userId, currency };
        const nothingToEarn: CreditCashbackResult | null = earningBaseMinor === '0' ? { cashbackMinor: '0', transferId: null } : null;
        const cashback = nothingToEarn ?? (await attempt('cashback', cashbackRequest, () => steps.cashback.creditCashback(cashbackRequest)));
        const bonus = await attempt('referral_bonus', bonusRequest, () => steps.cashback.creditReferralBonus(bonusRequest));
        if (repairs.length > 0) {
          await steps.payments.queuePaymentRepairs({ paymentId, repairs });
          return { transferIds, credits: [], repairQueued: repairs.map((r) => r.credit).join(', ') };
        }
        const transferId = cashback?.transferId ?? null;
        const reason = transferId ? null : 'nothing to credit (no cashback rate, or the monthly cap is reached)';
        await recordStep(trx, { paymentId, step: 'cashback', status: 'succeeded', reason });
        await setPaymentAmounts(trx, paymentId, { cashbackMinor: cashback?.cashbackMinor ?? '0' });
        return { transferIds, credits: creditsOf(transferId, bonus, userId, currency) };
      }
    },

    /**
     * payBillV3's `notify` step, after the payment ended: one SMS per posted transfer on
     * a customer account (each once, whatever retries happen), with one read for all of
     * them and one outbox write to claim their messages, then the step's record. An
     * alert refused for good is recorded in the outbox with its reason and fails the step
     * (never the payment); a provider failure worth retrying fails the activity, for
     * Temporal to retry what is still queued.
     */
    async sendBillPaymentNotice({ paymentId, alerts: wanted }: BillPaymentNoticeInput): Promise<BillPaymentNotice> {
      const outcomes = await alerts.sendTransactionAlerts(wanted);
      const failed = outcomes.flatMap((outcome, i) => (outcome.status === 'failed' ? [`alert for ${(wanted[i] as PaymentAlert).transferId}: ${outcome.reason}`] : []));
      const notice: BillPaymentNotice = failed.length > 0 ? { status: 'failed', reason: failed.join('; ') } : { status: 'succeeded' };
      await recordStep(db, { paymentId, step: 'notify', status: notice.status, reason: notice.reason ?? null });
      return notice;
    },

    /** The notice failed through every retry: each alert's message is recorded as failed with the reason, and so is the step. */
    async recordBillNoticeFailure({ paymentId, alerts: wanted, reason }: BillPaymentNoticeInput & { reason: string }): Promise<void> {
      await Promise.all(wanted.map((alert) => deps.notifier.recordFailure(dedupeKeys.transactionAlert(alert.transferId, alert.accountId), reason)));
      await recordStep(db, { paymentId, step: 'notify', status: 'failed', reason });
    },

    /**
     * The `notify` step of a payment that succeeded: one SMS per posted transfer on a
     * customer account (each once, whatever retries happen), then the step and the
     * payment's final status in one transaction. An alert refused for good (no such
     * transfer or account) is recorded as failed in the outbox and the rest go on; a
     * provider that keeps failing fails the activity, for Temporal to retry.
     */
    async sendPaymentAlerts(input: { payment: NewPayment; alerts: PaymentAlert[] }): Promise<void> {
      await Promise.all(
        input.alerts.map(async (alert) => {
          try {
            await alerts.sendTransactionAlert(alert);
          } catch (err) {
            if (!isBusinessFailure(err)) throw err;
            await deps.notifier.recordFailure(dedupeKeys.transactionAlert(alert.transferId, alert.accountId), err.message);
          }
        }),
      );
      await db.transaction(async (trx) => {
        await recordStep(trx, { paymentId: input.payment.id, step: 'notify', status: 'succeeded' });
        await finishPayment(trx, { payment: input.payment, status: 'succeeded' });
      });
    },
  };
}

/** The credits made and the accounts they went to: the payer's cashback account, the referrer's for a bonus. */
function creditsOf(transferId: string | null, bonus: CreditReferralBonusResult | null, userId: string, currency: string): BillCredit[] {
  const credits: BillCredit[] = [];
  if (transferId) credits.push({ transferId, accountId: cashbackAccountIdOf(userId, currency) });
  if (bonus?.status === 'credited' && bonus.transferId && bonus.referrerUserId) credits.push({ transferId: bonus.transferId, accountId: cashbackAccountIdOf(bonus.referrerUserId, currency) });
  return credits;
}
