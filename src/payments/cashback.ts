import { basisPointsOf } from './rounding';

/**
 * Cashback rules (docs/payments.md), as pure functions over bigint minor units.
 * Workflow-safe: no I/O. Amounts here are minor units of the payment's currency; the
 * constants are tuned for two-decimal currencies (every seeded biller is USD).
 */

/** The rate a biller without a rate of its own earns: 1.00%. */
export const BASE_CASHBACK_RATE_BPS = 100;

export interface CashbackTier {
  /** The tier applies to payments of at least this amount. */
  minAmountMinor: bigint;
  /** Added to the biller's (or the base) rate. */
  bonusBps: number;
}

/** Larger payments earn more; only the highest tier that applies counts (they do not add up). */
export const CASHBACK_TIERS: readonly CashbackTier[] = [
  { minAmountMinor: 5_000n, bonusBps: 50 },
  { minAmountMinor: 20_000n, bonusBps: 100 },
];

/** Cashback per user, per currency, per calendar month (UTC): 20.00. */
export const CASHBACK_MONTHLY_CAP_MINOR = 2_000n;

/** Paid once to the referrer when the referred user's first payment succeeds: 5.00. */
export const REFERRAL_BONUS_MINOR = 500n;

export interface CashbackRate {
  /** The biller's own rate, or the base rate when it has none. */
  startingRateBps: number;
  source: 'biller' | 'base';
  tier: CashbackTier | null;
  /** startingRateBps + the tier's bonus. */
  rateBps: number;
}

export interface CashbackBreakdown extends CashbackRate {
  /** rateBps of the amount, rounded down. */
  uncappedMinor: bigint;
  capMinor: bigint;
  /** Granted earlier this month, before this payment. */
  monthToDateMinor: bigint;
  /** What the cap still allowed before this payment. */
  remainingBeforeMinor: bigint;
  /** min(uncapped, remaining before). */
  cashbackMinor: bigint;
  capped: boolean;
}

export function cashbackRate(billerRateBps: number | null, amountMinor: bigint): CashbackRate {
  const startingRateBps = billerRateBps ?? BASE_CASHBACK_RATE_BPS;
  const tier = CASHBACK_TIERS.filter((t) => amountMinor >= t.minAmountMinor).reduce<CashbackTier | null>(
    (best, t) => (best === null || t.minAmountMinor > best.minAmountMinor ? t : best),
    null,
  );
  return {
    startingRateBps,
    source: billerRateBps === null ? 'base' : 'biller',
    tier,
    rateBps: startingRateBps + (tier?.bonusBps ?? 0),
  };
}

/**
 * The cashback a payment of `amountMinor` earns, given what the user was granted earlier
 * this month. The cap is applied to the whole month: once reached, cashback is 0.
 */
export function computeCashback(
  billerRateBps: number | null,
  amountMinor: bigint,
  monthToDateMinor: bigint,
  capMinor: bigint = CASHBACK_MONTHLY_CAP_MINOR,
): CashbackBreakdown {
  if (amountMinor <= 0n) throw new RangeError('amountMinor must be positive');
  if (monthToDateMinor < 0n) throw new RangeError('monthToDateMinor must not be negative');
  const rate = cashbackRate(billerRateBps, amountMinor);
  const uncappedMinor = basisPointsOf(amountMinor, rate.rateBps, 'down');
  const remainingBeforeMinor = capMinor > monthToDateMinor ? capMinor - monthToDateMinor : 0n;
  const cashbackMinor = uncappedMinor < remainingBeforeMinor ? uncappedMinor : remainingBeforeMinor;
  return {
    ...rate,
    uncappedMinor,
    capMinor,
    monthToDateMinor,
    remainingBeforeMinor,
    cashbackMinor,
    capped: cashbackMinor < uncappedMinor,
  };
}

/** The calendar month of an instant in UTC, as cashback_monthly keys it: `2027-03`. */
export function calendarMonth(at: Date): string {
  return at.toISOString().slice(0, 7);
}
