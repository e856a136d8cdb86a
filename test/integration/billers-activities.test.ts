import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { createBillerActivities } from '../../src/activities/payments/billers';
import type { Db } from '../../src/db/knex';
import { BillerUnavailableError } from '../../src/payments/billers/port';
import { createSandboxBillerPort } from '../../src/payments/billers/sandbox';
import { insertCustomer } from '../helpers/fixtures';
import { testDb } from '../helpers/services';

/** The saga's biller activities over the sandbox biller and the real test database. */
describe('biller activities', function () {
  let db: Db;
  let activities: ReturnType<typeof createBillerActivities>;

  before(async function () {
    this.timeout(120_000);
    db = await testDb();
    activities = createBillerActivities({ db, billers: createSandboxBillerPort(db), now: () => new Date() });
  });

  /** Accepts an error only if it is a non-retryable business failure of `type`. */
  const businessFailure = (type: string) => (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, type);
    assert.equal(err.nonRetryable, true);
    return true;
  };

  const pay = (customerRef: string, paymentId = `payment:${randomUUID()}`) =>
    activities.payBiller({ billerId: 'fibernet-broadband', customerRef, amountMinor: '5000', currency: 'USD', paymentId });

  describe('validateBillerCustomer', () => {
    it("answers the customer's name and amount due as a string", async () => {
      const result = await activities.validateBillerCustomer({ billerId: 'fibernet-broadband', customerRef: 'FN100234567' });
      assert.deepEqual(
        { ...result, customerName: typeof result.customerName, amountDueMinor: /^[0-9]+$/.test(result.amountDueMinor ?? '') },
        { billerId: 'fibernet-broadband', billerName: 'FiberNet Broadband', currency: 'USD', customerName: 'string', amountDueMinor: true },
      );
    });

    it('fails as unknown_customer for a reference the biller does not know', async () => {
      await assert.rejects(activities.validateBillerCustomer({ billerId: 'fibernet-broadband', customerRef: 'FN100234500' }), businessFailure('unknown_customer'));
    });

    it("fails as invalid_customer_reference for a reference not in the biller's format", async () => {
      await assert.rejects(activities.validateBillerCustomer({ billerId: 'fibernet-broadband', customerRef: '12' }), businessFailure('invalid_customer_reference'));
    });

    it('fails as biller_not_found for an unknown biller', async () => {
      await assert.rejects(activities.validateBillerCustomer({ billerId: 'no-such-biller', customerRef: 'FN100234567' }), businessFailure('biller_not_found'));
    });
  });

  describe('payBiller', () => {
    it('answers accepted with the biller reference', async () => {
      const result = await pay('FN100234567');
      assert.match(result.status === 'accepted' ? result.billerReference : result.status, /^FIBERNET-[0-9A-F]{12}$/);
    });

    it('fails as biller_declined with the reason in its details', async () => {
      await assert.rejects(pay('FN100234501'), (err: unknown) => {
        businessFailure('biller_declined')(err);
        assert.deepEqual((err as ApplicationFailure).details, [{ reason: 'account_suspended' }]);
        return true;
      });
    });

    it('lets an outage through as a retryable error', async () => {
      await assert.rejects(pay('FN100234504'), BillerUnavailableError);
    });

    it('pays once when retried after a timeout', async () => {
      const paymentId = `payment:${randomUUID()}`;
      await assert.rejects(pay('FN100234502', paymentId), BillerUnavailableError);
      const retried = await pay('FN100234502', paymentId);
      const rows = await db('sandbox_biller_payments').where({ payment_id: paymentId });
      assert.deepEqual([retried.status, rows.length], ['accepted', 1]);
    });
  });

  describe('getBillerPaymentStatus', () => {
    it('resolves an unknown outcome', async () => {
      const paymentId = `payment:${randomUUID()}`;
      assert.deepEqual(await pay('FN100234503', paymentId), { status: 'unknown' });
      const status = await activities.getBillerPaymentStatus({ billerId: 'fibernet-broadband', paymentId });
      assert.equal(status.status, 'accepted');
    });
  });

  describe('quoteBillPayment', () => {
    it("quotes fee, total and cashback as strings from the user's month so far", async () => {
      const userId = await insertCustomer(db);
      await db('cashback_monthly').insert({ user_id: userId, month: new Date().toISOString().slice(0, 7), currency: 'USD', granted_minor: 1_950 });
      const quote = await activities.quoteBillPayment({ billerId: 'fibernet-broadband', userId, amountMinor: '20000' });
      // FiberNet: 0.25 + 0.50%; cashback 2.00% + 1.00% tier = 6.00, capped to the 0.50 left.
      assert.deepEqual(
        [quote.feeMinor, quote.totalMinor, quote.cashbackMinor, quote.currency],
        ['125', '20125', '50', 'USD'],
      );
    });

    it('fails as payment_invalid for an amount outside the limits', async () => {
      await assert.rejects(
        activities.quoteBillPayment({ billerId: 'fibernet-broadband', userId: randomUUID(), amountMinor: '1' }),
        businessFailure('payment_invalid'),
      );
    });
  });
});
