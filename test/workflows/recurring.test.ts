import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type Activities } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import type { Frequency } from '../../src/payments/recurring/period';
import { findRecurringPayment } from '../../src/payments/recurring/repository';
import { scheduleIds, workflowIds } from '../../src/temporal/names';
import { recurringPaymentRun } from '../../src/workflows';
import type { RecurringPaymentRunInput } from '../../src/workflows/payments/contract';
import { DUNNING_DELAYS_MS } from '../../src/workflows/payments/recurring';
import { testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { assertLedgerBalanced, balanceOf, deposit } from '../helpers/money';
import { workflowTestBed } from '../helpers/services';
import { RECURRING_AMOUNT_MINOR, recurringPaymentFixture } from '../helpers/recurring';

/**
 * recurringPaymentRun on the time-skipping server, with real PostgreSQL, the real
 * payBill saga as its child and the sandbox biller. The test server has no Schedules,
 * so each run is given its scheduled time, and the Schedule handle the pause activity
 * uses is a recording fake (the real pause is tested in recurring-schedule.test.ts).
 * BrightGrid Power: fee 0.50; reference …55 is paid, …01 is declined.
 */
const AMOUNT = RECURRING_AMOUNT_MINOR;
const FEE = 50n;
/** 09:00 in New York on 2027-03-31 (EDT). */
const MARCH_31 = '2027-03-31T13:00:00.000Z';

describe('recurringPaymentRun workflow (time-skipping server)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;
  let pauses: Array<{ scheduleId: string; note?: string }>;

  before(async function () {
    this.timeout(180_000);
    ({ env, db, workflowBundle } = await workflowTestBed());
  });

  beforeEach(() => {
    pauses = [];
  });

  afterEach(async () => {
    await assertLedgerBalanced(db);
  });

  /** Stands in for `client.schedule`: records each pause. */
  const fakeTemporal = () =>
    ({
      schedule: {
        getHandle: (scheduleId: string) => ({
          pause: async (note?: string) => {
            pauses.push({ scheduleId, note });
          },
        }),
      },
    }) as unknown as Client;

  /** A customer with `balanceMinor` in their wallet and an active recurring payment from it. */
  const recurringPayment = (options: { balanceMinor: bigint; ref?: string; frequency?: Frequency; timezone?: string }) =>
    recurringPaymentFixture(db, options);

  async function run(input: RecurringPaymentRunInput, overrides: (activities: Activities) => Partial<Activities> = () => ({})) {
    const taskQueue = uniqueTaskQueue('recurring');
    const activities = createActivities(testActivityDeps(db, { temporal: fakeTemporal() }));
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: { ...activities, ...overrides(activities) } });
    const workflowId = `${workflowIds.recurringPaymentRun(input.recurringPaymentId)}-${randomUUID()}`;
    return worker.runUntil(env.client.workflow.execute(recurringPaymentRun, { taskQueue, workflowId, args: [input] }));
  }

  const paymentsOf = (id: string) => db('payments').where({ recurring_payment_id: id }).orderBy('created_at');
  const noticesOf = async (userId: string) =>
    (await db('notifications').where({ user_id: userId }).orderBy('created_at')).filter((n) => n.template.startsWith('recurring_payment_'));

  describe('a period', () => {
    it('is paid once by a child payment named after the recurring payment and the period', async () => {
      const { id, wallet } = await recurringPayment({ balanceMinor: 10_000n });
      const result = await run({ recurringPaymentId: id, scheduledAt: MARCH_31 });
      assert.equal(result.status, 'paid');
      assert.equal(result.period, '2027-03');
      const payments = await paymentsOf(id);
      assert.equal(payments.length, 1);
      assert.deepEqual(
        { status: payments[0].status, period: payments[0].period, workflowId: payments[0].workflow_id, id: payments[0].id },
        { status: 'succeeded', period: '2027-03', workflowId: `payment:recurring:${id}:2027-03`, id: result.paymentIds[0] },
      );
      assert.equal((await balanceOf(db, wallet.id)).postedMinor, 10_000n - AMOUNT - FEE);
    });

    it('is not paid again by a second run for the same period', async () => {
      const { id, wallet } = await recurringPayment({ balanceMinor: 10_000n });
      await run({ recurringPaymentId: id, scheduledAt: MARCH_31 });
      const again = await run({ recurringPaymentId: id, scheduledAt: '2027-03-02T14:00:00.000Z' });
      assert.deepEqual(again, { period: '2027-03', status: 'already_paid', paymentIds: [] });
      assert.equal((await paymentsOf(id)).length, 1);
      assert.equal((await balanceOf(db, wallet.id)).postedMinor, 10_000n - AMOUNT - FEE);
    });

    it('of the next month is paid by its own run', async () => {
      const { id } = await recurringPayment({ balanceMinor: 10_000n });
      await run({ recurringPaymentId: id, scheduledAt: MARCH_31 });
      const april = await run({ recurringPaymentId: id, scheduledAt: '2027-04-30T13:00:00.000Z' });
      assert.deepEqual([april.status, april.period], ['paid', '2027-04']);
      assert.deepEqual(
        (await paymentsOf(id)).map((p) => p.period),
        ['2027-03', '2027-04'],
      );
    });

    it('is counted in the customer timezone', async () => {
      // 23:30 UTC on March 31 is already April 1 in Tokyo.
      const { id } = await recurringPayment({ balanceMinor: 10_000n, timezone: 'Asia/Tokyo', frequency: 'quarterly' });
      const result = await run({ recurringPaymentId: id, scheduledAt: '2027-03-31T23:30:00.000Z' });
      assert.deepEqual([result.status, result.period], ['paid', '2027-Q2']);
    });

    it('is not paid while the recurring payment is paused or cancelled', async () => {
      const paused = await recurringPayment({ balanceMinor: 10_000n });
      await db('recurring_payments').where({ id: paused.id }).update({ status: 'paused', paused_reason: 'paused_by_customer' });
      const cancelled = await recurringPayment({ balanceMinor: 10_000n });
      await db('recurring_payments').where({ id: cancelled.id }).update({ status: 'cancelled', cancelled_at: new Date() });
      assert.deepEqual(await run({ recurringPaymentId: paused.id, scheduledAt: MARCH_31 }), { period: '2027-03', status: 'skipped', reason: 'paused', paymentIds: [] });
      assert.deepEqual(await run({ recurringPaymentId: cancelled.id, scheduledAt: MARCH_31 }), {
        period: '2027-03',
        status: 'skipped',
        reason: 'cancelled',
        paymentIds: [],
      });
      assert.equal((await paymentsOf(paused.id)).length + (await paymentsOf(cancelled.id)).length, 0);
    });

    it('that the biller declines fails without dunning', async () => {
      const { id } = await recurringPayment({ balanceMinor: 10_000n, ref: '4820193701' });
      const result = await run({ recurringPaymentId: id, scheduledAt: MARCH_31 });
      assert.deepEqual([result.status, result.reason, result.paymentIds.length], ['failed', 'biller_declined', 1]);
      assert.equal(pauses.length, 0);
      assert.equal((await findRecurringPayment(db, id))?.status, 'active');
    });
  });

  describe('dunning after insufficient funds', () => {
    it('retries after 1 and 3 more days, tells the customer each time, then pauses the Schedule', async () => {
      const { id, userId } = await recurringPayment({ balanceMinor: 100n });
      const result = await run({ recurringPaymentId: id, scheduledAt: MARCH_31 });
      assert.deepEqual([result.status, result.reason, result.paymentIds.length], ['paused', 'insufficient_funds', 3]);

      const payments = await paymentsOf(id);
      assert.deepEqual(
        payments.map((p) => [p.workflow_id, p.status, p.failure_reason]),
        ['', ':retry-1', ':retry-2'].map((suffix) => [`payment:recurring:${id}:2027-03${suffix}`, 'failed', 'insufficient_funds']),
      );
      const started = await Promise.all(payments.map(async (p) => (await env.client.workflow.getHandle(p.workflow_id).describe()).startTime.getTime()));
      assert.ok((started[1] as number) - (started[0] as number) >= DUNNING_DELAYS_MS[0], 'first retry a day later');
      assert.ok((started[2] as number) - (started[1] as number) >= DUNNING_DELAYS_MS[1], 'second retry three days later');

      assert.deepEqual(pauses.map((p) => p.scheduleId), [scheduleIds.recurringPayment(id)]);
      const row = await findRecurringPayment(db, id);
      assert.deepEqual([row?.status, row?.paused_reason, row?.dunning_period, row?.dunning_retries], ['paused', 'insufficient_funds', '2027-03', 2]);

      const notices = await noticesOf(userId);
      assert.deepEqual(
        notices.map((n) => [n.dedupe_key, n.template]),
        [
          [`recurring:${id}:2027-03:retry-1`, 'recurring_payment_retry_scheduled'],
          [`recurring:${id}:2027-03:retry-2`, 'recurring_payment_retry_scheduled'],
          [`recurring:${id}:2027-03:paused`, 'recurring_payment_paused'],
        ],
      );
      assert.match(notices[0].body, /monthly payment of USD 25\.00 to BrightGrid Power for 2027-03 failed: insufficient funds\. We will try again on .* \(retry 1 of 2\)/);
      assert.match(notices[2].body, /after 2 retries\. The recurring payment is paused/);
      // The dunning run is the only one to tell the customer: no second SMS per failed attempt.
      const paymentNotices = await db('notifications').where({ user_id: userId }).where('template', 'like', 'payment_%');
      assert.deepEqual(paymentNotices, []);
    });

    it('stops when a retry is paid, and clears the dunning state', async () => {
      const { id, wallet } = await recurringPayment({ balanceMinor: 100n });
      const result = await run({ recurringPaymentId: id, scheduledAt: MARCH_31 }, (real) => ({
        // The customer tops up after hearing of the failure.
        sendRecurringPaymentNotice: async (input) => {
          await deposit(db, wallet.id, 5_000n);
          return real.sendRecurringPaymentNotice(input);
        },
      }));
      assert.deepEqual([result.status, result.paymentIds.length], ['paid', 2]);
      assert.deepEqual(
        (await paymentsOf(id)).map((p) => p.status),
        ['failed', 'succeeded'],
      );
      const row = await findRecurringPayment(db, id);
      assert.deepEqual([row?.status, row?.dunning_period, row?.next_retry_at], ['active', null, null]);
      assert.equal(pauses.length, 0);
    });

    it('stops without pausing when the customer pauses it while it waits to retry', async () => {
      const { id } = await recurringPayment({ balanceMinor: 100n });
      const result = await run({ recurringPaymentId: id, scheduledAt: MARCH_31 }, (real) => ({
        sendRecurringPaymentNotice: async (input) => {
          await db('recurring_payments').where({ id }).update({ status: 'paused', paused_reason: 'paused_by_customer' });
          return real.sendRecurringPaymentNotice(input);
        },
      }));
      assert.deepEqual([result.status, result.reason, result.paymentIds.length], ['skipped', 'paused', 1]);
      assert.equal(pauses.length, 0);
      assert.equal((await findRecurringPayment(db, id))?.paused_reason, 'paused_by_customer');
    });
  });
});
