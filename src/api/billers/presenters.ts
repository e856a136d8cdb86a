import type { Biller } from '../../payments/billers/port';
import { BASE_CASHBACK_RATE_BPS } from '../../payments/cashback';
import type { Quote } from '../../payments/quote';

/** Exactly the fields of a biller that leave the server (not `active`: inactive ones are not shown). */
export function presentBiller(biller: Biller) {
  return {
    id: biller.id,
    name: biller.name,
    category: biller.category,
    currency: biller.currency,
    fee: { fixed: biller.feeFixedMinor.toString(), rateBps: biller.feeRateBps },
    limits: { min: biller.minAmountMinor.toString(), max: biller.maxAmountMinor.toString() },
    customerRefPattern: biller.customerRefPattern,
    customerRefExample: biller.customerRefExample,
    cashbackRateBps: biller.cashbackRateBps ?? BASE_CASHBACK_RATE_BPS,
  };
}

export function presentQuote(quote: Quote, customer: { customerRef: string; customerName: string }, sufficientFunds: boolean | null) {
  return {
    billerId: quote.billerId,
    customerRef: customer.customerRef,
    customerName: customer.customerName,
    currency: quote.currency,
    amount: quote.amountMinor.toString(),
    fee: quote.feeMinor.toString(),
    total: quote.totalMinor.toString(),
    cashback: quote.cashbackMinor.toString(),
    cashbackRateBps: quote.cashback.rateBps,
    monthlyCashbackCap: {
      limit: quote.cashback.capMinor.toString(),
      used: quote.cashback.monthToDateMinor.toString(),
      remaining: quote.cashback.remainingBeforeMinor.toString(),
    },
    sufficientFunds,
    rules: quote.rules,
  };
}
