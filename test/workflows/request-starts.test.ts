import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { createLedger } from '../../src/ledger/service';
import { transferIdFrom } from '../../src/ledger/ids';
import { TASK_QUEUES, workflowIds } from '../../src/temporal/names';
import { recordRequestStart } from '../../src/temporal/request-starts';
import type { BankPostingInput } from '../../src/workflows/banking/contract';
import { startAbandonedRequests } from '../../src/workflows';
import { insertCustomer, testActivityDeps } from '../helpers/fixtures';
import { workflowTestBed } from '../helpers/services';

/**
 * A money request whose API process died between claiming its row and starting its
 * workflow: the `finflow-request-starts` Schedule's workflow starts it from the start
 * recorded with the row (docs/reliability.md).
 */
describe('startAbandonedRequests workflow (time-skipping server)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;
  let wallet: string;
  let customerId: string;

  before(async function () {
    this.timeout(180_000);
    ({ env, db, workflowBundle } = await workflowTestBed());
    // Other files' requests (their workflows on other servers) are not this test's to start.
    await db('request_starts').delete();
    customerId = await insertCustomer(db);
    wallet = (await createLedger(db).openAccount({ ownerUserId: customerId, type: 'wallet', currency: 'USD' })).id;
  });

  /** What `claim` writes for a bank posting: the row, `processing`, and its start, claimed `ageSeconds` ago. */
  async function claimPosting(ageSeconds: number, status: 'processing' | 'succeeded' = 'processing'): Promise<{ workflowId: string; postingId: string }> {
    const workflowId = workflowIds.bankPosting(randomUUID());
    const postingId = transferIdFrom(workflowId);
    const input: BankPostingInput = { postingId, customerId, accountId: wallet, direction: 'credit', amountMinor: '700', currency: 'USD', code: 'deposit', description: 'Deposit' };
    await db.transaction(async (trx) => {
      await trx('bank_postings').insert({ id: postingId, workflow_id: workflowId, account_id: wallet, direction: 'credit', amount_minor: '700', currency: 'USD', code: 'deposit', description: 'Deposit', status });
      await recordRequestStart(trx, { table: 'bank_postings', id: postingId, workflowId }, { workflowType: 'bankPosting', input: { ...input }, ids: { customerId, accountId: wallet } });
      await trx('request_starts').where({ workflow_id: workflowId }).update({ created_at: new Date(Date.now() - ageSeconds * 1000) });
    });
    return { workflowId, postingId };
  }

  async function sweep(): Promise<Awaited<ReturnType<typeof startAbandonedRequests>>> {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUES.core,
      workflowBundle,
      activities: createActivities(testActivityDeps(db, { temporal: env.client })),
    });
    return worker.runUntil(async () => {
      const result = await env.client.workflow.execute(startAbandonedRequests, { taskQueue: TASK_QUEUES.core, workflowId: `request-starts-test:${randomUUID()}`, args: [{ olderThanSeconds: 120 }] });
      // The requests it started run to their end on the same worker.
      await Promise.all((await db('request_starts').where('restarts', '>', 0).pluck('workflow_id')).map((id: string) => env.client.workflow.getHandle(id).result().catch(() => undefined)));
      return result;
    });
  }

  const exists = (workflowId: string) =>
    env.client.workflow
      .getHandle(workflowId)
      .describe()
      .then(
        () => true,
        (err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        },
      );

  it('starts the workflow of a request left processing without one, which then carries it out', async () => {
    const abandoned = await claimPosting(600);
    const before = (await createLedger(db).getAccount(wallet))!.balances.postedMinor;
    const result = await sweep();
    assert.ok(result.started >= 1, JSON.stringify(result));
    assert.equal((await db('bank_postings').where({ id: abandoned.postingId }).first('status')).status, 'succeeded');
    assert.equal((await createLedger(db).getAccount(wallet))!.balances.postedMinor, before + 700n);
    assert.deepEqual(await db('request_starts').where({ workflow_id: abandoned.workflowId }).first('restarts'), { restarts: 1 });
  });

  it('leaves a request claimed moments ago to the API that claimed it', async () => {
    const recent = await claimPosting(5);
    await sweep();
    assert.equal(await exists(recent.workflowId), false);
    assert.equal((await db('bank_postings').where({ id: recent.postingId }).first('status')).status, 'processing');
    await db('request_starts').where({ workflow_id: recent.workflowId }).delete();
    await db('bank_postings').where({ id: recent.postingId }).delete();
  });

  it('forgets the start of a request that has ended, and starts nothing for it', async () => {
    const ended = await claimPosting(600, 'succeeded');
    const carriedOut = await claimPosting(600);
    await sweep();
    // The request started by the first run ended: the second run forgets it and starts nothing again.
    const again = await sweep();
    assert.equal(await exists(ended.workflowId), false);
    assert.equal(await db('request_starts').whereIn('workflow_id', [ended.workflowId, carriedOut.workflowId]).first(), undefined);
    assert.equal(again.started, 0, JSON.stringify(again));
  });
});
