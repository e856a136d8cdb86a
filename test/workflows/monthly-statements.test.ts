import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import type { ObjectStorage } from '../../src/providers/storage/port';
import { monthlyStatements } from '../../src/workflows';
import { monthlyStatementsProgressQuery, type MonthlyStatementsInput } from '../../src/workflows/banking/contract';
import { testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { customerWithWallet, uniquePhone } from '../helpers/money';
import { ScheduleAlreadyRunning, ScheduleNotFoundError } from '@temporalio/client';
import { ensureStatementSchedule } from '../../src/temporal/client';
import { TASK_QUEUES, scheduleIds } from '../../src/temporal/names';
import { previousMonth } from '../../src/workflows/banking/monthly-statements';
import { devServer, workflowTestBed } from '../helpers/services';
import { databaseOfItsOwn, freshBucket } from '../helpers/statement-runs';

/**
 * The monthly run over a database of its own (so other tests' accounts do not join
 * it): one statement per active account, pages of accounts across continue-as-new,
 * progress in a query, and exactly once per account and month when run again.
 */
describe('monthlyStatements workflow (time-skipping server)', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;
  let storage: ObjectStorage;
  const month = new Date().toISOString().slice(0, 7);
  const accounts: string[] = [];

  before(async function () {
    this.timeout(600_000);
    ({ env, workflowBundle } = await workflowTestBed());
    [db, storage] = await Promise.all([databaseOfItsOwn('finflow_monthly'), freshBucket('monthly')]);
    for (let i = 0; i < 7; i++) accounts.push((await customerWithWallet(db, { phone: uniquePhone(), balanceMinor: BigInt(1_000 + i) })).wallet.id);
    // A customer without activity gets no statement.
    await customerWithWallet(db, { phone: uniquePhone() });
  });

  after(async () => {
    await db?.destroy();
  });

  async function runMonth(input: MonthlyStatementsInput) {
    const taskQueue = uniqueTaskQueue('monthly');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(testActivityDeps(db, { storage })) });
    return worker.runUntil(async () => {
      const handle = await env.client.workflow.start(monthlyStatements, { taskQueue, workflowId: `statements:monthly:test:${randomUUID()}`, args: [input] });
      const result = await handle.result();
      const firstRun = await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
      return { result, progress: await handle.query(monthlyStatementsProgressQuery), firstRunStatus: firstRun.status.name };
    });
  }

  it('makes one statement per account with activity, in pages across continue-as-new, and reports done / total', async () => {
    const { result, progress, firstRunStatus } = await runMonth({ month, pageSize: 3 });
    assert.deepEqual(result, { month, total: 7, done: 7, failed: 0 });
    assert.equal(firstRunStatus, 'CONTINUED_AS_NEW');
    assert.deepEqual(progress, result);
    const rows = await db('statements').where({ month });
    assert.deepEqual(rows.map((r: { account_id: string }) => r.account_id).sort(), [...accounts].sort());
    assert.ok(rows.every((r: { status: string }) => r.status === 'ready'));
  });

  it('makes no second statement or SMS for any account when the month is run again', async () => {
    const before = await db('notifications').where({ template: 'statement_link' }).count<Array<{ count: string }>>({ count: '*' });
    const { result } = await runMonth({ month, pageSize: 4 });
    assert.deepEqual(result, { month, total: 7, done: 7, failed: 0 });
    assert.equal((await db('statements').where({ month })).length, 7);
    const after = await db('notifications').where({ template: 'statement_link' }).count<Array<{ count: string }>>({ count: '*' });
    assert.equal(after[0]?.count, before[0]?.count);
  });
});

describe('the statement Schedule (dev server)', function () {
  this.timeout(120_000);

  it('starts statementCycles on the core queue at 02:00 UTC every day, queueing backfilled runs', async () => {
    const env = await devServer();
    await ensureStatementSchedule(env.client);
    const { action, spec, policies } = await env.client.schedule.getHandle(scheduleIds.dailyStatements).describe();
    assert.deepEqual(action.type === 'startWorkflow' && [action.workflowType, action.taskQueue], ['statementCycles', TASK_QUEUES.core]);
    assert.deepEqual(
      spec.calendars?.map((c) => [c.dayOfMonth, c.hour, c.minute]),
      [[[{ start: 1, end: 31, step: 1 }], [{ start: 2, end: 2, step: 1 }], [{ start: 0, end: 0, step: 1 }]]],
    );
    assert.equal(policies.overlap, 'BUFFER_ALL');
  });

  it('deletes the calendar-month Schedule it replaces, so the 1st cuts no second set', async () => {
    const env = await devServer();
    await env.client.schedule
      .create({ scheduleId: scheduleIds.monthlyStatements, spec: { calendars: [{ dayOfMonth: 1, hour: 2 }] }, action: { type: 'startWorkflow', workflowType: 'monthlyStatements', taskQueue: TASK_QUEUES.core, args: [{}] } })
      .catch((err: unknown) => {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      });
    await ensureStatementSchedule(env.client);
    await assert.rejects(env.client.schedule.getHandle(scheduleIds.monthlyStatements).describe(), ScheduleNotFoundError);
  });

  it('names the month before the scheduled time, across a year end', () => {
    assert.deepEqual([previousMonth(new Date('2027-01-01T02:00:00Z')), previousMonth(new Date('2026-12-01T02:00:00Z'))], ['2026-12', '2026-11']);
  });
});
