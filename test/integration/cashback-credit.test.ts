import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { createCashbackActivities, type CreditCashbackInput } from '../../src/activities/payments/cashback';
import type { Db } from '../../src/db/knex';
import { accountIdFrom, transferIdFrom } from '../../src/ledger/ids';
import { createLedger } from '../../src/ledger/service';
import { CASHBACK_MONTHLY_CAP_MINOR, REFERRAL_BONUS_MINOR } from '../../src/payments/cashback';
import { insertCustomer } from '../helpers/fixtures';
import { testDb } from '../helpers/services';

/**
 * creditCashback and creditReferralBonus over the real ledger and test database. The
 * clock is injected, so each test picks its month. FiberNet earns 2.00% (+ tiers).
 */
describe('cashback and referral credits', function () {
  let db: Db;
  let clock: Date;
  let activities: ReturnType<typeof createCashbackActivities>;

  before(async function () {
    this.timeout(120_000);
    db = await testDb();
    activities = createCashbackActivities({ db, now: () => clock });
  });

  beforeEach(() => {
    clock = new Date('2027-03-15T12:00:00Z');
  });

  function credit(userId: string, amountMinor: string, overrides: Partial<CreditCashbackInput> = {}) {
    const paymentId = randomUUID();
    return activities.creditCashback({
      paymentId,
      userId,
      amountMinor,
      currency: 'USD',
      billerId: 'fibernet-broadband',
      transferKey: `payment:${userId}:${paymentId}:cashback`,
      ...overrides,
    });
  }

  const cashbackAccountId = (userId: string) => accountIdFrom(`cashback:${userId}:USD`);
  const balance = async (userId: string) => (await createLedger(db).getAccount(cashbackAccountId(userId)))?.balances.postedMinor ?? 0n;
  const granted = async (userId: string, month: string) =>
    BigInt((await db('cashback_monthly').where({ user_id: userId, month, currency: 'USD' }).first('granted_minor'))?.granted_minor ?? 0);

  const businessFailure = (type: string) => (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, type);
    assert.equal(err.nonRetryable, true);
    return true;
  };

  describe('creditCashback', () => {
    it('posts cashback_expense → the cashback account under the transfer key', async () => {
      const userId = await insertCustomer(db);
      const transferKey = `payment:${randomUUID()}:cashback`;
      const result = await credit(userId, '4000', { transferKey });
      const transfer = await createLedger(db).getTransfer(transferIdFrom(transferKey));
      const expense = await createLedger(db).ensureSystemAccount('cashback_expense', 'USD');
      assert.deepEqual(result, { cashbackMinor: '80', transferId: transferIdFrom(transferKey) });
      assert.deepEqual(
        [transfer?.debitAccountId, transfer?.creditAccountId, transfer?.amountMinor, transfer?.code],
        [expense.id, cashbackAccountId(userId), 80n, 'cashback'],
      );
    });

    it("opens the user's cashback account on first use", async () => {
      const userId = await insertCustomer(db);
      await credit(userId, '4000');
      const account = await createLedger(db).getAccount(cashbackAccountId(userId));
      assert.deepEqual([account?.type, account?.ownerUserId, account?.currency], ['cashback', userId, 'USD']);
    });

    it('grants once for one transfer key, however often it is retried', async () => {
      const userId = await insertCustomer(db);
      const input = { transferKey: `payment:${randomUUID()}:cashback`, paymentId: randomUUID() };
      const results = [await credit(userId, '4000', input), await credit(userId, '4000', input), await credit(userId, '4000', input)];
      assert.deepEqual(results.slice(1), [results[0], results[0]]);
      assert.deepEqual([await balance(userId), await granted(userId, '2027-03')], [80n, 80n]);
    });

    it('grants once for one transfer key retried concurrently', async () => {
      const userId = await insertCustomer(db);
      const input = { transferKey: `payment:${randomUUID()}:cashback`, paymentId: randomUUID() };
      await Promise.all(Array.from({ length: 5 }, () => credit(userId, '4000', input)));
      assert.deepEqual([await balance(userId), await granted(userId, '2027-03')], [80n, 80n]);
    });

    it('refuses a transfer key reused for another payment', async () => {
      const userId = await insertCustomer(db);
      const transferKey = `payment:${randomUUID()}:cashback`;
      await credit(userId, '4000', { transferKey });
      await assert.rejects(credit(userId, '5000', { transferKey }), businessFailure('transfer_rejected'));
    });

    it('stops at the monthly cap across many payments, then grants 0 with no transfer', async () => {
      const userId = await insertCustomer(db);
      // 200.00 earns 6.00 (2.00% + 1.00% tier): 6 + 6 + 6 + 2 (capped) + 0.
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await credit(userId, '20000'));
      assert.deepEqual(
        results.map((r) => [r.cashbackMinor, r.transferId === null]),
        [['600', false], ['600', false], ['600', false], ['200', false], ['0', true]],
      );
      assert.deepEqual([await balance(userId), await granted(userId, '2027-03')], [CASHBACK_MONTHLY_CAP_MINOR, CASHBACK_MONTHLY_CAP_MINOR]);
    });

    it('never exceeds the cap under 20 concurrent credits', async function () {
      this.timeout(60_000);
      const userId = await insertCustomer(db);
      const results = await Promise.all(Array.from({ length: 20 }, () => credit(userId, '20000')));
      const total = results.reduce((sum, r) => sum + BigInt(r.cashbackMinor), 0n);
      assert.deepEqual([total, await balance(userId), await granted(userId, '2027-03')], [CASHBACK_MONTHLY_CAP_MINOR, CASHBACK_MONTHLY_CAP_MINOR, CASHBACK_MONTHLY_CAP_MINOR]);
    });

    it('starts a new month with the whole cap', async () => {
      const userId = await insertCustomer(db);
      clock = new Date('2027-03-31T23:59:00Z');
      for (let i = 0; i < 4; i++) await credit(userId, '20000');
      clock = new Date('2027-04-01T00:01:00Z');
      const april = await credit(userId, '20000');
      assert.deepEqual([april.cashbackMinor, await granted(userId, '2027-03'), await granted(userId, '2027-04')], ['600', 2_000n, 600n]);
    });

    it('keeps each user to their own cap', async () => {
      const [a, b] = [await insertCustomer(db), await insertCustomer(db)];
      for (let i = 0; i < 4; i++) await credit(a, '20000');
      assert.equal((await credit(b, '20000')).cashbackMinor, '600');
    });

    it('fails as biller_not_found for an unknown biller', async () => {
      const userId = await insertCustomer(db);
      await assert.rejects(credit(userId, '4000', { billerId: 'no-such-biller' }), businessFailure('biller_not_found'));
    });

    it("fails as currency_mismatch for a currency not the biller's", async () => {
      const userId = await insertCustomer(db);
      await assert.rejects(credit(userId, '4000', { currency: 'EUR' }), businessFailure('currency_mismatch'));
    });

    it('fails as customer_not_found for a user that does not exist', async () => {
      await assert.rejects(credit(randomUUID(), '4000'), businessFailure('customer_not_found'));
    });
  });

  describe('creditReferralBonus', () => {
    async function referredPair() {
      const referrerId = await insertCustomer(db);
      const referredId = await insertCustomer(db);
      await db('users').where({ id: referredId }).update({ referred_by: referrerId });
      return { referrerId, referredId };
    }

    it("credits the fixed bonus to the referrer's cashback account", async () => {
      const { referrerId, referredId } = await referredPair();
      const result = await activities.creditReferralBonus({ referredUserId: referredId, currency: 'USD' });
      const transfer = await createLedger(db).getTransfer(transferIdFrom(`referral:${referredId}`));
      assert.deepEqual(result, { status: 'credited', referrerUserId: referrerId, bonusMinor: '500', transferId: transferIdFrom(`referral:${referredId}`) });
      assert.deepEqual([transfer?.code, transfer?.creditAccountId, await balance(referrerId)], ['referral_bonus', cashbackAccountId(referrerId), REFERRAL_BONUS_MINOR]);
    });

    it('credits it once: later payments find it already credited', async () => {
      const { referrerId, referredId } = await referredPair();
      await activities.creditReferralBonus({ referredUserId: referredId, currency: 'USD' });
      const again = await activities.creditReferralBonus({ referredUserId: referredId, currency: 'USD' });
      assert.deepEqual([again.status, again.transferId, await balance(referrerId)], ['already_credited', transferIdFrom(`referral:${referredId}`), 500n]);
    });

    it('credits it once under concurrent calls', async () => {
      const { referrerId, referredId } = await referredPair();
      const results = await Promise.all(Array.from({ length: 5 }, () => activities.creditReferralBonus({ referredUserId: referredId, currency: 'USD' })));
      assert.deepEqual(
        [results.filter((r) => r.status === 'credited').length, await balance(referrerId)],
        [1, 500n],
      );
    });

    it('does nothing for a user nobody referred', async () => {
      const userId = await insertCustomer(db);
      const result = await activities.creditReferralBonus({ referredUserId: userId, currency: 'USD' });
      assert.deepEqual(result, { status: 'no_referrer', referrerUserId: null, bonusMinor: '0', transferId: null });
    });

    it('is not counted against the monthly cashback cap', async () => {
      const { referrerId, referredId } = await referredPair();
      await activities.creditReferralBonus({ referredUserId: referredId, currency: 'USD' });
      assert.equal(await granted(referrerId, '2027-03'), 0n);
    });
  });
});
