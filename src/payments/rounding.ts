/**
 * The one rounding function of payments: every fee and cashback amount is an exact
 * bigint division rounded here, so no value ever passes through a float. Workflow-safe
 * (no I/O), so a workflow can quote with the same arithmetic as an activity.
 */

/**
 * `down`: toward zero (what we give away, cashback, never rounds up);
 * `half_even`: to the nearest integer, a tie to the even one (fees: over many payments
 * ties round up as often as down, so neither side gains).
 */
export type RoundingMode = 'down' | 'half_even';

/** `numerator / denominator` as an integer, rounded by `mode`. Exact for any size. */
export function divideRounding(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  if (mode !== 'down' && mode !== 'half_even') throw new TypeError(`unknown rounding mode ${JSON.stringify(mode)}`);
  if (denominator === 0n) throw new RangeError('division by zero');
  if (denominator < 0n) return divideRounding(-numerator, -denominator, mode);
  // bigint division truncates toward zero; the remainder carries the numerator's sign.
  const quotient = numerator / denominator;
  const remainder = numerator % denominator;
  if (mode === 'down' || remainder === 0n) return quotient;
  const twiceRemainder = 2n * (remainder < 0n ? -remainder : remainder);
  const awayFromZero = remainder < 0n ? quotient - 1n : quotient + 1n;
  if (twiceRemainder > denominator) return awayFromZero;
  if (twiceRemainder < denominator) return quotient;
  return quotient % 2n === 0n ? quotient : awayFromZero;
}

export const BPS_PER_UNIT = 10_000n;

/** `rateBps` basis points (1/100 of a percent) of `amountMinor`, rounded by `mode`. */
export function basisPointsOf(amountMinor: bigint, rateBps: number, mode: RoundingMode): bigint {
  if (!Number.isSafeInteger(rateBps) || rateBps < 0) throw new RangeError(`rateBps must be a non-negative integer, got ${rateBps}`);
  return divideRounding(amountMinor * BigInt(rateBps), BPS_PER_UNIT, mode);
}

/** `150` → `1.50%`, exactly. */
export function formatBps(rateBps: number): string {
  return `${Math.trunc(rateBps / 100)}.${String(rateBps % 100).padStart(2, '0')}%`;
}
