import type { PaymentLeg } from '../activities/payments/payments';
import { formatMoney } from '../money/money';
import { splitCashback, type CashbackSplit } from './cashback-spend';

/**
 * The legs a bill payment's hold places (docs/payments.md, "Paying with cashback"), as
 * pure functions: the payment saga plans them in the workflow (payBill) or in the hold's
 * own transaction (payBillV2), the same way. Workflow-safe: no I/O.
 */

/** The hold's legs, and how the total was split when cashback pays part of it. */
export interface HoldPlan {
  legs: PaymentLeg[];
  cashbackUsedMinor?: string;
  /** Said on the hold step: how the total is split between cashback and the account. */
  note?: string;
  /** Set when cashback paid part of the amount: the part that earns cashback. */
  earningBaseMinor?: string;
}

/** Without cashback: the amount to biller settlement and the fee to fee revenue, both from the payer's account. */
export function plainHold(amountMinor: bigint, feeMinor: bigint): HoldPlan {
  return { legs: holdLegs({ amountMinor, feeMinor }) };
}

/**
 * With cashback, amount and fee each split into a part from the cashback account (taken
 * first) and a part from the payer's account; all legs are held together by one linked
 * batch, so the payment takes either all of them or nothing.
 */
export function cashbackHold(amountMinor: bigint, feeMinor: bigint, currency: string, spendable: { accountId: string | null; availableMinor: bigint }): HoldPlan {
  const split = splitCashback(amountMinor, feeMinor, spendable.accountId ? spendable.availableMinor : 0n);
  const money = (minor: bigint) => formatMoney(minor, currency);
  return {
    legs: holdLegs({ amountMinor, feeMinor }, spendable.accountId === null ? undefined : { accountId: spendable.accountId, split }),
    cashbackUsedMinor: split.cashbackUsedMinor.toString(),
    note: `${money(split.cashbackUsedMinor)} from cashback, ${money(split.walletMinor)} from the account`,
    earningBaseMinor: split.earningBaseMinor.toString(),
  };
}

function holdLegs(total: { amountMinor: bigint; feeMinor: bigint }, cashback?: { accountId: string; split: CashbackSplit }): PaymentLeg[] {
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
