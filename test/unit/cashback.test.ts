import assert from 'node:assert/strict';
import {
  BASE_CASHBACK_RATE_BPS,
  CASHBACK_MONTHLY_CAP_MINOR,
  calendarMonth,
  cashbackRate,
  computeCashback,
} from '../../src/payments/cashback';

describe('cashback rules', () => {
  describe('rate', () => {
    it('uses the base rate when the biller has none', () => {
      assert.deepEqual(cashbackRate(null, 1_000n), { startingRateBps: BASE_CASHBACK_RATE_BPS, source: 'base', tier: null, rateBps: 100 });
    });

    it("uses the biller's rate instead of the base rate, even a lower one", () => {
      assert.deepEqual(
        [cashbackRate(150, 1_000n).rateBps, cashbackRate(50, 1_000n).rateBps, cashbackRate(50, 1_000n).source],
        [150, 50, 'biller'],
      );
    });

    it('adds +0.50% from 50.00 and +1.00% from 200.00, the highest tier only', () => {
      assert.deepEqual(
        [4_999n, 5_000n, 19_999n, 20_000n, 1_000_000n].map((amount) => cashbackRate(150, amount).rateBps),
        [150, 200, 200, 250, 250],
      );
    });
  });

  describe('amount', () => {
    it('takes the rate of the amount, rounded down', () => {
      // 1.00% of 1.99 is 0.0199; 1.50% of 49.99 is 0.74985.
      assert.deepEqual([computeCashback(null, 199n, 0n).cashbackMinor, computeCashback(150, 4_999n, 0n).cashbackMinor], [1n, 74n]);
    });

    it('applies the tier to the whole amount', () => {
      // 2.50% of 300.00.
      assert.equal(computeCashback(150, 30_000n, 0n).cashbackMinor, 750n);
    });

    it('is exact for amounts beyond 2^53', () => {
      const amount = 2n ** 60n + 7n;
      assert.equal(computeCashback(0, amount, 0n, amount).uncappedMinor, (amount * 100n) / 10_000n);
    });

    it('refuses a non-positive amount', () => {
      assert.throws(() => computeCashback(null, 0n, 0n), RangeError);
    });
  });

  describe('monthly cap', () => {
    it('is 20.00', () => {
      assert.equal(CASHBACK_MONTHLY_CAP_MINOR, 2_000n);
    });

    it('grants only what remains of the cap this month', () => {
      const c = computeCashback(150, 10_000n, 1_950n);
      assert.deepEqual([c.uncappedMinor, c.remainingBeforeMinor, c.cashbackMinor, c.capped], [200n, 50n, 50n, true]);
    });

    it('grants nothing once the cap is reached or passed', () => {
      assert.deepEqual([computeCashback(null, 10_000n, 2_000n).cashbackMinor, computeCashback(null, 10_000n, 2_500n).cashbackMinor], [0n, 0n]);
    });

    it('grants everything while the cap is not reached', () => {
      const c = computeCashback(null, 10_000n, 100n);
      assert.deepEqual([c.cashbackMinor, c.capped, c.remainingBeforeMinor], [150n, false, 1_900n]);
    });
  });

  describe('calendarMonth', () => {
    it('is the UTC month', () => {
      assert.deepEqual(
        [calendarMonth(new Date('2027-01-31T23:59:59.999Z')), calendarMonth(new Date('2027-01-31T20:30:00-05:00'))],
        ['2027-01', '2027-02'],
      );
    });
  });
});
