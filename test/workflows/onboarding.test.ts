import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { workflowIds } from '../../src/temporal/names';
import { onboarding } from '../../src/workflows';
import { phoneVerified } from '../../src/workflows/platform/contract';
import { WELCOME_WAIT } from '../../src/workflows/platform/onboarding';
import { uniquePhone } from '../helpers/money';
import { insertCustomer, testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { workflowTestBed } from '../helpers/services';

describe('onboarding workflow (time-skipping server)', function () {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;

  before(async function () {
    this.timeout(180_000);
    ({ env, db, workflowBundle } = await workflowTestBed());
  });

  /** Runs onboarding; with `verify`, marks the phone verified and signals it as the confirm route does. */
  async function runOnboarding(customerId: string, { verify = false } = {}) {
    const taskQueue = uniqueTaskQueue('onboarding');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      activities: createActivities(testActivityDeps(db)),
    });
    return worker.runUntil(async () => {
      const handle = await env.client.workflow.start(onboarding, { taskQueue, workflowId: workflowIds.onboarding(customerId), args: [{ customerId }] });
      if (verify) {
        await db('users').where({ id: customerId }).update({ phone_verified_at: new Date() });
        await handle.signal(phoneVerified);
      }
      return handle.result();
    });
  }

  it('records exactly one welcome message for the customer once the phone is verified', async () => {
    const customerId = await insertCustomer(db, { name: 'Grace Hopper', phone: uniquePhone() });
    const result = await runOnboarding(customerId, { verify: true });
    const rows = await db('notifications').where({ user_id: customerId });
    assert.equal(rows.length, 1);
    assert.equal(rows[0].id, result.notificationId);
    assert.equal(rows[0].dedupe_key, `onboarding:${customerId}:welcome`);
    assert.match(rows[0].body, /Welcome to finflow, Grace/);
  });

  it(`sends no welcome to a phone that stays unverified for ${WELCOME_WAIT}`, async () => {
    const customerId = await insertCustomer(db, { phone: uniquePhone() });
    const result = await runOnboarding(customerId);
    assert.equal(result.notificationId, null);
    assert.equal((await db('notifications').where({ user_id: customerId })).length, 0);
  });

  it('sends no welcome when the phone changed (unverified) after the signal', async () => {
    const customerId = await insertCustomer(db, { phone: uniquePhone() });
    const activities = createActivities(testActivityDeps(db));
    const result = await activities.sendWelcome({ customerId, dedupeKey: `onboarding:${customerId}:welcome`, requireVerifiedPhone: true });
    assert.equal(result.notificationId, null);
    assert.equal((await db('notifications').where({ user_id: customerId })).length, 0);
  });

  it('fails as customer_not_found once the customer is still missing after a few attempts', async () => {
    const missing = randomUUID();
    await assert.rejects(runOnboarding(missing, { verify: true }), (err: unknown) => {
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
