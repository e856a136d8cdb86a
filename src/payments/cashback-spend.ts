/**
 * Spending cashback on a bill (docs/payments.md, "Paying with cashback"), as pure
 * functions over bigint. Workflow-safe: no I/O, so the quote, the API's funds check and
 * the payment saga split a payment the same way.
 *
 * The cashback balance pays first, the bill's amount before its fee; the wallet pays
 * the rest. Cashback is earned only on the part of the amount the wallet paid: money
 * that was cashback earns none again (the fee never earns any).
 */

export interface CashbackSplit {
  /** What the cashback account pays of the amount and of the fee. */
  cashbackOnAmountMinor: bigint;
  cashbackOnFeeMinor: bigint;
  /** cashbackOnAmountMinor + cashbackOnFeeMinor. */
  cashbackUsedMinor: bigint;
  /** What the paying account pays: amount + fee − cashbackUsedMinor. */
  walletMinor: bigint;
  /** The part of the amount that earns cashback: amount − cashbackOnAmountMinor. */
  earningBaseMinor: bigint;
}

export function splitCashback(amountMinor: bigint, feeMinor: bigint, cashbackAvailableMinor: bigint): CashbackSplit {
  const available = cashbackAvailableMinor > 0n ? cashbackAvailableMinor : 0n;
  const cashbackOnAmountMinor = available < amountMinor ? available : amountMinor;
  const leftover = available - cashbackOnAmountMinor;
  const cashbackOnFeeMinor = leftover < feeMinor ? leftover : feeMinor;
  const cashbackUsedMinor = cashbackOnAmountMinor + cashbackOnFeeMinor;
  return {
    cashbackOnAmountMinor,
    cashbackOnFeeMinor,
    cashbackUsedMinor,
    walletMinor: amountMinor + feeMinor - cashbackUsedMinor,
    earningBaseMinor: amountMinor - cashbackOnAmountMinor,
  };
}

/** A split that spends no cashback: what a payment without `useCashback` is. */
export function noCashbackSpent(amountMinor: bigint, feeMinor: bigint): CashbackSplit {
  return splitCashback(amountMinor, feeMinor, 0n);
}
