import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createActivities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { paymentIdFrom } from '../../src/payments/repository';
import { workflowIds } from '../../src/temporal/names';
import { testActivityDeps } from '../helpers/fixtures';
import { customerWithWallet, deposit, uniquePhone } from '../helpers/money';
import { testDb } from '../helpers/services';

/**
 * payBillV3's notice (`sendBillPaymentNotice`): every alert of a payment read in one
 * query and claimed in one outbox write, on real PostgreSQL with the sandbox SMS
 * provider. Each alert goes out once however often the activity runs; an opted-out
 * holder gets none; an alert refused for good fails the step with its reason.
 */
describe('payBillV3 notice (sendBillPaymentNotice)', function () {
  this.timeout(60_000);
  let db: Db;

  before(async function () {
    this.timeout(120_000);
    db = await testDb();
  });

  /** A paid bill: a payer whose wallet was debited by two transfers (amount and fee), and the payment's row. */
  async function paidBill(phone = uniquePhone()) {
    const { userId, wallet } = await customerWithWallet(db, { phone });
    const amountId = await deposit(db, wallet.id, 10_000n);
    const feeId = await deposit(db, wallet.id, 50n);
    const workflowId = workflowIds.payment(userId, randomUUID());
    const paymentId = paymentIdFrom(workflowId);
    const activities = createActivities(testActivityDeps(db));
    await activities.openPayment({ id: paymentId, userId, kind: 'bill', billerId: 'brightgrid-power', customerRef: '4820193755', fromAccountId: wallet.id, toAccountId: null, amountMinor: '10000', currency: 'USD', workflowId, recurringPaymentId: null, period: null });
    return { userId, wallet, paymentId, alerts: [amountId, feeId].map((transferId) => ({ transferId, accountId: wallet.id })), activities };
  }

  const messagesOf = (userId: string) => db('notifications').where({ user_id: userId }).orderBy('body');
  const notifyStepsOf = (paymentId: string) => db('payment_steps').where({ payment_id: paymentId, step: 'notify' }).select('status', 'reason');

  it('sends each alert once, run twice, and records the step', async () => {
    const { userId, paymentId, alerts, activities } = await paidBill();
    assert.deepEqual(await activities.sendBillPaymentNotice({ paymentId, alerts }), { status: 'succeeded' });
    assert.deepEqual(await activities.sendBillPaymentNotice({ paymentId, alerts }), { status: 'succeeded' });
    const messages = await messagesOf(userId);
    assert.equal(messages.length, 2);
    assert.deepEqual(messages.map((m) => [m.status, m.attempts]), [['delivered', 1], ['delivered', 1]]);
    assert.match(messages[0].body, /USD 0\.50 credited to account/);
    assert.equal((await db('sandbox_sms_messages').whereIn('reference', messages.map((m) => m.dedupe_key))).length, 2);
    assert.deepEqual(await notifyStepsOf(paymentId), [{ status: 'succeeded', reason: null }]);
  });

  it('sends nothing to a holder who opted out', async () => {
    const { userId, paymentId, alerts, activities } = await paidBill();
    await db('users').where({ id: userId }).update({ sms_alerts_enabled: false });
    assert.deepEqual(await activities.sendBillPaymentNotice({ paymentId, alerts }), { status: 'succeeded' });
    assert.equal((await messagesOf(userId)).length, 0);
  });

  it('an alert refused for good fails the step with its reason; the others go out', async () => {
    const { userId, paymentId, alerts, activities } = await paidBill();
    const missing = { transferId: randomUUID(), accountId: alerts[0]!.accountId };
    const notice = await activities.sendBillPaymentNotice({ paymentId, alerts: [...alerts, missing] });
    assert.equal(notice.status, 'failed');
    assert.match(notice.reason ?? '', new RegExp(`alert for ${missing.transferId}: transfer_not_found`));
    assert.equal((await messagesOf(userId)).length, 2);
    const [step] = await notifyStepsOf(paymentId);
    assert.equal(step?.status, 'failed');
  });

  /** A number the sandbox SMS provider scripts by its last four digits (docs/sms.md). */
  const scriptedPhone = (script: string) => `+1415${200 + Math.floor(Math.random() * 800)}${script}`;

  it('a provider outage fails the activity once every alert was tried; the retry sends each once', async () => {
    const { userId, paymentId, alerts } = await paidBill(scriptedPhone('0002'));
    const activities = createActivities(testActivityDeps(db));
    await assert.rejects(activities.sendBillPaymentNotice({ paymentId, alerts }), /simulated outage/);
    assert.deepEqual((await messagesOf(userId)).map((m) => [m.status, m.attempts]), [['queued', 1], ['queued', 1]]);
    assert.deepEqual(await notifyStepsOf(paymentId), []);
    assert.deepEqual(await activities.sendBillPaymentNotice({ paymentId, alerts }), { status: 'succeeded' });
    const messages = await messagesOf(userId);
    assert.deepEqual(messages.map((m) => [m.status, m.attempts]), [['delivered', 2], ['delivered', 2]]);
    assert.equal((await db('sandbox_sms_messages').whereIn('reference', messages.map((m) => m.dedupe_key))).length, 2);
  });

  it('a provider that refuses the number for good: each message failed with the reason, and the step', async () => {
    const { userId, paymentId, alerts, activities } = await paidBill(scriptedPhone('0001'));
    const notice = await activities.sendBillPaymentNotice({ paymentId, alerts });
    assert.equal(notice.status, 'failed');
    assert.match(notice.reason ?? '', /was rejected: invalid_number/);
    const messages = await messagesOf(userId);
    assert.deepEqual(messages.map((m) => m.status), ['failed', 'failed']);
    assert.match(messages[0].error_reason, /invalid_number/);
    assert.equal((await notifyStepsOf(paymentId))[0]?.status, 'failed');
  });
});
