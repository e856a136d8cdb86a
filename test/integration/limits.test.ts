import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../src/activities';
import { ConfigError, loadConfig } from '../../src/config';
import type { Db } from '../../src/db/knex';
import { parseLimits, type Limits } from '../../src/limits/limits';
import { paymentIdFrom } from '../../src/payments/repository';
import { workflowIds } from '../../src/temporal/names';
import { testActivityDeps } from '../helpers/fixtures';
import { customerWithWallet, uniquePhone } from '../helpers/money';
import { testDb } from '../helpers/services';

describe('limits', () => {
  describe('LIMITS (config)', () => {
    it('parses per-transaction and daily limits per currency and kind', () => {
      const config = loadConfig({ NODE_ENV: 'test', LIMITS: 'EUR.transfer.per_transaction=100,EUR.transfer.daily=300' });
      assert.deepEqual(config.limits, { EUR: { transfer: { perTransactionMinor: 100n, dailyMinor: 300n } } });
    });

    it('has USD limits for every kind by default', () => {
      assert.deepEqual(Object.keys(loadConfig({ NODE_ENV: 'test' }).limits.USD ?? {}).sort(), ['funding', 'payment', 'transfer']);
    });

    it('refuses an entry it cannot read, naming LIMITS', () => {
      assert.throws(() => loadConfig({ LIMITS: 'USD.funding.weekly=100' }), (err: unknown) => err instanceof ConfigError && /LIMITS: "USD\.funding\.weekly=100"/.test(err.message));
    });

    it('refuses a kind with only one of its windows', () => {
      assert.deepEqual(parseLimits('USD.payment.daily=100'), { problems: ['USD.payment needs both per_transaction and daily'] });
    });

    it('refuses a per-transaction limit above the daily one', () => {
      assert.deepEqual(parseLimits('USD.payment.per_transaction=200,USD.payment.daily=100'), {
        problems: ['USD.payment.per_transaction exceeds USD.payment.daily'],
      });
    });
  });

  describe('in the transaction that holds a payment (a run no API request reserved)', function () {
    this.timeout(60_000);
    let db: Db;
    const EXPIRES_AT = new Date(Date.now() + 3600_000).toISOString();
    const limits = (parseLimits('USD.payment.per_transaction=5000,USD.payment.daily=8000') as { limits: Limits }).limits;

    before(async function () {
      this.timeout(120_000);
      db = await testDb();
    });

    /** Opens and holds a payment of `amountMinor` as a Schedule's run would, through the activities. */
    async function holdPayment(userId: string, walletId: string, amountMinor: string) {
      const activities = createActivities(testActivityDeps(db, { limits }));
      const workflowId = workflowIds.payment(userId, randomUUID());
      const paymentId = paymentIdFrom(workflowId);
      await activities.openPayment({
        id: paymentId,
        userId,
        kind: 'bill',
        billerId: 'brightgrid-power',
        customerRef: '4820193755',
        fromAccountId: walletId,
        toAccountId: null,
        amountMinor,
        currency: 'USD',
        workflowId,
        recurringPaymentId: null,
        period: null,
      });
      const hold = () =>
        activities.holdPaymentFunds({
          paymentId,
          key: `${workflowId}:hold`,
          fromAccountId: walletId,
          currency: 'USD',
          legs: [{ name: 'amount', to: { systemRole: 'biller_settlement' }, amountMinor, code: 'bill_payment' }],
          expiresAt: EXPIRES_AT,
          description: 'limits test',
        });
      await hold();
      return hold;
    }

    it('refuses the hold that crosses the daily limit as limit_exceeded, holding nothing', async () => {
      const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone(), balanceMinor: 50_000n });
      await holdPayment(userId, wallet.id, '5000');
      await assert.rejects(holdPayment(userId, wallet.id, '5000'), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, 'limit_exceeded');
        assert.deepEqual(err.details, [{ limit: 'payment.daily' }]);
        return true;
      });
      const pending = await db('ledger_transfers').where({ debit_account_id: wallet.id, kind: 'pending' });
      assert.equal(pending.length, 1);
    });

    it('a retried hold counts its payment once', async () => {
      const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone(), balanceMinor: 50_000n });
      const retry = await holdPayment(userId, wallet.id, '3000');
      await retry();
      await holdPayment(userId, wallet.id, '5000');
      const [counted] = await db('limit_reservations').where({ user_id: userId }).sum('amount_minor as total');
      assert.equal(String(counted?.total), '8000');
    });
  });
});
