import assert from 'node:assert/strict';
import { currencyExponent, formatMoney, maskAccount, parseAmountMinor } from '../../src/money/money';

describe('money', () => {
  it('formats minor units with the currency exponent', () => {
    assert.equal(formatMoney(105050n, 'USD'), 'USD 1,050.50');
    assert.equal(formatMoney(5n, 'EUR'), 'EUR 0.05');
    assert.equal(formatMoney(1500n, 'JPY'), 'JPY 1,500');
    assert.equal(formatMoney(1234567n, 'KWD'), 'KWD 1,234.567');
    assert.equal(formatMoney(-250n, 'USD'), '-USD 2.50');
  });

  it('formats amounts beyond Number precision exactly', () => {
    assert.equal(formatMoney(900719925474099312n, 'USD'), 'USD 9,007,199,254,740,993.12');
  });

  it('knows currency exponents from ICU', () => {
    assert.deepEqual(['USD', 'JPY', 'BHD'].map(currencyExponent), [2, 0, 3]);
  });

  it('parses only positive integer strings', () => {
    assert.equal(parseAmountMinor('1050'), 1050n);
    for (const bad of ['0', '-1', '01', '1.5', '1e3', '', ' 1', '1000000000000000000']) {
      assert.throws(() => parseAmountMinor(bad), RangeError, bad);
    }
  });

  it('masks an account id to its last four characters', () => {
    assert.equal(maskAccount('0c3adadb-3163-4290-90db-368260fcd5c1'), '••d5c1');
  });
});
