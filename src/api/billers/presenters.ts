import type { Biller } from '../../payments/billers/port';
import { BASE_CASHBACK_RATE_BPS } from '../../payments/cashback';

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
