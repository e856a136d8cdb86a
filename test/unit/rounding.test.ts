import assert from 'node:assert/strict';
import fc from 'fast-check';
import { basisPointsOf, divideRounding, formatBps } from '../../src/payments/rounding';

describe('divideRounding', () => {
  describe('half_even', () => {
    it('rounds a tie to the even neighbour', () => {
      assert.deepEqual(
        [5n, 15n, 25n, 35n].map((n) => divideRounding(n, 10n, 'half_even')),
        [0n, 2n, 2n, 4n],
      );
    });

    it('rounds a negative tie to the even neighbour', () => {
      assert.deepEqual(
        [-5n, -15n, -25n].map((n) => divideRounding(n, 10n, 'half_even')),
        [0n, -2n, -2n],
      );
    });

    it('rounds a non-tie to the nearest integer', () => {
      assert.deepEqual(
        [7n, 8n, -7n, -8n].map((n) => divideRounding(n, 3n, 'half_even')),
        [2n, 3n, -2n, -3n],
      );
    });

    it('is exact for values beyond 2^53', () => {
      const even = 2n ** 64n; // even quotient: the tie stays
      const odd = 2n ** 64n + 1n; // odd quotient: the tie goes up
      assert.equal(divideRounding(even * 10n + 5n, 10n, 'half_even'), even);
      assert.equal(divideRounding(odd * 10n + 5n, 10n, 'half_even'), odd + 1n);
      assert.equal(divideRounding(odd * 10n + 6n, 10n, 'half_even'), odd + 1n);
    });

    it('lands within half a unit of the exact quotient, ties on an even result', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }), fc.bigInt({ min: 1n, max: 2n ** 40n }), (n, d) => {
          const q = divideRounding(n, d, 'half_even');
          const twiceError = 2n * (n - q * d);
          const distance = twiceError < 0n ? -twiceError : twiceError;
          return distance < d || (distance === d && q % 2n === 0n);
        }),
      );
    });
  });

  describe('down', () => {
    it('truncates toward zero', () => {
      assert.deepEqual(
        [19n, 11n, -19n, -11n].map((n) => divideRounding(n, 10n, 'down')),
        [1n, 1n, -1n, -1n],
      );
    });

    it('is exact for values beyond 2^53', () => {
      const big = 2n ** 70n + 3n;
      assert.equal(divideRounding(big * 10_000n + 9_999n, 10_000n, 'down'), big);
    });

    it('never moves away from zero and stays within one unit', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }), fc.bigInt({ min: 1n, max: 2n ** 40n }), (n, d) => {
          const q = divideRounding(n, d, 'down');
          const abs = (x: bigint) => (x < 0n ? -x : x);
          return abs(q * d) <= abs(n) && abs(n - q * d) < d;
        }),
      );
    });
  });

  it('leaves an exact quotient alone in both modes', () => {
    assert.deepEqual([divideRounding(40n, 8n, 'down'), divideRounding(40n, 8n, 'half_even')], [5n, 5n]);
  });

  it('treats a negative denominator like a negated numerator', () => {
    assert.equal(divideRounding(15n, -10n, 'half_even'), -2n);
  });

  it('refuses a zero denominator', () => {
    assert.throws(() => divideRounding(1n, 0n, 'down'), RangeError);
  });

  it('refuses an unknown mode', () => {
    assert.throws(() => divideRounding(1n, 2n, 'up' as never), TypeError);
  });
});

describe('basisPointsOf', () => {
  it('takes basis points of an amount with the given rounding', () => {
    // 75 bps of 123.45 is 0.925875.
    assert.deepEqual([basisPointsOf(12_345n, 75, 'half_even'), basisPointsOf(12_345n, 75, 'down')], [93n, 92n]);
  });

  it('refuses a negative or fractional rate', () => {
    assert.throws(() => basisPointsOf(100n, -1, 'down'), RangeError);
    assert.throws(() => basisPointsOf(100n, 1.5, 'down'), RangeError);
  });
});

describe('formatBps', () => {
  it('writes basis points as a percentage with two decimals', () => {
    assert.deepEqual([formatBps(150), formatBps(5), formatBps(10_000), formatBps(0)], ['1.50%', '0.05%', '100.00%', '0.00%']);
  });
});
