/**
 * Money is a bigint count of minor units with its ISO 4217 currency. It crosses JSON
 * and Temporal boundaries as a decimal string of digits. This module is workflow-safe
 * (no I/O), so workflows and activities format amounts the same way.
 */

/** A positive amount of minor units as the API accepts it: digits, no sign, no leading zero. */
export const POSITIVE_AMOUNT_PATTERN = /^[1-9][0-9]{0,17}$/;

/** The largest amount accepted (fits a PostgreSQL bigint with room for sums). */
export const MAX_AMOUNT_MINOR = 10n ** 18n - 1n;

export function parseAmountMinor(value: string): bigint {
  if (!POSITIVE_AMOUNT_PATTERN.test(value)) throw new RangeError(`not a positive integer amount: ${value}`);
  return BigInt(value);
}

/** Digits after the decimal point for a currency (USD 2, JPY 0, KWD 3), from ICU. */
export function currencyExponent(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** `formatMoney(105050n, 'USD')` → `USD 1,050.50`. Exact: no floating point. */
export function formatMoney(amountMinor: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : '';
  return `${negative ? '-' : ''}${currency} ${whole}${fraction}`;
}

/** `••1234`: the last four characters of an account id, for messages that leave finflow. */
export function maskAccount(accountId: string): string {
  return `••${accountId.replace(/-/g, '').slice(-4)}`;
}
