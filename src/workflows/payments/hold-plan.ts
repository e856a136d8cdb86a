import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { PaymentLeg } from '../../activities/payments/payments';
import { splitCashback, type CashbackSplit } from '../../payments/cashback-spend';
import { formatMoney } from '../../money/money';
import { profiles } from '../shared/activity-profiles';
import type { BillRun, BillTerms } from './bill-run';

const { spendableCashback } = proxyActivities<Activities>(profiles.database);

/** Patch id: a payment with `useCashback` spends the payer's cashback first. */
export const SPEND_CASHBACK = 'payment-spend-cashback';

/** The legs the hold places, and how the total was split when cashback pays part of it. */
export interface HoldPlan {
  legs: PaymentLeg[];
  cashbackUsedMinor?: string;
  note?: string;
}

/**
 * The hold's legs (docs/payments.md, "Paying with cashback"). Without cashback: the
 * amount to biller settlement and the fee to fee revenue, both from the payer's account.
 * With it, each of those splits into a part from the cashback account (taken first) and
 * a part from the payer's account; all legs are held together by one linked batch, so
 * the payment takes either all of them or nothing. The cashback balance read here is
 * only a plan: cashback spent meanwhile makes the ledger refuse the whole hold.
 */
export async function planHold(run: BillRun, terms: BillTerms): Promise<HoldPlan> {
  const { input } = run;
  const amountMinor = BigInt(input.amountMinor);
  const feeMinor = BigInt(terms.feeMinor);
  if (!input.useCashback || !patched(SPEND_CASHBACK)) return { legs: legsOf({ amountMinor, feeMinor }) };
  const spendable = await spendableCashback({ userId: input.userId, currency: input.currency });
  const split = splitCashback(amountMinor, feeMinor, spendable.accountId ? BigInt(spendable.availableMinor) : 0n);
  run.earningBaseMinor = split.earningBaseMinor.toString();
  const money = (minor: bigint) => formatMoney(minor, input.currency);
  return {
    legs: legsOf({ amountMinor, feeMinor }, spendable.accountId === null ? undefined : { accountId: spendable.accountId, split }),
    cashbackUsedMinor: split.cashbackUsedMinor.toString(),
    note: `${money(split.cashbackUsedMinor)} from cashback, ${money(split.walletMinor)} from the account`,
  };
}

function legsOf(total: { amountMinor: bigint; feeMinor: bigint }, cashback?: { accountId: string; split: CashbackSplit }): PaymentLeg[] {
  const fromCashback = { amount: cashback?.split.cashbackOnAmountMinor ?? 0n, fee: cashback?.split.cashbackOnFeeMinor ?? 0n };
  const parts: Array<Omit<PaymentLeg, 'amountMinor'> & { minor: bigint }> = [
    { name: 'amount_cashback', fromAccountId: cashback?.accountId, to: { systemRole: 'biller_settlement' }, minor: fromCashback.amount, code: 'bill_payment' },
    { name: 'amount', to: { systemRole: 'biller_settlement' }, minor: total.amountMinor - fromCashback.amount, code: 'bill_payment' },
    { name: 'fee_cashback', fromAccountId: cashback?.accountId, to: { systemRole: 'fee_revenue' }, minor: fromCashback.fee, code: 'fee' },
    { name: 'fee', to: { systemRole: 'fee_revenue' }, minor: total.feeMinor - fromCashback.fee, code: 'fee' },
  ];
  return parts
    .filter((part) => part.minor > 0n)
    .map(({ minor, fromAccountId, ...leg }) => ({ ...leg, amountMinor: minor.toString(), ...(fromAccountId ? { fromAccountId } : {}) }));
}
