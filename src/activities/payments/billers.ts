import type { Db } from '../../db/knex';
import { parseAmountMinor } from '../../money/money';
import { getBiller, cashbackGrantedInMonth } from '../../payments/billers/repository';
import type { Biller, BillerPaymentStatus, BillerPort } from '../../payments/billers/port';
import { calendarMonth } from '../../payments/cashback';
import { recordStep } from '../../payments/repository';
import { isWithinLimits, quotePayment, type QuoteRule } from '../../payments/quote';
import { businessFailure } from '../../temporal/failures';

/**
 * The payment saga's calls to billers, through the biller port (docs/payments.md).
 * Money crosses Temporal as decimal strings. A BillerUnavailableError from the port is
 * thrown as is, so Temporal retries it; refusals are business failures.
 */

export interface ValidateBillerCustomerInput {
  billerId: string;
  customerRef: string;
}

export interface ValidateBillerCustomerResult {
  billerId: string;
  billerName: string;
  currency: string;
  customerName: string;
  /** Null when the biller bills no fixed amount (airtime). */
  amountDueMinor: string | null;
}

export interface PayBillerInput {
  billerId: string;
  customerRef: string;
  amountMinor: string;
  currency: string;
  /** The biller's idempotency key: the saga's payment id, the same on every retry. */
  paymentId: string;
  /**
   * Records `pay_biller: running` before calling the biller (payBillV3, whose step has
   * no local record of its own before the call); once, however many attempts.
   */
  recordsRunning?: boolean;
}

/** A decline is thrown as `biller_declined`, so only these two come back. */
export type PayBillerResult = { status: 'accepted'; billerReference: string } | { status: 'unknown' };

export interface QuoteBillPaymentInput {
  billerId: string;
  userId: string;
  amountMinor: string;
}

export interface QuoteBillPaymentResult {
  billerId: string;
  currency: string;
  amountMinor: string;
  feeMinor: string;
  totalMinor: string;
  /** What the cashback would be now; creditCashback decides the final figure under the cap. */
  cashbackMinor: string;
  rules: QuoteRule[];
}

export function createBillerActivities({ db, billers, now }: { db: Db; billers: BillerPort; now: () => Date }) {
  async function activeBiller(billerId: string): Promise<Biller> {
    const biller = await getBiller(db, billerId);
    if (!biller) throw businessFailure('biller_not_found', `no active biller ${billerId}`, { billerId });
    return biller;
  }

  return {
    /** Fails as `biller_not_found`, `invalid_customer_reference` or `unknown_customer`. */
    async validateBillerCustomer({ billerId, customerRef }: ValidateBillerCustomerInput): Promise<ValidateBillerCustomerResult> {
      const biller = await activeBiller(billerId);
      const validation = await billers.validate(biller, customerRef);
      if (!validation.valid) {
        const type = validation.reason === 'invalid_format' ? 'invalid_customer_reference' : 'unknown_customer';
        throw businessFailure(type, `${biller.name} does not know customer reference ${customerRef}`, { billerId, customerRef });
      }
      return {
        billerId: biller.id,
        billerName: biller.name,
        currency: biller.currency,
        customerName: validation.customerName,
        amountDueMinor: validation.amountDueMinor === null ? null : validation.amountDueMinor.toString(),
      };
    },

    /**
     * Pays the biller once per payment id, however often it is retried. A decline fails
     * as `biller_declined` (details: `{ reason }`); `unknown` asks the caller to poll
     * getBillerPaymentStatus.
     */
    async payBiller({ recordsRunning, ...input }: PayBillerInput): Promise<PayBillerResult> {
      const biller = await activeBiller(input.billerId);
      if (recordsRunning) await recordStep(db, { paymentId: input.paymentId, step: 'pay_biller', status: 'running' });
      const outcome = await billers.pay({ ...input, biller, amountMinor: parseAmountMinor(input.amountMinor) });
      if (outcome.status === 'declined') {
        throw businessFailure('biller_declined', `${biller.name} declined payment ${input.paymentId}: ${outcome.reason}`, { reason: outcome.reason });
      }
      return outcome;
    },

    /** The biller's answer, as data: a query, so `declined` and `not_found` are returned, not thrown. */
    async getBillerPaymentStatus({ billerId, paymentId }: { billerId: string; paymentId: string }): Promise<BillerPaymentStatus> {
      return billers.getPaymentStatus({ biller: await activeBiller(billerId), paymentId });
    },

    /**
     * Fee, total and cashback for a payment, as POST /v1/payments/quote computes them
     * (the month-to-date cashback read now). Fails as `biller_not_found`, or as
     * `payment_invalid` when the amount is outside the biller's limits.
     */
    async quoteBillPayment({ billerId, userId, amountMinor }: QuoteBillPaymentInput): Promise<QuoteBillPaymentResult> {
      const biller = await activeBiller(billerId);
      const amount = parseAmountMinor(amountMinor);
      if (!isWithinLimits(biller, amount)) {
        throw businessFailure('payment_invalid', `amount ${amountMinor} is outside ${biller.id}'s limits`, { billerId, amountMinor });
      }
      const monthToDate = await cashbackGrantedInMonth(db, userId, calendarMonth(now()), biller.currency);
      const quote = quotePayment(biller, amount, monthToDate);
      return {
        billerId: biller.id,
        currency: quote.currency,
        amountMinor: quote.amountMinor.toString(),
        feeMinor: quote.feeMinor.toString(),
        totalMinor: quote.totalMinor.toString(),
        cashbackMinor: quote.cashbackMinor.toString(),
        rules: quote.rules,
      };
    },
  };
}
