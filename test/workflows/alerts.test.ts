import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { transferIdFrom } from '../../src/ledger/ids';
import type { Notifier } from '../../src/providers/notifier';
import { createOutbox } from '../../src/providers/outbox';
import { createSandboxNotifier } from '../../src/providers/sandbox-notifier';
import { dedupeKeys, workflowIds } from '../../src/temporal/names';
import { bankPosting, walletFunding } from '../../src/workflows';
import type { WalletFundingInput } from '../../src/workflows/wallet/contract';
import { testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { customerWithWallet, deposit, transfersOf, uniquePhone } from '../helpers/money';
import { workflowTestBed } from '../helpers/services';

describe('transaction alerts (time-skipping server)', function () {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;

  before(async function () {
    this.timeout(180_000);
    ({ env, db, workflowBundle } = await workflowTestBed());
  });

  async function fundingInput(phone = uniquePhone()) {
    const { userId, wallet } = await customerWithWallet(db, { phone });
    const workflowId = workflowIds.walletFunding(userId, randomUUID());
    const input: WalletFundingInput = {
      fundingId: transferIdFrom(workflowId),
      customerId: userId,
      accountId: wallet.id,
      amountMinor: '2000',
      currency: 'USD',
      source: { type: 'bank_account', token: 'tok_success' },
    };
    return { workflowId, input, userId, wallet, dedupeKey: dedupeKeys.transactionAlert(input.fundingId, wallet.id) };
  }

  const alertRows = (dedupeKey: string) => db('notifications').where({ dedupe_key: dedupeKey });

  it('sends the alert exactly once when the worker dies between posting and sending', async function () {
    this.timeout(120_000);
    const { workflowId, input, wallet, dedupeKey } = await fundingInput();
    const taskQueue = uniqueTaskQueue('alerts-crash');

    // The first worker posts the transfer, then hangs in the alert until it is shut down.
    let alertStarted!: () => void;
    const reachedAlert = new Promise<void>((resolve) => (alertStarted = resolve));
    const first = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      shutdownGraceTime: '100ms',
      // No sticky cache: the time-skipping server never hands a dead worker's sticky
      // queue back to the normal one, and the second worker must rebuild from history.
      maxCachedWorkflows: 0,
      activities: {
        ...createActivities(testActivityDeps(db)),
        sendTransactionAlert: async () => {
          alertStarted();
          // Shutdown cancels the attempt; it ends as a crashed one would: failed, for
          // Temporal to retry (a killed process would time out instead, later).
          await Context.current().cancelled.catch(() => undefined);
          throw new Error('worker went away mid-send');
        },
      },
    });
    const firstRun = first.run();
    const handle = await env.client.workflow.start(walletFunding, { taskQueue, workflowId, args: [input] });
    await reachedAlert;
    assert.equal((await transfersOf(db, wallet.id)).length, 1, 'posted before the crash');
    assert.equal((await alertRows(dedupeKey)).length, 0, 'no alert before the crash');
    first.shutdown();
    await firstRun;

    const second = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(testActivityDeps(db)) });
    const result = await second.runUntil(handle.result());

    assert.equal(result.status, 'succeeded');
    const rows = await alertRows(dedupeKey);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, 'delivered');
    assert.equal((await transfersOf(db, wallet.id)).length, 1, 'one ledger posting');
  });

  it('a repeated alert for the same transfer and account records one message', async () => {
    const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone() });
    const transferId = await deposit(db, wallet.id, 700n);
    const activities = createActivities(testActivityDeps(db));
    const first = await activities.sendTransactionAlert({ transferId, accountId: wallet.id });
    const second = await activities.sendTransactionAlert({ transferId, accountId: wallet.id });
    assert.deepEqual([first.status, second.status], ['sent', 'sent']);
    assert.deepEqual(
      [first.status === 'sent' && first.fresh, second.status === 'sent' && second.fresh],
      [true, false],
    );
    assert.equal((await db('notifications').where({ user_id: userId })).length, 1);
  });

  it('sends nothing to a holder who opted out, and says so in the result', async () => {
    const { workflowId, input, userId } = await fundingInput();
    await db('users').where({ id: userId }).update({ sms_alerts_enabled: false });
    const taskQueue = uniqueTaskQueue('alerts-opt-out');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(testActivityDeps(db)) });
    const result = await worker.runUntil(env.client.workflow.execute(walletFunding, { taskQueue, workflowId, args: [input] }));
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.status === 'succeeded' && result.alerts, [{ accountId: input.accountId, outcome: { status: 'skipped', reason: 'opted_out' } }]);
    assert.equal((await db('notifications').where({ user_id: userId })).length, 0);
  });

  it('records a rejected alert as failed and still completes the money workflow', async () => {
    // The sandbox SMS rejects numbers ending 0001 for good.
    const { workflowId, input, dedupeKey } = await fundingInput('+14155550001');
    const taskQueue = uniqueTaskQueue('alerts-rejected');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(testActivityDeps(db)) });
    const result = await worker.runUntil(env.client.workflow.execute(walletFunding, { taskQueue, workflowId, args: [input] }));
    assert.equal(result.status, 'succeeded');
    const outcome = result.status === 'succeeded' ? result.alerts[0]?.outcome : undefined;
    assert.equal(outcome?.status, 'failed');
    const [row] = await alertRows(dedupeKey);
    assert.equal(row.status, 'failed');
    assert.match(row.error_reason, /does not exist/);
  });

  it('after the last retry fails, records the alert as failed with the reason', async function () {
    this.timeout(120_000);
    const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone() });
    const workflowId = workflowIds.bankPosting(randomUUID());
    const postingId = transferIdFrom(workflowId);
    // A provider that never answers: each attempt claims the message and then fails.
    const sandbox = createSandboxNotifier(db);
    const outbox = createOutbox(db);
    const down: Notifier = {
      send: async (message) => {
        await outbox.claim(message, 'queued');
        throw new Error('provider unreachable');
      },
      sendMany: async (messages) => {
        for (const message of messages) await outbox.claim(message, 'queued');
        throw new Error('provider unreachable');
      },
      recordFailure: (key, reason) => sandbox.recordFailure(key, reason),
    };
    const taskQueue = uniqueTaskQueue('alerts-exhausted');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      activities: createActivities(testActivityDeps(db, { notifier: down })),
    });
    const result = await worker.runUntil(
      env.client.workflow.execute(bankPosting, {
        taskQueue,
        workflowId,
        args: [
          { postingId, customerId: userId, accountId: wallet.id, direction: 'credit', amountMinor: '100', currency: 'USD', code: 'deposit', description: 'Cash' },
        ],
      }),
    );
    assert.equal(result.status, 'succeeded');
    const [row] = await alertRows(dedupeKeys.transactionAlert(postingId, wallet.id));
    assert.equal(row.status, 'failed');
    assert.match(row.error_reason, /provider unreachable/);
  });
});
