import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { transferIdFrom } from '../../src/ledger/ids';
import { maskAccount } from '../../src/money/money';
import { dedupeKeys, workflowIds } from '../../src/temporal/names';
import { customerTransfer } from '../../src/workflows';
import { testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { balanceOf, customerWithWallet, transfersOf, uniquePhone } from '../helpers/money';
import { workflowTestBed } from '../helpers/services';

describe('customerTransfer workflow (time-skipping server)', function () {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;

  before(async function () {
    this.timeout(180_000);
    ({ env, db, workflowBundle } = await workflowTestBed());
  });

  /** Sends `amountMinor` from a sender holding `balanceMinor` to a fresh recipient. */
  async function send(amountMinor: string, balanceMinor: bigint, note: string | null = null) {
    const sender = await customerWithWallet(db, { name: 'Ada Lovelace', phone: uniquePhone(), balanceMinor });
    const recipient = await customerWithWallet(db, { name: 'Grace Brewster Hopper', phone: uniquePhone() });
    const workflowId = workflowIds.customerTransfer(sender.userId, randomUUID());
    const transferId = transferIdFrom(workflowId);
    const taskQueue = uniqueTaskQueue('p2p');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(testActivityDeps(db)) });
    const result = await worker.runUntil(
      env.client.workflow.execute(customerTransfer, {
        taskQueue,
        workflowId,
        args: [
          {
            transferId,
            customerId: sender.userId,
            fromAccountId: sender.wallet.id,
            toAccountId: recipient.wallet.id,
            toCustomerId: recipient.userId,
            recipient: { phone: '+14155550123' },
            amountMinor,
            currency: 'USD',
            note,
          },
        ],
      }),
    );
    const row = await db('customer_transfers').where({ id: transferId }).first();
    return { sender, recipient, transferId, result, row };
  }

  it('moves the money in one p2p_transfer and records the transfer as succeeded', async () => {
    const { sender, recipient, transferId, result, row } = await send('2500', 10_000n);
    assert.equal(result.status, 'succeeded');
    assert.equal((await balanceOf(db, sender.wallet.id)).availableMinor, 7_500n);
    assert.equal((await balanceOf(db, recipient.wallet.id)).availableMinor, 2_500n);
    const [transfer] = await transfersOf(db, recipient.wallet.id);
    assert.deepEqual(
      { id: transfer?.id, code: transfer?.code, debit: transfer?.debitAccountId },
      { id: transferId, code: 'p2p_transfer', debit: sender.wallet.id },
    );
    assert.equal(row.status, 'succeeded');
  });

  it('alerts both holders, each from their own side', async () => {
    const { sender, recipient, transferId } = await send('1000', 5_000n, 'Lunch');
    const [debit] = await db('notifications').where({ dedupe_key: dedupeKeys.transactionAlert(transferId, sender.wallet.id) });
    const [credit] = await db('notifications').where({ dedupe_key: dedupeKeys.transactionAlert(transferId, recipient.wallet.id) });
    assert.equal(
      debit.body,
      `finflow: USD 10.00 debited from account ${maskAccount(sender.wallet.id)}, transfer to Grace H. (Lunch). Available balance: USD 40.00.`,
    );
    assert.equal(
      credit.body,
      `finflow: USD 10.00 credited to account ${maskAccount(recipient.wallet.id)}, transfer from Ada L. (Lunch). Available balance: USD 10.00.`,
    );
  });

  it('fails as insufficient_funds when the ledger refuses, with nothing posted and no alert', async () => {
    const { sender, transferId, result, row } = await send('5001', 5_000n);
    assert.deepEqual(result, { transferId, status: 'failed', reason: 'insufficient_funds' });
    assert.equal(row.status, 'failed');
    assert.equal(row.failure_reason, 'insufficient_funds');
    assert.equal((await transfersOf(db, sender.wallet.id)).length, 1, 'only the opening deposit');
    assert.equal((await balanceOf(db, sender.wallet.id)).availableMinor, 5_000n);
    assert.equal((await db('notifications').where({ dedupe_key: dedupeKeys.transactionAlert(transferId, sender.wallet.id) })).length, 0);
  });
});
