import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type Activities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { createLedger } from '../../src/ledger/service';
import { cashbackAccountIdOf } from '../../src/payments/cashback-accounts';
import { paymentIdFrom } from '../../src/payments/repository';
import { workflowIds } from '../../src/temporal/names';
import { payBill, payBillV2, payBillV3 } from '../../src/workflows';
import type { PayBillInput } from '../../src/workflows/payments/contract';
import { testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { assertLedgerBalanced, balanceOf, customerWithWallet, deposit, uniquePhone } from '../helpers/money';
import { workflowTestBed } from '../helpers/services';

/**
 * Paying a bill with cashback (docs/payments.md, "Paying with cashback"): the cashback
 * account pays first, the wallet the rest, in one linked hold. BrightGrid Power: fee
 * 0.50, cashback 1.50 % (+0.50 % from 50.00 up).
 */
const BILLER = 'brightgrid-power';
const AMOUNT = 10_000n;
const FEE = 50n;
const WALLET_START = 50_000n;

// payBill plans the split in the workflow; payBillV2 and payBillV3 in the hold's own transaction.
for (const workflow of [payBill, payBillV2, payBillV3]) {
describe(`${workflow.name} with useCashback (time-skipping server)`, function () {
  this.timeout(120_000);
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

  /** A payer with WALLET_START in the wallet and `cashbackMinor` in the cashback account. */
  async function payer(cashbackMinor: bigint) {
    const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone(), balanceMinor: WALLET_START });
    const cashback = await createLedger(db).openAccount({ id: cashbackAccountIdOf(userId, 'USD'), ownerUserId: userId, type: 'cashback', currency: 'USD' });
    await deposit(db, cashback.id, cashbackMinor);
    return { userId, wallet, cashback };
  }

  async function pay(cashbackMinor: bigint, overrides: Partial<Activities> = {}) {
    const { userId, wallet, cashback } = await payer(cashbackMinor);
    const workflowId = workflowIds.payment(userId, randomUUID());
    const input: PayBillInput = {
      paymentId: paymentIdFrom(workflowId),
      userId,
      billerId: BILLER,
      customerRef: '4820193755',
      fromAccountId: wallet.id,
      amountMinor: AMOUNT.toString(),
      currency: 'USD',
      useCashback: true,
    };
    const taskQueue = uniqueTaskQueue('pay-bill-cashback');
    const activities = { ...createActivities(testActivityDeps(db)), ...overrides };
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities });
    const result = await worker.runUntil(env.client.workflow.execute(workflow, { taskQueue, workflowId, args: [input] }));
    const row = await db('payments').where({ id: input.paymentId }).first();
    const hold = await db('payment_steps').where({ payment_id: input.paymentId, step: 'hold' }).orderBy('id').first();
    return { result, row, hold, wallet: await balanceOf(db, wallet.id), cashback: await balanceOf(db, cashback.id) };
  }

  it('spends the cashback first and takes only the rest from the wallet', async () => {
    const { result, row, wallet } = await pay(3_000n);
    assert.equal(result.status, 'succeeded');
    assert.equal(String(row.cashback_used_minor), '3000');
    assert.equal(wallet.postedMinor, WALLET_START - (AMOUNT + FEE - 3_000n));
  });

  it('earns cashback only on the part of the amount the wallet paid', async () => {
    // 2.00 % (1.50 % + the 50.00 tier) of the 70.00 the wallet paid of the amount.
    const { row, cashback } = await pay(3_000n);
    assert.equal(String(row.cashback_minor), '140');
    assert.equal(cashback.postedMinor, 140n);
  });

  it('shows the split on the hold step', async () => {
    const { hold } = await pay(3_000n);
    assert.equal(hold.reason, 'USD 30.00 from cashback, USD 70.50 from the account');
  });

  it('a cashback balance that covers amount and fee leaves the wallet untouched and earns nothing', async () => {
    const { result, row, wallet, cashback } = await pay(20_000n);
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(
      { used: String(row.cashback_used_minor), earned: String(row.cashback_minor), wallet: wallet.postedMinor, cashback: cashback.postedMinor },
      { used: String(AMOUNT + FEE), earned: '0', wallet: WALLET_START, cashback: 20_000n - AMOUNT - FEE },
    );
  });

  // Only payBill reads the balance apart from the hold (payBillV2 reads it in the hold's transaction).
  if (workflow === payBill) it('cashback spent before the hold fails the whole hold: nothing moves on either account', async () => {
    // The plan says 50.00 is spendable; the account holds 10.00 by the time the hold is placed.
    const { result, wallet, cashback } = await pay(1_000n, {
      spendableCashback: async ({ userId }) => ({ accountId: cashbackAccountIdOf(userId, 'USD'), availableMinor: '5000' }),
    });
    assert.deepEqual({ status: result.status, reason: result.reason }, { status: 'failed', reason: 'insufficient_funds' });
    assert.deepEqual([wallet.postedMinor, wallet.pendingMinor, cashback.postedMinor, cashback.pendingMinor], [WALLET_START, 0n, 1_000n, 0n]);
  });
});
}
