import { formatMoney } from '../money/money';
import type { Biller } from './billers/port';
import { computeCashback, type CashbackBreakdown } from './cashback';
import { splitCashback, type CashbackSplit } from './cashback-spend';
import { basisPointsOf, formatBps } from './rounding';

/**
 * What a bill payment costs and earns (docs/payments.md), as pure functions over bigint.
 * Workflow-safe: no I/O, so the payment saga may quote inside a workflow.
 */

/** The biller fields a quote reads. */
export type BillerTerms = Pick<
  Biller,
  'id' | 'currency' | 'feeFixedMinor' | 'feeRateBps' | 'minAmountMinor' | 'maxAmountMinor' | 'cashbackRateBps'
>;

export type QuoteRuleCode =
  | 'no_fee'
  | 'fee_fixed'
  | 'fee_percentage'
  | 'cashback_rate'
  | 'cashback_tier'
  | 'cashback_amount'
  | 'cashback_monthly_cap'
  | 'cashback_spent';

/** One rule that applied, in words with its numbers, for the customer to read. */
export interface QuoteRule {
  rule: QuoteRuleCode;
  description: string;
}

export interface Fee {
  fixedMinor: bigint;
  /** feeRateBps of the amount, rounded half to even. */
  percentageMinor: bigint;
  feeMinor: bigint;
}

export interface Quote {
  billerId: string;
  currency: string;
  amountMinor: bigint;
  feeMinor: bigint;
  /** What the customer pays: amount + fee. Cashback is credited afterwards, not deducted. */
  totalMinor: bigint;
  cashbackMinor: bigint;
  cashback: CashbackBreakdown;
  /** How the total is paid when the payer spends cashback; null when they do not. */
  spend: CashbackSplit | null;
  rules: QuoteRule[];
}

export function isWithinLimits(biller: Pick<BillerTerms, 'minAmountMinor' | 'maxAmountMinor'>, amountMinor: bigint): boolean {
  return amountMinor >= biller.minAmountMinor && amountMinor <= biller.maxAmountMinor;
}

export function feeFor(biller: Pick<BillerTerms, 'feeFixedMinor' | 'feeRateBps'>, amountMinor: bigint): Fee {
  const percentageMinor = basisPointsOf(amountMinor, biller.feeRateBps, 'half_even');
  return { fixedMinor: biller.feeFixedMinor, percentageMinor, feeMinor: biller.feeFixedMinor + percentageMinor };
}

function feeRules(biller: BillerTerms, amountMinor: bigint, fee: Fee): QuoteRule[] {
  const money = (minor: bigint) => formatMoney(minor, biller.currency);
  const rules: QuoteRule[] = [];
  if (biller.feeFixedMinor > 0n) rules.push({ rule: 'fee_fixed', description: `Fixed fee of ${money(fee.fixedMinor)}.` });
  if (biller.feeRateBps > 0) {
    rules.push({
      rule: 'fee_percentage',
      description: `Fee of ${formatBps(biller.feeRateBps)} of ${money(amountMinor)} = ${money(fee.percentageMinor)} (rounded half to even).`,
    });
  }
  if (rules.length === 0) rules.push({ rule: 'no_fee', description: 'This biller charges no fee.' });
  return rules;
}

function cashbackRules(currency: string, amountMinor: bigint, c: CashbackBreakdown): QuoteRule[] {
  const money = (minor: bigint) => formatMoney(minor, currency);
  const rules: QuoteRule[] = [
    {
      rule: 'cashback_rate',
      description:
        c.source === 'biller'
          ? `This biller's cashback rate is ${formatBps(c.startingRateBps)}.`
          : `The base cashback rate of ${formatBps(c.startingRateBps)} applies.`,
    },
  ];
  if (c.tier) {
    rules.push({
      rule: 'cashback_tier',
      description: `Payments of ${money(c.tier.minAmountMinor)} or more earn ${formatBps(c.tier.bonusBps)} more: ${formatBps(c.rateBps)} in all.`,
    });
  }
  rules.push({
    rule: 'cashback_amount',
    description: `Cashback of ${formatBps(c.rateBps)} of ${money(amountMinor)} = ${money(c.uncappedMinor)} (rounded down).`,
  });
  const cap = `Cashback is capped at ${money(c.capMinor)} a calendar month (UTC); ${money(c.remainingBeforeMinor)} of it remains this month`;
  rules.push({
    rule: 'cashback_monthly_cap',
    description: c.capped ? `${cap}, so this payment earns ${money(c.cashbackMinor)}.` : `${cap}.`,
  });
  return rules;
}

/**
 * The quote for paying `amountMinor` to `biller` when the user was already granted
 * `monthToDateCashbackMinor` cashback this month in the biller's currency. The amount
 * must be within the biller's limits (check with isWithinLimits first); outside them
 * this throws RangeError. The cashback credited later may be lower than quoted when
 * other payments reach the monthly cap first.
 */
export function quotePayment(biller: BillerTerms, amountMinor: bigint, monthToDateCashbackMinor: bigint, spendableCashbackMinor?: bigint): Quote {
  if (!isWithinLimits(biller, amountMinor)) {
    throw new RangeError(`amount ${amountMinor} is outside ${biller.id}'s limits ${biller.minAmountMinor}..${biller.maxAmountMinor}`);
  }
  const fee = feeFor(biller, amountMinor);
  const spend = spendableCashbackMinor === undefined ? null : splitCashback(amountMinor, fee.feeMinor, spendableCashbackMinor);
  // Only what the wallet pays of the amount earns cashback (docs/payments.md).
  const earningMinor = spend ? spend.earningBaseMinor : amountMinor;
  const cashback = earningMinor > 0n ? computeCashback(biller.cashbackRateBps, earningMinor, monthToDateCashbackMinor) : nothingEarned(biller, monthToDateCashbackMinor);
  return {
    billerId: biller.id,
    currency: biller.currency,
    amountMinor,
    feeMinor: fee.feeMinor,
    totalMinor: amountMinor + fee.feeMinor,
    cashbackMinor: cashback.cashbackMinor,
    cashback,
    spend,
    rules: [...feeRules(biller, amountMinor, fee), ...(spend ? [spendRule(biller.currency, spend)] : []), ...cashbackRules(biller.currency, earningMinor, cashback)],
  };
}

/** The breakdown of a payment paid wholly with cashback: the rate that would apply, and nothing earned. */
function nothingEarned(biller: BillerTerms, monthToDateMinor: bigint): CashbackBreakdown {
  const rate = computeCashback(biller.cashbackRateBps, 1n, monthToDateMinor);
  return { ...rate, tier: null, rateBps: rate.startingRateBps, uncappedMinor: 0n, cashbackMinor: 0n, capped: false };
}

function spendRule(currency: string, spend: CashbackSplit): QuoteRule {
  const money = (minor: bigint) => formatMoney(minor, currency);
  return {
    rule: 'cashback_spent',
    description: `Your cashback pays ${money(spend.cashbackUsedMinor)} first and the account the remaining ${money(spend.walletMinor)}; cashback is earned only on the ${money(spend.earningBaseMinor)} of the amount not paid with cashback.`,
  };
}
