import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type Activities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { createLedger } from '../../src/ledger/service';
import { maskAccount } from '../../src/money/money';
import { paymentIdFrom } from '../../src/payments/repository';
import { businessFailure } from '../../src/temporal/failures';
import { workflowIds } from '../../src/temporal/names';
import { payCard } from '../../src/workflows';
import type { PayCardInput } from '../../src/workflows/payments/contract';
import { insertCustomer, testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { balanceOf, deposit, transfersOf, uniquePhone, assertLedgerBalanced } from '../helpers/money';
import { workflowTestBed } from '../helpers/services';

/** Paying a credit card bill from savings, on the time-skipping server with real PostgreSQL. */
describe('payCard workflow (time-skipping server)', function () {
  this.timeout(60_000);
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;

  before(async function () {
    this.timeout(180_000);
    ({ env, db, workflowBundle } = await workflowTestBed());
  });

  afterEach(async () => {
    await assertLedgerBalanced(db);
  });

  /** A customer with 300.00 in savings and a card (limit 1,000.00) that owes 250.00. */
  async function cardholder() {
    const userId = await insertCustomer(db, { phone: uniquePhone() });
    const ledger = createLedger(db);
    const savings = await ledger.openAccount({ ownerUserId: userId, type: 'savings', currency: 'USD' });
    const card = await ledger.openAccount({ ownerUserId: userId, type: 'credit_card', currency: 'USD', creditLimitMinor: 100_000n });
    await deposit(db, savings.id, 30_000n);
    const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
    await ledger.createTransfer({ id: randomUUID(), debitAccountId: card.id, creditAccountId: clearing.id, amountMinor: 25_000n, currency: 'USD', code: 'card_purchase' });
    return { userId, savings, card };
  }

  async function pay(input: Omit<PayCardInput, 'paymentId'>, overrides: Partial<Activities> = {}) {
    const workflowId = workflowIds.payment(input.userId, randomUUID());
    const paymentId = paymentIdFrom(workflowId);
    const taskQueue = uniqueTaskQueue('pay-card');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      activities: { ...createActivities(testActivityDeps(db)), ...overrides },
    });
    const result = await worker.runUntil(env.client.workflow.execute(payCard, { taskQueue, workflowId, args: [{ ...input, paymentId }] }));
    const row = await db('payments').where({ id: paymentId }).first();
    const sms = await db('notifications').where({ user_id: input.userId }).orderBy('created_at');
    return { paymentId, result, row, sms };
  }

  it('moves the amount from savings to the card through a hold that is then posted', async () => {
    const { userId, savings, card } = await cardholder();
    const { result, row } = await pay({ userId, cardAccountId: card.id, fromAccountId: savings.id, amountMinor: '20000', currency: 'USD' });
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.steps.map((s) => `${s.step}:${s.status}`), ['validate:succeeded', 'hold:succeeded', 'post:succeeded', 'notify:succeeded']);
    assert.deepEqual(await balanceOf(db, savings.id), { postedMinor: 10_000n, pendingMinor: 0n, availableMinor: 10_000n });
    assert.equal((await balanceOf(db, card.id)).postedMinor, -5_000n);
    const moved = (await transfersOf(db, card.id)).filter((t) => t.code === 'card_payment').map((t) => t.kind).sort();
    assert.deepEqual(moved, ['pending', 'post_pending']);
    assert.deepEqual({ kind: row.kind, status: row.status, to: row.to_account_id }, { kind: 'card', status: 'succeeded', to: card.id });
  });

  it('sends exactly two alerts: the card credited and the savings debited', async () => {
    const { userId, savings, card } = await cardholder();
    const { sms } = await pay({ userId, cardAccountId: card.id, fromAccountId: savings.id, amountMinor: '7500', currency: 'USD' });
    assert.equal(sms.length, 2);
    const bodies = sms.map((m) => m.body as string).sort();
    assert.match(bodies[0]!, new RegExp(`^finflow: USD 75\\.00 credited to account ${maskAccount(card.id)}, card payment`));
    assert.match(bodies[1]!, new RegExp(`^finflow: USD 75\\.00 debited from account ${maskAccount(savings.id)}, card payment`));
  });

  it('fails validation for a card that is not the payer’s, holding nothing', async () => {
    const { userId, savings } = await cardholder();
    const other = await cardholder();
    const { result, row } = await pay({ userId, cardAccountId: other.card.id, fromAccountId: savings.id, amountMinor: '1000', currency: 'USD' });
    assert.deepEqual({ status: result.status, reason: result.reason }, { status: 'failed', reason: 'account_not_found' });
    assert.equal(row.failure_reason, 'account_not_found');
    assert.equal((await transfersOf(db, savings.id)).length, 1, 'only the deposit');
  });

  it('fails with insufficient_funds when savings cannot cover the amount, holding nothing', async () => {
    const { userId, savings, card } = await cardholder();
    const { result, paymentId } = await pay({ userId, cardAccountId: card.id, fromAccountId: savings.id, amountMinor: '30001', currency: 'USD' });
    assert.deepEqual({ status: result.status, reason: result.reason }, { status: 'failed', reason: 'insufficient_funds' });
    const hold = await db('payment_steps').where({ payment_id: paymentId, step: 'hold' });
    assert.deepEqual(hold.map((h) => [h.status, h.reason]), [['failed', 'insufficient_funds']]);
    assert.equal((await balanceOf(db, savings.id)).availableMinor, 30_000n);
  });

  it('voids the hold when posting fails', async () => {
    const { userId, savings, card } = await cardholder();
    const { result, paymentId } = await pay(
      { userId, cardAccountId: card.id, fromAccountId: savings.id, amountMinor: '5000', currency: 'USD' },
      {
        postPaymentHolds: async () => {
          throw businessFailure('transfer_rejected', 'refused');
        },
      },
    );
    assert.equal(result.status, 'failed');
    assert.deepEqual(result.steps.map((s) => `${s.step}:${s.status}`), ['validate:succeeded', 'hold:compensated', 'post:failed', 'notify:succeeded']);
    assert.deepEqual(await balanceOf(db, savings.id), { postedMinor: 30_000n, pendingMinor: 0n, availableMinor: 30_000n });
    const history = await db('payment_steps').where({ payment_id: paymentId }).orderBy('id');
    assert.ok(history.some((h) => h.step === 'hold' && h.status === 'compensated'));
  });
});
