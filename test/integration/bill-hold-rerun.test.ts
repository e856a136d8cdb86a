import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createActivities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { BillerUnavailableError } from '../../src/payments/billers/port';
import { paymentIdFrom } from '../../src/payments/repository';
import { workflowIds } from '../../src/temporal/names';
import { testActivityDeps } from '../helpers/fixtures';
import { customerWithWallet, deposit, uniquePhone } from '../helpers/money';
import { testDb } from '../helpers/services';

/**
 * payBillV2's hold is a local activity: when the worker that ran it dies before the
 * workflow task records its result, it runs again, possibly with inputs computed anew.
 * The chaos run caught a second run refused as `exists_with_different_fields`, which
 * failed the payment with its first hold still pending. A second run answers the hold
 * that was placed.
 */
describe('payBillV2 and payBillV3 holds run again after their commit', function () {
  this.timeout(60_000);
  let db: Db;

  before(async function () {
    this.timeout(120_000);
    db = await testDb();
  });

  async function openPayment() {
    const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone() });
    await deposit(db, wallet.id, 10_000n);
    const activities = createActivities(testActivityDeps(db));
    const workflowId = workflowIds.payment(userId, randomUUID());
    const paymentId = paymentIdFrom(workflowId);
    await activities.openPayment({ id: paymentId, userId, kind: 'bill', billerId: 'brightgrid-power', customerRef: '4820193755', fromAccountId: wallet.id, toAccountId: null, amountMinor: '2748', currency: 'USD', workflowId, recurringPaymentId: null, period: null });
    const hold = (expiresAt: string) =>
      activities.holdBillFunds({ paymentId, userId, key: `${workflowId}:hold`, fromAccountId: wallet.id, amountMinor: '2748', feeMinor: '50', currency: 'USD', useCashback: false, expiresAt, description: 'BrightGrid Power 4820193755' });
    const payment = { id: paymentId, userId, kind: 'bill' as const, billerId: 'brightgrid-power', customerRef: '4820193755', fromAccountId: wallet.id, toAccountId: null, amountMinor: '2748', currency: 'USD', workflowId, recurringPaymentId: null, period: null };
    const prepare = (expiresAt: string) => activities.prepareBillPayment({ payment, holdKey: `${workflowId}:hold`, expiresAt });
    return { wallet, hold, prepare, paymentId };
  }

  it('answers the placed hold when run again with another expiry, placing nothing more', async () => {
    const { wallet, hold } = await openPayment();
    const first = await hold(new Date(Date.now() + 3_600_000).toISOString());
    const again = await hold(new Date(Date.now() + 7_200_000).toISOString());
    assert.deepEqual(again, first);
    const pending = await db('ledger_transfers').where({ debit_account_id: wallet.id, kind: 'pending' }).count<{ count: string }[]>({ count: '*' });
    assert.equal(Number(pending[0]?.count), 2);
  });

  it("payBillV3's validate + hold step run again answers the placed hold and records each step once", async () => {
    const { wallet, prepare, paymentId } = await openPayment();
    const first = await prepare(new Date(Date.now() + 3_600_000).toISOString());
    const again = await prepare(new Date(Date.now() + 7_200_000).toISOString());
    assert.equal(first.status, 'held');
    assert.deepEqual(again, first);
    const pending = await db('ledger_transfers').where({ debit_account_id: wallet.id, kind: 'pending' }).count<{ count: string }[]>({ count: '*' });
    assert.equal(Number(pending[0]?.count), 2);
    const steps = await db('payment_steps').where({ payment_id: paymentId }).orderBy('id').select('step', 'status');
    assert.deepEqual(steps.map((st) => `${st.step}:${st.status}`), ['validate:running', 'validate:succeeded', 'hold:succeeded']);
  });

  it("payBillV3's validate + hold step run again after its commit does not ask the biller again: an outage then fails nothing", async () => {
    const { prepare, paymentId } = await openPayment();
    const first = await prepare(new Date(Date.now() + 3_600_000).toISOString());
    const real = testActivityDeps(db);
    const down = { ...real.billers, validate: async () => Promise.reject(new BillerUnavailableError('brightgrid-power', 'down for the test')) };
    const payment = (await db('payments').where({ id: paymentId }).first()) as { workflow_id: string; user_id: string; from_account_id: string };
    const again = await createActivities({ ...real, billers: down }).prepareBillPayment({
      payment: { id: paymentId, userId: payment.user_id, kind: 'bill', billerId: 'brightgrid-power', customerRef: '4820193755', fromAccountId: payment.from_account_id, toAccountId: null, amountMinor: '2748', currency: 'USD', workflowId: payment.workflow_id, recurringPaymentId: null, period: null },
      holdKey: `${payment.workflow_id}:hold`,
      expiresAt: new Date(Date.now() + 7_200_000).toISOString(),
    });
    assert.deepEqual(again, first);
    await assert.rejects(down.validate(), BillerUnavailableError);
  });

  it("payBillV3's validate + hold step records a refused hold with the validation and answers the refusal", async () => {
    const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone() });
    const workflowId = workflowIds.payment(userId, randomUUID());
    const paymentId = paymentIdFrom(workflowId);
    const payment = { id: paymentId, userId, kind: 'bill' as const, billerId: 'brightgrid-power', customerRef: '4820193755', fromAccountId: wallet.id, toAccountId: null, amountMinor: '2748', currency: 'USD', workflowId, recurringPaymentId: null, period: null };
    const refused = await createActivities(testActivityDeps(db)).prepareBillPayment({ payment, holdKey: `${workflowId}:hold`, expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    assert.deepEqual({ status: refused.status, type: 'type' in refused ? refused.type : undefined }, { status: 'refused', type: 'insufficient_funds' });
    const steps = await db('payment_steps').where({ payment_id: paymentId }).orderBy('id').select('step', 'status', 'reason');
    assert.deepEqual(steps.map((st) => `${st.step}:${st.status}:${st.reason ?? ''}`), ['validate:running:', 'validate:succeeded:', 'hold:failed:insufficient_funds']);
    const row = await db('payments').where({ id: paymentId }).first('fee_minor');
    assert.equal(String(row.fee_minor), '50');
  });
});
