import assert from 'node:assert/strict';
import { splitCashback } from '../../src/payments/cashback-spend';
import { quotePayment, type BillerTerms } from '../../src/payments/quote';

const biller: BillerTerms = {
  id: 'test-biller',
  currency: 'USD',
  feeFixedMinor: 50n,
  feeRateBps: 0,
  minAmountMinor: 100n,
  maxAmountMinor: 500_000n,
  cashbackRateBps: 150,
};

describe('spending cashback on a bill', () => {
  it('pays the amount before the fee', () => {
    const split = splitCashback(1_000n, 50n, 1_020n);
    assert.deepEqual([split.cashbackOnAmountMinor, split.cashbackOnFeeMinor, split.walletMinor], [1_000n, 20n, 30n]);
  });

  it('never spends more than the total', () => {
    assert.equal(splitCashback(1_000n, 50n, 9_999n).cashbackUsedMinor, 1_050n);
  });

  it('a negative or empty balance spends nothing', () => {
    assert.equal(splitCashback(1_000n, 50n, -5n).walletMinor, 1_050n);
  });

  it('earns only on the part of the amount the wallet pays', () => {
    assert.equal(splitCashback(1_000n, 50n, 400n).earningBaseMinor, 600n);
  });

  it('the quote earns cashback on the wallet\'s part and states the split as a rule', () => {
    // 10,000 amount, 3,000 of it paid with cashback: 7,000 earns 1.50 % + the 50.00 tier = 140.
    const quote = quotePayment(biller, 10_000n, 0n, 3_000n);
    assert.deepEqual([quote.cashbackMinor, quote.spend?.walletMinor], [140n, 7_050n]);
    assert.ok(quote.rules.some((r) => r.rule === 'cashback_spent'));
  });

  it('a quote paid wholly with cashback earns nothing', () => {
    assert.equal(quotePayment(biller, 10_000n, 0n, 20_000n).cashbackMinor, 0n);
  });
});
