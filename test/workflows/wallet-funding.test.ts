import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { transferIdFrom } from '../../src/ledger/ids';
import { maskAccount } from '../../src/money/money';
import { dedupeKeys, workflowIds } from '../../src/temporal/names';
import { walletFunding } from '../../src/workflows';
import { testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { balanceOf, customerWithWallet, transfersOf, uniquePhone } from '../helpers/money';
import { workflowTestBed } from '../helpers/services';

describe('walletFunding workflow (time-skipping server)', function () {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;

  before(async function () {
    this.timeout(180_000);
    ({ env, db, workflowBundle } = await workflowTestBed());
  });

  /** Funds a fresh customer's wallet with `token`, on a worker of its own. */
  async function fund(token: string, amountMinor = '5000') {
    const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone() });
    const workflowId = workflowIds.walletFunding(userId, randomUUID());
    const fundingId = transferIdFrom(workflowId);
    const taskQueue = uniqueTaskQueue('funding');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(testActivityDeps(db)) });
    const result = await worker.runUntil(
      env.client.workflow.execute(walletFunding, {
        taskQueue,
        workflowId,
        args: [{ fundingId, customerId: userId, accountId: wallet.id, amountMinor, currency: 'USD', source: { type: 'card', token } }],
      }),
    );
    const row = await db('wallet_fundings').where({ id: fundingId }).first();
    const charge = await db('sandbox_funding_charges').where({ charge_id: `${workflowId}:charge` }).first();
    return { userId, wallet, workflowId, fundingId, result, row, charge };
  }

  describe('tok_success', () => {
    it('credits the wallet once from funding clearing and records the funding as succeeded', async () => {
      const { wallet, fundingId, result, row } = await fund('tok_success');
      assert.equal(result.status, 'succeeded');
      const transfers = await transfersOf(db, wallet.id);
      assert.equal(transfers.length, 1);
      assert.deepEqual(
        { id: transfers[0]!.id, code: transfers[0]!.code, amount: transfers[0]!.amountMinor, credit: transfers[0]!.creditAccountId },
        { id: fundingId, code: 'wallet_funding', amount: 5000n, credit: wallet.id },
      );
      assert.equal((await balanceOf(db, wallet.id)).availableMinor, 5000n);
      assert.equal(row.status, 'succeeded');
      assert.equal(row.transfer_id, fundingId);
      assert.match(row.processor_charge_id, /^ch_/);
    });

    it('sends one SMS alert with the amount, the masked account and the new available balance', async () => {
      const { userId, wallet, fundingId, result } = await fund('tok_success', '12345');
      assert.equal(result.status === 'succeeded' && result.alerts[0]?.outcome.status, 'sent');
      const alerts = await db('notifications').where({ user_id: userId, template: 'transaction_alert' });
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0].dedupe_key, dedupeKeys.transactionAlert(fundingId, wallet.id));
      assert.equal(
        alerts[0].body,
        `finflow: USD 123.45 credited to account ${maskAccount(wallet.id)}, wallet top-up by card. Available balance: USD 123.45.`,
      );
    });
  });

  describe('tok_decline', () => {
    it('fails with the decline reason and posts nothing', async () => {
      const { userId, wallet, result, row } = await fund('tok_decline');
      assert.deepEqual(result, { fundingId: row.id, status: 'failed', reason: 'card_declined' });
      assert.equal(row.status, 'failed');
      assert.equal(row.failure_reason, 'card_declined');
      assert.equal(row.transfer_id, null);
      assert.deepEqual(await transfersOf(db, wallet.id), []);
      assert.equal((await db('notifications').where({ user_id: userId, template: 'transaction_alert' })).length, 0);
    });

    it('declines a token the sandbox does not know as invalid_token', async () => {
      const { result } = await fund('tok_made_up');
      assert.equal(result.status === 'failed' && result.reason, 'invalid_token');
    });
  });

  describe('tok_timeout_then_success', () => {
    it('retries the timed-out charge under the same id and credits the wallet exactly once', async () => {
      const { wallet, result, charge } = await fund('tok_timeout_then_success');
      assert.equal(result.status, 'succeeded');
      assert.equal(charge.calls, 2);
      const transfers = await transfersOf(db, wallet.id);
      assert.equal(transfers.length, 1);
      assert.equal((await balanceOf(db, wallet.id)).postedMinor, 5000n);
    });
  });

  describe('tok_unknown_outcome', () => {
    it('resolves the unknown outcome with a status query and credits the wallet once', async () => {
      const { wallet, workflowId, result, charge } = await fund('tok_unknown_outcome');
      assert.equal(result.status, 'succeeded');
      // One charge call; the success came from getFundingCharge after a timer.
      assert.equal(charge.calls, 1);
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      assert.ok(history.events?.some((e) => e.timerStartedEventAttributes), 'the workflow waited before asking');
      assert.equal((await transfersOf(db, wallet.id)).length, 1);
      assert.equal((await balanceOf(db, wallet.id)).postedMinor, 5000n);
    });
  });
});
