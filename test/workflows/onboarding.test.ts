import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { workflowIds } from '../../src/temporal/names';
import { WORKFLOWS_PATH } from '../../src/worker/create-worker';
import { onboarding } from '../../src/workflows';
import { insertCustomer, testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { testDb, timeSkippingServer } from '../helpers/services';

describe('onboarding workflow (time-skipping server)', function () {
  let env: TestWorkflowEnvironment;
  let db: Db;

  before(async function () {
    this.timeout(120_000);
    [env, db] = await Promise.all([timeSkippingServer(), testDb()]);
  });

  async function runOnboarding(customerId: string) {
    const taskQueue = uniqueTaskQueue('onboarding');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities(testActivityDeps(db)),
    });
    return worker.runUntil(
      env.client.workflow.execute(onboarding, { taskQueue, workflowId: workflowIds.onboarding(customerId), args: [{ customerId }] }),
    );
  }

  it('records exactly one welcome message for the customer', async () => {
    const customerId = await insertCustomer(db, { name: 'Grace Hopper', phone: '+14155550199' });
    const result = await runOnboarding(customerId);
    const rows = await db('notifications').where({ user_id: customerId });
    assert.equal(rows.length, 1);
    assert.equal(rows[0].id, result.notificationId);
    assert.equal(rows[0].dedupe_key, `onboarding:${customerId}:welcome`);
    assert.equal(rows[0].recipient, '+14155550199');
    assert.match(rows[0].body, /Welcome to finflow, Grace/);
  });

  it('fails as customer_not_found once the customer is still missing after a few attempts', async () => {
    const missing = randomUUID();
    await assert.rejects(runOnboarding(missing), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const cause = err.cause?.cause;
      assert.ok(cause instanceof ApplicationFailure);
      assert.equal(cause.type, 'customer_not_found');
      return true;
    });
  });

  it('a retried send records the message once', async () => {
    const customerId = await insertCustomer(db);
    const activities = createActivities(testActivityDeps(db));
    const dedupeKey = `onboarding:${customerId}:welcome`;
    const first = await activities.sendWelcome({ customerId, dedupeKey });
    const second = await activities.sendWelcome({ customerId, dedupeKey });
    assert.equal(second.notificationId, first.notificationId);
    assert.deepEqual([first.fresh, second.fresh], [true, false]);
    assert.equal((await db('notifications').where({ dedupe_key: dedupeKey })).length, 1);
  });
});
