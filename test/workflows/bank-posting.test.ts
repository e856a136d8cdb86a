import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { transferIdFrom } from '../../src/ledger/ids';
import { createLedger } from '../../src/ledger/service';
import type { Account } from '../../src/ledger/types';
import { maskAccount } from '../../src/money/money';
import { dedupeKeys, workflowIds } from '../../src/temporal/names';
import { bankPosting } from '../../src/workflows';
import type { BankPostingInput } from '../../src/workflows/banking/contract';
import { insertCustomer, testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { balanceOf, transfersOf, uniquePhone } from '../helpers/money';
import { workflowTestBed } from '../helpers/services';

describe('bankPosting workflow (time-skipping server)', function () {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;

  before(async function () {
    this.timeout(180_000);
    ({ env, db, workflowBundle } = await workflowTestBed());
  });

  async function openAccount(type: 'savings' | 'credit_card', creditLimitMinor?: bigint): Promise<Account> {
    const customerId = await insertCustomer(db, { phone: uniquePhone() });
    return createLedger(db).openAccount({ ownerUserId: customerId, type, currency: 'USD', ...(creditLimitMinor !== undefined ? { creditLimitMinor } : {}) });
  }

  async function post(account: Account, posting: Pick<BankPostingInput, 'direction' | 'amountMinor' | 'code' | 'description'>) {
    const workflowId = workflowIds.bankPosting(randomUUID());
    const postingId = transferIdFrom(workflowId);
    const taskQueue = uniqueTaskQueue('posting');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(testActivityDeps(db)) });
    const result = await worker.runUntil(
      env.client.workflow.execute(bankPosting, {
        taskQueue,
        workflowId,
        args: [{ postingId, customerId: account.ownerUserId as string, accountId: account.id, currency: 'USD', ...posting }],
      }),
    );
    return { postingId, result, row: await db('bank_postings').where({ id: postingId }).first() };
  }

  it('credits a deposit from funding clearing and alerts the holder with the description', async () => {
    const savings = await openAccount('savings');
    const { postingId, result, row } = await post(savings, { direction: 'credit', amountMinor: '250000', code: 'salary', description: 'ACME Corp payroll' });
    assert.equal(result.status, 'succeeded');
    assert.equal(row.status, 'succeeded');
    const [transfer] = await transfersOf(db, savings.id);
    const clearing = await createLedger(db).ensureSystemAccount('funding_clearing', 'USD');
    assert.deepEqual({ code: transfer?.code, debit: transfer?.debitAccountId }, { code: 'salary', debit: clearing.id });
    const [alert] = await db('notifications').where({ dedupe_key: dedupeKeys.transactionAlert(postingId, savings.id) });
    assert.equal(alert.body, `finflow: USD 2,500.00 credited to account ${maskAccount(savings.id)}, salary: ACME Corp payroll. Available balance: USD 2,500.00.`);
  });

  it('credits a fee to fee revenue', async () => {
    const savings = await openAccount('savings');
    await post(savings, { direction: 'credit', amountMinor: '1000', code: 'deposit', description: 'Cash' });
    const { result } = await post(savings, { direction: 'debit', amountMinor: '300', code: 'fee', description: 'Monthly fee' });
    assert.equal(result.status, 'succeeded');
    const fee = (await transfersOf(db, savings.id)).find((t) => t.code === 'fee');
    const feeRevenue = await createLedger(db).ensureSystemAccount('fee_revenue', 'USD');
    assert.equal(fee?.creditAccountId, feeRevenue.id);
    assert.equal((await balanceOf(db, savings.id)).availableMinor, 700n);
  });

  it('posts a card purchase within the limit, leaving the rest of the limit available', async () => {
    const card = await openAccount('credit_card', 50_000n);
    const { result } = await post(card, { direction: 'debit', amountMinor: '19999', code: 'card_purchase', description: 'Corner Bookshop' });
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(await balanceOf(db, card.id), { postedMinor: -19_999n, pendingMinor: 0n, availableMinor: 30_001n });
  });

  it('fails a card purchase beyond the limit as exceeds_credit_limit, posting nothing', async () => {
    const card = await openAccount('credit_card', 10_000n);
    const { postingId, result, row } = await post(card, { direction: 'debit', amountMinor: '10001', code: 'card_purchase', description: 'Jeweller' });
    assert.deepEqual(result, { postingId, status: 'failed', reason: 'exceeds_credit_limit' });
    assert.equal(row.failure_reason, 'exceeds_credit_limit');
    assert.deepEqual(await transfersOf(db, card.id), []);
  });

  it('fails a debit beyond a savings balance as insufficient_funds', async () => {
    const savings = await openAccount('savings');
    const { result } = await post(savings, { direction: 'debit', amountMinor: '1', code: 'adjustment', description: 'Correction' });
    assert.equal(result.status === 'failed' && result.reason, 'insufficient_funds');
  });
});
