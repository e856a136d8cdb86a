import assert from 'node:assert/strict';
import { MAX_AMOUNT_MINOR } from '../../src/money/money';
import { feeFor, isWithinLimits, quotePayment, type BillerTerms } from '../../src/payments/quote';

/** A biller's terms; every test states the fields it relies on. */
function terms(overrides: Partial<BillerTerms>): BillerTerms {
  return {
    id: 'test-biller',
    currency: 'USD',
    feeFixedMinor: 0n,
    feeRateBps: 0,
    minAmountMinor: 100n,
    maxAmountMinor: 500_000n,
    cashbackRateBps: null,
    ...overrides,
  };
}

describe('payment quotes', () => {
  describe('fee', () => {
    it('is the fixed fee alone when there is no rate', () => {
      assert.deepEqual(feeFor(terms({ feeFixedMinor: 50n }), 12_345n), { fixedMinor: 50n, percentageMinor: 0n, feeMinor: 50n });
    });

    it('rounds the percentage half to even', () => {
      // 0.50% of 101.00 is 0.505 (a tie, down to 50); of 103.00 is 0.515 (a tie, up to 52); of 100.70 is 0.5035 (50).
      const biller = terms({ feeRateBps: 50 });
      assert.deepEqual([10_100n, 10_300n, 10_070n].map((amount) => feeFor(biller, amount).percentageMinor), [50n, 52n, 50n]);
    });

    it('adds the fixed fee and the percentage', () => {
      assert.equal(feeFor(terms({ feeFixedMinor: 25n, feeRateBps: 50 }), 20_000n).feeMinor, 125n);
    });

    it('is exact for amounts beyond 2^53', () => {
      const biller = terms({ feeFixedMinor: 1n, feeRateBps: 1, maxAmountMinor: MAX_AMOUNT_MINOR });
      // 0.01% of 999,999,999,999,999,999 is 99,999,999,999,999.9999, rounded to 100,000,000,000,000.
      assert.equal(feeFor(biller, MAX_AMOUNT_MINOR).feeMinor, 100_000_000_000_001n);
    });
  });

  describe('limits', () => {
    it('includes both bounds', () => {
      const biller = terms({ minAmountMinor: 500n, maxAmountMinor: 1_000n });
      assert.deepEqual([499n, 500n, 1_000n, 1_001n].map((amount) => isWithinLimits(biller, amount)), [false, true, true, false]);
    });

    it('refuses to quote outside them', () => {
      assert.throws(() => quotePayment(terms({ minAmountMinor: 500n }), 499n, 0n), RangeError);
    });
  });

  describe('quotePayment', () => {
    it('totals amount and fee; cashback is not deducted', () => {
      const quote = quotePayment(terms({ feeFixedMinor: 25n, feeRateBps: 50, cashbackRateBps: 200 }), 20_000n, 0n);
      // Fee 0.25 + 1.00; cashback 2.00% + 1.00% tier of 200.00.
      assert.deepEqual(
        [quote.amountMinor, quote.feeMinor, quote.totalMinor, quote.cashbackMinor, quote.currency],
        [20_000n, 125n, 20_125n, 600n, 'USD'],
      );
    });

    it('caps cashback by what remains of the month', () => {
      const quote = quotePayment(terms({ cashbackRateBps: 200 }), 20_000n, 1_900n);
      assert.deepEqual([quote.cashback.uncappedMinor, quote.cashbackMinor], [600n, 100n]);
    });

    it('lists every rule that applied with its numbers', () => {
      const quote = quotePayment(terms({ feeFixedMinor: 25n, feeRateBps: 50, cashbackRateBps: 200 }), 20_000n, 1_900n);
      assert.deepEqual(quote.rules, [
        { rule: 'fee_fixed', description: 'Fixed fee of USD 0.25.' },
        { rule: 'fee_percentage', description: 'Fee of 0.50% of USD 200.00 = USD 1.00 (rounded half to even).' },
        { rule: 'cashback_rate', description: "This biller's cashback rate is 2.00%." },
        { rule: 'cashback_tier', description: 'Payments of USD 200.00 or more earn 1.00% more: 3.00% in all.' },
        { rule: 'cashback_amount', description: 'Cashback of 3.00% of USD 200.00 = USD 6.00 (rounded down).' },
        {
          rule: 'cashback_monthly_cap',
          description: 'Cashback is capped at USD 20.00 a calendar month (UTC); USD 1.00 of it remains this month, so this payment earns USD 1.00.',
        },
      ]);
    });

    it('says when there is no fee and the base rate applies, and names no tier below 50.00', () => {
      const quote = quotePayment(terms({}), 4_000n, 0n);
      assert.deepEqual(
        quote.rules.map((r) => r.description),
        [
          'This biller charges no fee.',
          'The base cashback rate of 1.00% applies.',
          'Cashback of 1.00% of USD 40.00 = USD 0.40 (rounded down).',
          'Cashback is capped at USD 20.00 a calendar month (UTC); USD 20.00 of it remains this month.',
        ],
      );
    });
  });
});
