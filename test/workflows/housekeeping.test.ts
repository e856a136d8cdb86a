import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { ensureHousekeepingSchedules } from '../../src/temporal/client';
import { TASK_QUEUES, scheduleIds } from '../../src/temporal/names';
import { expireIdempotencyKeys, expirePendingHolds } from '../../src/workflows';
import { createLedger } from '../../src/ledger/service';
import { insertCustomer, testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { devServer, testConfig, workflowTestBed } from '../helpers/services';

const HOUR_MS = 3600 * 1000;

describe('expireIdempotencyKeys workflow (time-skipping server)', function () {
  let env: TestWorkflowEnvironment;
  let db: Db;
  /** Bundled once: every test still gets its own worker and task queue. */
  let workflowBundle: WorkflowBundleWithSourceMap;

  before(async function () {
    this.timeout(180_000);
    ({ env, db, workflowBundle } = await workflowTestBed());
  });

  async function runExpiry() {
    const taskQueue = uniqueTaskQueue('housekeeping');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      activities: createActivities(testActivityDeps(db)),
    });
    return worker.runUntil(env.client.workflow.execute(expireIdempotencyKeys, { taskQueue, workflowId: `housekeeping-test:${randomUUID()}`, args: [{}] }));
  }

  /** Inserts `count` completed keys created `ageMs` ago under `scope`; returns their keys. */
  async function insertKeys(scope: string, count: number, ageMs: number): Promise<string[]> {
    const createdAt = new Date(Date.now() - ageMs);
    const rows = Array.from({ length: count }, () => ({
      scope,
      key: randomUUID(),
      method: 'POST',
      route: 'POST /v1/test',
      request_hash: 'h',
      state: 'completed',
      response_status: 201,
      response_headers: '{}',
      response_body: '{}',
      created_at: createdAt,
    }));
    await db('idempotency_keys').insert(rows);
    return rows.map((r) => r.key);
  }

  const keysIn = async (scope: string) => (await db('idempotency_keys').where({ scope }).pluck('key')).sort();
  const uniqueScope = () => `user:housekeeping-${randomUUID()}`;

  it('deletes keys created more than 24 hours ago', async () => {
    const scope = uniqueScope();
    await insertKeys(scope, 3, 25 * HOUR_MS);
    await runExpiry();
    assert.deepEqual(await keysIn(scope), []);
  });

  it('keeps keys created within the last 24 hours', async () => {
    const scope = uniqueScope();
    await insertKeys(scope, 2, 25 * HOUR_MS);
    const recent = await insertKeys(scope, 2, HOUR_MS);
    await runExpiry();
    assert.deepEqual(await keysIn(scope), recent.sort());
  });

  it('reports at least as many deletions as expired keys it found', async () => {
    const scope = uniqueScope();
    await insertKeys(scope, 4, 25 * HOUR_MS);
    await insertKeys(scope, 1, HOUR_MS);
    const { deleted } = await runExpiry();
    assert.ok(deleted >= 4, `deleted ${deleted}`);
  });

  it('deletes more expired keys than fit in one batch', async () => {
    const scope = uniqueScope();
    // One more than the activity's batch of 5,000, so only the loop gets them all.
    await db.raw(
      `insert into idempotency_keys (scope, key, method, route, request_hash, state, created_at)
       select ?, 'k' || n, 'POST', 'POST /v1/test', 'h', 'completed', now() - interval '25 hours'
       from generate_series(1, 5001) as n`,
      [scope],
    );
    const { deleted } = await runExpiry();
    assert.ok(deleted >= 5001, `deleted ${deleted}`);
    assert.deepEqual(await keysIn(scope), []);
  });
});

describe('expirePendingHolds workflow (time-skipping server)', function () {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;

  before(async function () {
    this.timeout(180_000);
    ({ env, db, workflowBundle } = await workflowTestBed());
  });

  it('releases a hold past its timeout and leaves a live one held', async () => {
    const ledger = createLedger(db);
    const userId = await insertCustomer(db);
    const wallet = await ledger.openAccount({ ownerUserId: userId, type: 'wallet', currency: 'USD' });
    const clearing = await ledger.systemAccountId('funding_clearing', 'USD');
    await ledger.createTransfer({ id: randomUUID(), debitAccountId: clearing, creditAccountId: wallet.id, amountMinor: 1_000n, currency: 'USD', code: 'wallet_funding' });
    const hold = (timeoutAt: Date) =>
      ledger.createTransfer({ id: randomUUID(), kind: 'pending', debitAccountId: wallet.id, creditAccountId: clearing, amountMinor: 100n, currency: 'USD', code: 'bill_payment', timeoutAt });
    const expired = await hold(new Date(Date.now() - 1000));
    await hold(new Date(Date.now() + 3_600_000));

    const taskQueue = uniqueTaskQueue('hold-expiry');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(testActivityDeps(db)) });
    const result = await worker.runUntil(env.client.workflow.execute(expirePendingHolds, { taskQueue, workflowId: `hold-expiry-test:${randomUUID()}` }));

    assert.ok(result.expired >= 1);
    const resolution = await db('ledger_pending_resolutions').where({ pending_id: expired.transfer.id }).first('outcome');
    assert.equal(resolution?.outcome, 'expired');
    const after = await ledger.getAccount(wallet.id);
    assert.equal(after?.balances.availableMinor, 900n);
  });
});

describe('ensureHousekeepingSchedules (dev server)', function () {
  let env: TestWorkflowEnvironment;

  before(async function () {
    this.timeout(120_000);
    env = await devServer();
    // Start from no schedule, so the tests see what ensureHousekeepingSchedules creates.
    await env.client.schedule
      .getHandle(scheduleIds.idempotencyKeyExpiry)
      .delete()
      .catch((err: unknown) => {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      });
    await ensureHousekeepingSchedules(env.client, testConfig());
  });

  const describeSchedule = () => env.client.schedule.getHandle(scheduleIds.idempotencyKeyExpiry).describe();

  it('creates a schedule that starts expireIdempotencyKeys on the core task queue', async () => {
    const { action } = await describeSchedule();
    assert.equal(action.type, 'startWorkflow');
    assert.equal(action.workflowType, 'expireIdempotencyKeys');
    assert.equal(action.taskQueue, TASK_QUEUES.core);
  });

  it('runs the schedule every hour and skips a run while the previous one is still going', async () => {
    const { spec, policies } = await describeSchedule();
    assert.deepEqual(
      spec.intervals?.map((i) => i.every),
      [HOUR_MS],
    );
    assert.equal(policies.overlap, ScheduleOverlapPolicy.SKIP);
  });

  it('creates a 15-minute schedule that releases expired pending holds', async () => {
    const { action, spec } = await env.client.schedule.getHandle(scheduleIds.pendingHoldExpiry).describe();
    assert.equal(action.type, 'startWorkflow');
    assert.equal(action.workflowType, 'expirePendingHolds');
    assert.deepEqual(
      spec.intervals?.map((i) => i.every),
      [15 * 60 * 1000],
    );
  });

  it('creates a 5-minute schedule that starts the workflows of requests whose API never did', async () => {
    const { action, spec, policies } = await env.client.schedule.getHandle(scheduleIds.requestStarts).describe();
    assert.deepEqual(
      [action.type, action.type === 'startWorkflow' ? action.workflowType : undefined, spec.intervals?.map((i) => i.every), policies.overlap],
      ['startWorkflow', 'startAbandonedRequests', [5 * 60 * 1000], ScheduleOverlapPolicy.SKIP],
    );
  });

  it('leaves the existing schedule in place when called again', async () => {
    const before = await describeSchedule();
    await ensureHousekeepingSchedules(env.client, testConfig());
    const after = await describeSchedule();
    assert.equal(after.info.createdAt.getTime(), before.info.createdAt.getTime());
  });
});
